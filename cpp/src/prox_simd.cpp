// Element-wise proximal operators; compiled once per SIMD level (see dispatch.hpp).
#include <algorithm>
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

// For k < 1 the Lk prox is solved for a = |x| in the scaled variable u = z / a:
//   minimize 0.5 (u - 1)^2 + tau' u^k,  tau' = tau * a^(k-2),  u in [0, 1],
// where every quantity is O(1) whatever the magnitude of x (and a = inf gives tau' = 0, u = 1;
// a = 0 gives tau' = inf, u = 0). The minimizer is 0 exactly when
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

// The root in [lo, hi] of f(x) = x - b + c x^(k-1), where f(lo) <= 0 <= f(hi): Newton from
// hi, bisecting when a step leaves the bracket. Scalar.
inline double solve_power_equation(double b, double c, double k, double lo, double hi) {
  double x = hi;
  for (int it = 0; it < 200; ++it) {
    const double p = std::pow(x, k - 2.0);
    const double f = (x - b) + c * p * x;
    if (f > 0) hi = x; else lo = x;
    double next = x - f / (1.0 + c * (k - 1.0) * p);
    if (!(next >= lo && next <= hi)) next = 0.5 * (lo + hi);
    if (std::fabs(next - x) <= 0x1p-51 * x || hi - lo <= 0x1p-51 * hi) return next;
    x = next;
  }
  return x;
}

// Any other k < 1, in the scaled variable u in [0, 1].
inline double prox_below_one_scaled(double tau_s, double k, double zero_from) {
  if (!(tau_s < kInf) || tau_s >= zero_from) return 0.0;
  if (tau_s == 0) return 1.0;
  // the nonzero stationary point at the threshold: f < 0 there, the root lies above
  const double lo = std::pow(2.0 * tau_s * (1.0 - k), 1.0 / (2.0 - k));
  return solve_power_equation(1.0, tau_s * k, k, lo, 1.0);
}

// Any other k > 1: the root z of z - a + tau k z^(k-1), solved in z itself. z <= min(a, r) with
// r = (a / (tau k))^(1/(k-1)), and as one of the two terms of a is at least a / 2,
// z >= min(a / 2, r 2^(-1/(k-1))). The bracket comes from logarithms, so it neither overflows
// nor underflows; inside it tau k z^(k-1) <= a, so f is finite, and Newton needs a few steps
// whatever the magnitudes (a in (0, inf), tau > 0). (The scaled form u = z / a overflowed
// tau a^(k-2) and crept towards small roots.)
inline double prox_above_one(double a, double tau, double k) {
  const double log2_root = (std::log2(a) - std::log2(tau * k)) / (k - 1.0);
  const double hi = std::min(a, std::exp2(log2_root));
  const double lo = std::min(0.5 * a, std::exp2(log2_root - 1.0 / (k - 1.0)));
  return solve_power_equation(a, tau * k, k, lo, hi);
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
    // sqrt(z) = a / (h + sqrt(h^2 + a)), h = 3 tau / 4: no intermediate exceeds a (or h^2)
    const T h = static_cast<T>(0.75 * tau), h2 = static_cast<T>(0.5625 * tau * tau);
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      const T a = std::fabs(x[i]);
      const T s = a / (h + std::sqrt(h2 + a));
      const T z = s * s;  // < a exactly; capped, as rounding could push it past a (and to inf)
      y[i] = std::copysign(z < a ? z : a, x[i]);
    }
  } else if (k == 3.0) {  // z + 3 tau z^2 = a
    // z = 2a / (1 + sqrt(1 + c a)), c = 12 tau, for a <= safe. Above, where c a could overflow,
    // divided through by sqrt(a): z = 2 sqrt(a) / (1 / sqrt(a) + sqrt(c + 1 / a)). That costs a
    // sqrt and two divisions more, so only blocks holding such an element (or inf) compute it;
    // each element's formula depends on its own a only.
    const T c = static_cast<T>(12.0 * tau);
    const T safe = std::numeric_limits<T>::max() / (c > T(1) ? c : T(1)) / T(2);
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
        for (std::int64_t i = b; i < e; ++i) {
          const T a = std::fabs(x[i]);
          y[i] = std::copysign(T(2) * a / (T(1) + std::sqrt(T(1) + c * a)), x[i]);
        }
      } else {
#pragma omp simd
        for (std::int64_t i = b; i < e; ++i) {
          const T a = std::fabs(x[i]);
          const T r = std::sqrt(a);
          const T small = T(2) * a / (T(1) + std::sqrt(T(1) + c * a));
          const T large = T(2) * r / (T(1) / r + std::sqrt(c + T(1) / a));
          y[i] = std::copysign(a <= safe ? small : (a == inf ? a : large), x[i]);
        }
      }
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
      double z;
      if (a == 0 || a == kInf) {
        z = a;
      } else if (k > 1) {
        z = prox_above_one(a, tau, k);
      } else {
        z = a * prox_below_one_scaled(tau * std::pow(a, k - 2.0), k, zero_from);
      }
      y[i] = with_sign_of(z, x[i]);
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
