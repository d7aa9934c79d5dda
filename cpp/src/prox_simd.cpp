// Element-wise proximal operators; compiled once per SIMD level (see dispatch.hpp).
#include <cmath>
#include <cstdint>
#include <limits>

#include "prox_kernels.hpp"
#include "simd_math.hpp"

namespace lkreg::LKREG_ISA {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// sign(x) * max(|x| - t, 0) in four vector ops; NaN (from x or t) fails `a <= 0` and propagates.
template <class T>
inline T soft(T x, T t) {
  const T a = std::fabs(x) - t;
  return std::copysign(a <= 0 ? T(0) : a, x);
}

template <class T>
inline T hard(T x, T t) {
  return std::fabs(x) <= t ? T(0) : x;
}

// The Lk prox is solved for a = |x| in the scaled variable u = z / a:
//   minimize 0.5 (u - 1)^2 + tau' u^k,  tau' = tau * a^(k-2),  u in [0, 1],
// where every quantity is O(1) whatever the magnitude of x (and a = inf gives tau' = 0, u = 1;
// a = 0 gives tau' = inf, u = 0). For k < 1 the minimizer is 0 exactly when
// tau' >= zero_from[k] (ties go to 0); above that it is the largest root of
// u - 1 + tau' k u^(k-1) = 0, which Newton reaches from u = 1 monotonically.

// k = 1/2 with s = sqrt(u): s^3 - s + tau'/2 = 0. Zero iff tau' >= (2/3)^(3/2).
// Newton from s = 1 reaches the root to 1e-8 in 4 steps and to 3e-16 in 5 over the whole range
// tau' < (2/3)^(3/2) (checked against 30 steps); one step more for margin.
template <class C>
inline C prox_half_scaled(C tau_s) {
  constexpr int steps = sizeof(C) == 4 ? 5 : 6;
  C s = 1;
  for (int it = 0; it < steps; ++it) s -= (s * s * s - s + C(0.5) * tau_s) / (C(3) * s * s - C(1));
  return tau_s >= C(0.5443310539518174) ? C(0) : s * s;
}

// k = 2/3 with s = u^(1/3): s^4 - s + 2 tau'/3 = 0. Zero iff tau' >= 3/2 * 2^(-4/3).
// Newton from s = 1: 2e-11 after 5 steps, 1.4e-16 after 6; one more for margin.
inline double prox_two_thirds_scaled(double tau_s) {
  double s = 1.0;
  for (int it = 0; it < 7; ++it) {
    const double s3 = s * s * s;
    s -= (s3 * s - s + (2.0 / 3.0) * tau_s) / (4.0 * s3 - 1.0);
  }
  return tau_s >= 0.5952753944880749 ? 0.0 : s * s * s;
}

// Any other k: safeguarded Newton (bisection when a step leaves the bracket). Scalar.
inline double prox_general_scaled(double tau_s, double k, double zero_from) {
  if (!(tau_s < kInf)) return 0.0;
  if (tau_s == 0) return 1.0;
  double lo = 0.0, hi = 1.0;
  if (k < 1) {
    if (tau_s >= zero_from) return 0.0;
    // the nonzero stationary point at the threshold: h < 0 there, the root lies above
    lo = std::pow(2.0 * tau_s * (1.0 - k), 1.0 / (2.0 - k));
  }
  double u = 1.0;
  for (int it = 0; it < 200; ++it) {
    const double p = std::pow(u, k - 2.0);
    const double h = u - 1.0 + tau_s * k * p * u;
    if (h > 0) hi = u; else lo = u;
    const double dh = 1.0 + tau_s * k * (k - 1.0) * p;
    double next = u - h / dh;
    if (!(next >= lo && next <= hi)) next = 0.5 * (lo + hi);
    if (std::fabs(next - u) <= 0x1p-51 * u || hi - lo <= 0x1p-51 * hi) return next;
    u = next;
  }
  return u;
}

template <class T, class C>
inline T with_sign_of(C magnitude, T x) {
  return std::copysign(static_cast<T>(magnitude), x);
}

}  // namespace

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

template <class T>
void soft_threshold_weighted_kernel(const T* x, const T* t, T* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] = soft(x[i], t[i]);
}

template <class T>
void hard_threshold_kernel(const T* x, T t, T* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] = hard(x[i], t);
}

template <class T>
void hard_threshold_weighted_kernel(const T* x, const T* t, T* y, std::int64_t n) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] = hard(x[i], t[i]);
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
  constexpr T inf = std::numeric_limits<T>::infinity();
  if (k == 0.5) {
    const T t = static_cast<T>(tau);
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      const T a = std::fabs(x[i]);
      const T u = prox_half_scaled(t / (a * std::sqrt(a)));
      y[i] = a != a ? x[i] : std::copysign(a * u, x[i]);
    }
  } else if (k == 1.5) {  // z + 1.5 tau sqrt(z) = a: a quadratic in sqrt(z)
    const T b = static_cast<T>(1.5 * tau), b2 = static_cast<T>(2.25 * tau * tau);
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      const T a = std::fabs(x[i]);
      const T s = T(2) * a / (b + std::sqrt(b2 + T(4) * a));
      y[i] = std::copysign(a == inf ? a : s * s, x[i]);
    }
  } else if (k == 3.0) {  // z + 3 tau z^2 = a
    const T c = static_cast<T>(12.0 * tau);
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      const T a = std::fabs(x[i]);
      const T z = T(2) * a / (T(1) + std::sqrt(T(1) + c * a));
      y[i] = std::copysign(a == inf ? a : z, x[i]);
    }
  } else if (std::fabs(k - 2.0 / 3.0) < 1e-15) {
    const PowFixed pow_k_minus_2(k - 2.0);
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      const double a = std::fabs(static_cast<double>(x[i]));
      const double u = prox_two_thirds_scaled(tau * pow_k_minus_2(a));
      y[i] = a != a ? x[i] : with_sign_of(a * u, x[i]);
    }
  } else {
    // zero_from = C^-(2-k) with C = (2(1-k))^(1/(2-k)) + k (2(1-k))^((k-1)/(2-k)), for k < 1
    double zero_from = kInf;
    if (k < 1) {
      const double m = 2.0 * (1.0 - k);
      const double c = std::pow(m, 1.0 / (2.0 - k)) + k * std::pow(m, (k - 1.0) / (2.0 - k));
      zero_from = std::pow(c, -(2.0 - k));
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const double a = std::fabs(static_cast<double>(x[i]));
      if (a != a) {
        y[i] = x[i];
        continue;
      }
      const double u = prox_general_scaled(tau * std::pow(a, k - 2.0), k, zero_from);
      y[i] = with_sign_of(a == kInf ? a : a * u, x[i]);
    }
  }
}

#define LKREG_INSTANTIATE(T)                                                               \
  template void soft_threshold_kernel<T>(const T*, T, T, T*, std::int64_t);                \
  template void soft_threshold_weighted_kernel<T>(const T*, const T*, T*, std::int64_t);   \
  template void hard_threshold_kernel<T>(const T*, T, T*, std::int64_t);                   \
  template void hard_threshold_weighted_kernel<T>(const T*, const T*, T*, std::int64_t);   \
  template void scale_kernel<T>(const T*, T, T*, std::int64_t);                            \
  template void lk_prox_kernel<T>(const T*, double, double, T*, std::int64_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg::LKREG_ISA
