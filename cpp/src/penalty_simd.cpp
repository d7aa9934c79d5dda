// Penalty serial loops; compiled once per SIMD level (see dispatch.hpp). The per-element terms
// are in penalty_terms.hpp (shared with the optimizers). value_and_grad shares work only where
// it pays (one pow for Lk); otherwise it calls grad(), so the two paths give the same gradient
// bits.
#include <cstdint>

#include "penalty_kernels.hpp"
#include "penalty_terms.hpp"

namespace lkreg::LKREG_ISA {
namespace {

// Terms without a shared computation: value and gradient separately.
template <class Term, class T>
inline auto value_grad(const Term& t, T w, double& v, int) -> decltype(t.value_grad(w, v)) {
  return t.value_grad(w, v);
}
template <class Term, class T>
inline T value_grad(const Term& t, T w, double& v, long) {
  v = t.value(w);
  return t.grad(w);
}

template <class T, class Term>
double sum_values(const Term& t, const T* w, std::int64_t n) {
  double acc = 0.0;
#pragma omp simd reduction(+ : acc)
  for (std::int64_t i = 0; i < n; ++i) acc += t.value(w[i]);
  return acc;
}

template <class T, class Term>
void write_grad(const Term& t, const T* w, T* g, std::int64_t n, bool accumulate) {
  if (accumulate) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) g[i] += t.grad(w[i]);
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) g[i] = t.grad(w[i]);
  }
}

template <class T, class Term>
double write_value_and_grad(const Term& t, const T* w, T* g, std::int64_t n, bool accumulate) {
  double acc = 0.0;
  if (accumulate) {
#pragma omp simd reduction(+ : acc)
    for (std::int64_t i = 0; i < n; ++i) {
      double v;
      g[i] += value_grad(t, w[i], v, 0);
      acc += v;
    }
  } else {
#pragma omp simd reduction(+ : acc)
    for (std::int64_t i = 0; i < n; ++i) {
      double v;
      g[i] = value_grad(t, w[i], v, 0);
      acc += v;
    }
  }
  return acc;
}

}  // namespace

template <class T>
double penalty_value_kernel(const PenaltyParams& p, const T* w, std::int64_t n) {
  return with_term<T>(p, [&](const auto& t) { return sum_values(t, w, n); });
}

template <class T>
void penalty_grad_kernel(const PenaltyParams& p, const T* w, T* g, std::int64_t n,
                         bool accumulate) {
  with_term<T>(p, [&](const auto& t) { write_grad(t, w, g, n, accumulate); });
}

template <class T>
double penalty_value_and_grad_kernel(const PenaltyParams& p, const T* w, T* g, std::int64_t n,
                                     bool accumulate) {
  return with_term<T>(p, [&](const auto& t) { return write_value_and_grad(t, w, g, n, accumulate); });
}

#define LKREG_INSTANTIATE(T)                                                                  \
  template double penalty_value_kernel<T>(const PenaltyParams&, const T*, std::int64_t);      \
  template void penalty_grad_kernel<T>(const PenaltyParams&, const T*, T*, std::int64_t, bool); \
  template double penalty_value_and_grad_kernel<T>(const PenaltyParams&, const T*, T*,        \
                                                   std::int64_t, bool);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg::LKREG_ISA
