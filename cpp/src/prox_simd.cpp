// Element-wise proximal operators; compiled once per SIMD level (see dispatch.hpp). The scalar
// formulas live in prox_terms.hpp (shared with the optimizer steps and the solvers); this file
// holds the loops around them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "prox_kernels.hpp"
#include "prox_terms.hpp"
#include "simd_math.hpp"

namespace lkreg::LKREG_ISA {

template <class T>
void soft_threshold_kernel(const T* x, T t, T c, T* y, std::int64_t n) {
  if (c == T(1)) {  // in place this runs at memory speed only without the extra multiply
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) y[i] = soft(x[i], t);
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) y[i] = c * soft(x[i], t);
  }
}

namespace {
// y[i] = op(x[i], t[i]), with the sign check riding in the same vector loop (one compare and OR
// per lane, no second pass): whether every t[i] is >= 0.
template <class T, class Op>
inline bool weighted_threshold(const T* x, const T* t, T* y, std::int64_t n, Op op) {
  int negative = 0;
#pragma omp simd reduction(| : negative)
  for (std::int64_t i = 0; i < n; ++i) {
    y[i] = op(x[i], t[i]);
    negative |= t[i] < 0;
  }
  return negative == 0;
}
}  // namespace

template <class T>
bool soft_threshold_weighted_kernel(const T* x, const T* t, T* y, std::int64_t n) {
  return weighted_threshold(x, t, y, n, [](T xi, T ti) { return soft(xi, ti); });
}

template <class T>
void hard_threshold_kernel(const T* x, T t, T* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] = hard(x[i], t);
}

template <class T>
bool hard_threshold_weighted_kernel(const T* x, const T* t, T* y, std::int64_t n) {
  return weighted_threshold(x, t, y, n, [](T xi, T ti) { return hard(xi, ti); });
}

template <class T>
void scale_kernel(const T* x, T c, T* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] = c * x[i];
}

// tau > 0 and k not in {1, 2} (the drivers route those to soft_threshold and scale).
// k = 1/2, 3/2 and 3 compute in T (float32 keeps 16 lanes); the others in double.
template <class T>
void lk_prox_kernel(const T* x, double k, double tau, T* y, std::int64_t n) {
  const PenaltyParams p{PenaltyKind::Lk, tau, k, 0.0};
  if (k == 3.0 && coefficient_fits<T>(12.0 * tau)) {  // else with_prox_term's double form
    // The overflow-safe form costs a sqrt and two divisions more, so only blocks holding an
    // element above cube_safe (or inf) compute it; each element's formula depends on its own
    // |x| only, so the split changes no bit.
    const T c = static_cast<T>(12.0 * tau);
    const T safe = cube_safe(c);
    constexpr std::int64_t kBlock = 1024;  // in L1 between the scan and the solve
    for (std::int64_t b = 0; b < n; b += kBlock) {
      const std::int64_t e = std::min(n, b + kBlock);
      T largest = 0;
#pragma omp simd reduction(max : largest)
      for (std::int64_t i = b; i < e; ++i) {
        const T a = std::fabs(x[i]);
        largest = a > largest ? a : largest;  // NaN is skipped: the fast form propagates it
      }
      if (largest <= safe) {
#pragma omp simd
        for (std::int64_t i = b; i < e; ++i)
          y[i] = std::copysign(prox_cube_small(std::fabs(x[i]), c), x[i]);
      } else {
#pragma omp simd
        for (std::int64_t i = b; i < e; ++i)
          y[i] = std::copysign(prox_cube_any(std::fabs(x[i]), c), x[i]);
      }
    }
    return;
  }
  with_prox_term<T>(p, 1.0, [&](const auto& term) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) y[i] = term(x[i]);
  });
}

// y = prox(x, step[i]) for the penalty p (canonical), one step per element; a zero step is
// the identity exactly (as a zero scalar step is), whatever rounding a closed form has.
template <class T>
void penalty_prox_steps_kernel(const PenaltyParams& p, const T* x, const T* step, T* y,
                               std::int64_t n) {
  with_prox_term<T>(p, 1.0, [&](const auto& term) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      const T moved = term(x[i], step[i]);
      y[i] = step[i] == T(0) ? x[i] : moved;
    }
  });
}

template <class T>
void subdiff_distance_kernel(const PenaltyParams& p, const T* w, const T* g, T* d,
                             std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i)
    d[i] = static_cast<T>(subdiff_distance_1d(p, static_cast<double>(w[i]),
                                              static_cast<double>(g[i])));
}

#define LKREG_INSTANTIATE(T)                                                               \
  template void soft_threshold_kernel<T>(const T*, T, T, T*, std::int64_t);                \
  template bool soft_threshold_weighted_kernel<T>(const T*, const T*, T*, std::int64_t);   \
  template void hard_threshold_kernel<T>(const T*, T, T*, std::int64_t);                   \
  template bool hard_threshold_weighted_kernel<T>(const T*, const T*, T*, std::int64_t);   \
  template void scale_kernel<T>(const T*, T, T*, std::int64_t);                            \
  template void lk_prox_kernel<T>(const T*, double, double, T*, std::int64_t);             \
  template void penalty_prox_steps_kernel<T>(const PenaltyParams&, const T*, const T*, T*, \
                                             std::int64_t);                                \
  template void subdiff_distance_kernel<T>(const PenaltyParams&, const T*, const T*, T*,   \
                                           std::int64_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg::LKREG_ISA
