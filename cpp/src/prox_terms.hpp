// Scalar proximal terms: prox(x, step) = argmin_z 0.5 (z - x)^2 + step * r(z) of one element,
// for every element-wise penalty description (lkreg/penalty.hpp), next to penalty_terms.hpp's
// values and gradients. The one place these formulas live: the element prox kernels
// (prox_simd.cpp), the fused optimizer steps (optim_simd.cpp) and coordinate-descent solvers
// include this header. Included only by SIMD sources, so everything lands in lkreg::LKREG_ISA
// (an out-of-line copy shared between levels could be merged into the AVX-512 one).
//
// Each term is built once per call from a description and a step factor `scale` (folded into
// its coefficients in double, rounded to T once) and then offers
//   T operator()(T x) const          prox with the step `scale` (uniform steps: SGD, prox(w, lr))
//   T operator()(T x, T s) const     prox with the step `scale * s` (a per-coordinate step:
//                                    preconditioned optimizers, penalty.prox(w, step_array))
// Both vectorize inside `#pragma omp simd` loops except PowerProx (a safeguarded Newton).
// For a single scalar (a coordinate-descent update), prox_1d(description, x, step) below.
// Ties between 0 and a nonzero minimizer go to 0; NaN in x propagates.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "lkreg/penalty.hpp"
#include "simd_math.hpp"

#ifndef LKREG_ISA
#error "prox_terms.hpp belongs to the per-ISA kernel sources (LKREG_ISA undefined)"
#endif

namespace lkreg::LKREG_ISA {
namespace {

constexpr double kProxInf = std::numeric_limits<double>::infinity();

// sign(x) * max(|x| - t, 0) in four vector ops; NaN (from x or t) fails `a <= 0` and propagates.
template <class T>
inline T soft(T x, T t) {
  const T a = std::fabs(x) - t;
  return std::copysign(a <= 0 ? T(0) : a, x);
}

// x where |x| > t, else 0 (NaN kept).
template <class T>
inline T hard(T x, T t) {
  return std::fabs(x) <= t ? T(0) : x;
}

// For k < 1 the Lk prox is solved for a = |x| in the scaled variable u = z / a:
//   minimize 0.5 (u - 1)^2 + tau' u^k,  tau' = tau * a^(k-2),  u in [0, 1],
// where every quantity is O(1) whatever the magnitude of x (and a = inf gives tau' = 0, u = 1;
// a = 0 gives tau' = inf, u = 0). The minimizer is 0 exactly when tau' >= zero_from[k] (ties go
// to 0); above that it is the largest root of u - 1 + tau' k u^(k-1) = 0, which Newton reaches
// from u = 1 monotonically.

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
// hi, bisecting when a step leaves the bracket. Scalar, in R (double, or long double where
// c x^(k-2) leaves double's range: see power_root).
template <class R>
inline R solve_power_equation(R b, R c, R k, R lo, R hi) {
  constexpr R tol = std::numeric_limits<R>::epsilon() * R(2);
  R x = hi;
  for (int it = 0; it < 200; ++it) {
    const R p = std::pow(x, k - R(2));
    const R f = (x - b) + c * p * x;
    if (f > 0) hi = x; else lo = x;
    R next = x - f / (R(1) + c * (k - R(1)) * p);
    if (!(next >= lo && next <= hi)) next = R(0.5) * (lo + hi);
    if (std::fabs(next - x) <= tol * x || hi - lo <= tol * hi) return next;
    x = next;
  }
  return x;
}

// True when c x^(k-2) and c x^(k-1) (and (k - 1) times them) stay normal doubles over
// [lo, hi]: x^e is monotone, so the ends decide, and Newton in double is exact to rounding.
inline bool power_terms_fit_double(double c, double k, double lo, double hi) {
  constexpr double small = std::numeric_limits<double>::min();
  const double big = std::numeric_limits<double>::max() / (2.0 + k);
  for (const double x : {lo, hi})
    for (const double e : {k - 2.0, k - 1.0}) {
      const double t = c * std::pow(x, e);
      if (!(t >= small && t <= big)) return false;
    }
  return true;
}

// solve_power_equation in double where that is exact, else in long double (x87 on x86-64:
// 64-bit mantissa, exponents to 2^16383, so c x^(k-2) neither overflows nor loses digits to
// subnormals; an overflowing x^(k-2) used to send Newton to the low end of its bracket).
// In long double, the result is also compared with its lower neighbour on the objective
// 0.5 (x - b)^2 + c_tau x^k itself: rounding can put the root just outside the bracket (k =
// 1e308: the root 1 - 7e-306 rounds to the bracket [1, 1]), where the float below is far better.
inline double power_root(double b, double c_tau, double k, double lo, double hi) {
  if (power_terms_fit_double(c_tau * k, k, lo, hi))
    return solve_power_equation<double>(b, c_tau * k, k, lo, hi);
  using L = long double;
  const double z = static_cast<double>(
      solve_power_equation<L>(b, static_cast<L>(c_tau) * static_cast<L>(k), k, lo, hi));
  if (!(z > 0)) return z;
  const double below = std::nextafter(z, 0.0);
  const auto objective = [&](double v) {
    const L d = static_cast<L>(v) - static_cast<L>(b);
    return L(0.5) * d * d + static_cast<L>(c_tau) * std::pow(static_cast<L>(v), static_cast<L>(k));
  };
  return objective(below) < objective(z) ? below : z;
}

// zero_from = C^-(2-k) with C = (2(1-k))^(1/(2-k)) + k (2(1-k))^((k-1)/(2-k)), for k < 1: the
// scaled strength from which 0 is the global minimizer. inf for k >= 1 (never exactly 0).
inline double lk_zero_from(double k) {
  if (!(k < 1)) return kProxInf;
  const double m = 2.0 * (1.0 - k);
  const double c = std::pow(m, 1.0 / (2.0 - k)) + k * std::pow(m, (k - 1.0) / (2.0 - k));
  return std::pow(c, -(2.0 - k));
}

// Any other k < 1, in the scaled variable u in [0, 1].
inline double prox_below_one_scaled(double tau_s, double k, double zero_from) {
  if (!(tau_s < kProxInf) || tau_s >= zero_from) return 0.0;
  if (tau_s == 0) return 1.0;
  // the nonzero stationary point at the threshold: f < 0 there, the root lies above
  const double lo = std::pow(2.0 * tau_s * (1.0 - k), 1.0 / (2.0 - k));
  return power_root(1.0, tau_s, k, lo, 1.0);
}

// Any other k > 1: the root z of z - a + tau k z^(k-1), solved in z itself. z <= min(a, r) with
// r = (a / (tau k))^(1/(k-1)), and as one of the two terms of a is at least a / 2,
// z >= min(a / 2, r 2^(-1/(k-1))). The bracket comes from logarithms, so it neither overflows
// nor underflows; inside it tau k z^(k-1) <= a, so f is finite, and Newton needs a few steps
// whatever the magnitudes (a in (0, inf), tau > 0). (The scaled form u = z / a overflowed
// tau a^(k-2) and crept towards small roots.)
//
// exp2 of a logarithm is off by up to |log2_root| ulps, so both ends are widened by 2^-40
// (a root just above hi was returned as hi: 1e-14 low for |w| = 1e55).
inline double prox_above_one(double a, double tau, double k) {
  const double log2_root = (std::log2(a) - std::log2(tau) - std::log2(k)) / (k - 1.0);
  const double hi = std::min(a, std::exp2(log2_root) * (1.0 + 0x1p-40));
  const double lo = std::min(0.5 * a, std::exp2(log2_root - 1.0 / (k - 1.0)) * (1.0 - 0x1p-40));
  return power_root(a, tau, k, lo, hi);
}

// |prox| for any k > 0 other than the closed forms, a = |x| not NaN, tau >= 0. Scalar.
// tau a^(k-2) as (tau / a) (a^k / a): a^(k-2) alone overflows for tiny a and underflows (to
// subnormals, losing digits) for huge a, where tau can still be of the order of a^(2-k); and
// a^(k-1) would take the rounding of k - 1 times ln a (2e-14 relative at a = 1e176, k = 0.3),
// where a^k / a is exact to two roundings and, for k < 1, in range for every a.
inline double lk_prox_magnitude(double a, double k, double tau, double zero_from) {
  if (a == 0 || a == kProxInf || tau == 0) return a;
  if (k > 1) return prox_above_one(a, tau, k);
  return a * prox_below_one_scaled((tau / a) * (std::pow(a, k) / a), k, zero_from);
}

// k = 3: z + 3 tau z^2 = a, with c = 12 tau. z = 2a / (1 + sqrt(1 + c a)) while c a cannot
// overflow (a <= cube_safe(c)); above, divided through by sqrt(a).
template <class T>
inline T cube_safe(T c) {
  return std::numeric_limits<T>::max() / (c > T(1) ? c : T(1)) / T(2);
}
template <class T>
inline T prox_cube_small(T a, T c) {
  return T(2) * a / (T(1) + std::sqrt(T(1) + c * a));
}
template <class T>
inline T prox_cube_any(T a, T c) {
  const T r = std::sqrt(a);
  const T large = T(2) * r / (T(1) / r + std::sqrt(c + T(1) / a));
  return a <= cube_safe(c) ? prox_cube_small(a, c)
                           : (a == std::numeric_limits<T>::infinity() ? a : large);
}

// k = 3/2: z + 1.5 tau sqrt(z) = a, a quadratic in sqrt(z): sqrt(z) = s = a / (h + r),
// r = sqrt(h^2 + a), h = 3 tau / 4. Where the shrink is small (h <= r / 4, so s >= 3r/4),
// z = a (r - h) / (r + h) (s * s would round a tiny shrink to a whole ulp: prox(1e100, 1e-300)
// was nextafter(1e100, 0)); where it is large, s * s (no cancellation; 0 when s underflows).
// Both share the denominator, so each element costs one division. No multiply feeds an add,
// so no level contracts one into an FMA: the bits are the same at every SIMD level. Capped at
// a (inf stays inf, NaN stays NaN).
template <class T>
inline T three_halves_from_root(T a, bool small_shrink, T r_minus_h, T s_numerator, T den) {
  const T q = (small_shrink ? r_minus_h : s_numerator) / den;
  const T z = small_shrink ? a * q : q * q;
  return z < a ? z : a;
}
// h^2 overflows above sqrt(max): from there (h > three_halves_large<T>) the root is taken with
// t = r / h = sqrt(1 + a / h^2) as s = (a / h) / (1 + t), whose intermediates stay below a / h.
template <class T>
constexpr T three_halves_large = sizeof(T) == 4 ? T(0x1p32) : T(0x1p256);
template <class T>
inline T prox_three_halves(T a, T h, T h2) {
  const T r = std::sqrt(h2 + a);
  return three_halves_from_root(a, h <= T(0.25) * r, r - h, a, r + h);
}
template <class T>
inline T prox_three_halves_large_h(T a, T h) {
  const T q = a / h;
  const T t = std::sqrt(T(1) + q / h);
  return three_halves_from_root(a, T(1) <= T(0.25) * t, t - T(1), q, t + T(1));
}
template <class T>
inline T prox_three_halves_any(T a, T h) {  // per-coordinate h: either form per element
  return h > three_halves_large<T> ? prox_three_halves_large_h(a, h)
                                   : prox_three_halves(a, h, h * h);
}

// ------------------------------------------------------------------------------------------
// The terms. `scale` multiplies every step (the uniform step itself, or 1 when each coordinate
// brings its own).

template <class T>
struct SoftProx {  // L1: soft-threshold at step * lam
  T t;
  SoftProx(double lam, double scale) : t(static_cast<T>(scale * lam)) {}
  T operator()(T x) const { return soft(x, t); }
  T operator()(T x, T s) const { return soft(x, t * s); }
};

template <class T>
struct ElasticNetProx {  // soft(x, step * l1) / (1 + 2 step l2)
  T t, c, c2;
  ElasticNetProx(double l1, double l2, double scale)
      : t(static_cast<T>(scale * l1)),
        c(static_cast<T>(1.0 / (1.0 + 2.0 * scale * l2))),
        c2(static_cast<T>(2.0 * scale * l2)) {}
  T operator()(T x) const { return c * soft(x, t); }
  T operator()(T x, T s) const { return soft(x, t * s) / (T(1) + c2 * s); }
};

template <class T>
struct ShrinkProx {  // L2: x / (1 + 2 step lam)
  T c, c2;
  ShrinkProx(double lam, double scale)
      : c(static_cast<T>(1.0 / (1.0 + 2.0 * scale * lam))), c2(static_cast<T>(2.0 * scale * lam)) {}
  T operator()(T x) const { return c * x; }
  T operator()(T x, T s) const { return x / (T(1) + c2 * s); }
};

template <class T>
struct HardProx {  // L0: keep x iff 0.5 x^2 > step * lam, i.e. |x| > sqrt(2 step lam)
  T t, c;
  HardProx(double lam, double scale)
      : t(static_cast<T>(std::sqrt(2.0 * scale * lam))), c(static_cast<T>(2.0 * scale * lam)) {}
  T operator()(T x) const { return hard(x, t); }
  T operator()(T x, T s) const { return hard(x, std::sqrt(c * s)); }
};

// True when the step coefficient v (a double) is a normal T or 0: the closed forms of float32
// compute in float lanes then; a coefficient that float32 rounds to 0 or inf or to a
// subnormal (losing digits) makes with_prox_term take the double form instead (InDouble).
template <class T>
inline bool coefficient_fits(double v) {
  return v == 0 || (v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max());
}

// A double term applied to float32 elements: for coefficients outside float32's normal range
// and for per-coordinate steps, whose product with the coefficient float32 cannot hold.
template <class T, class DoubleTerm>
struct InDouble {
  DoubleTerm term;
  T operator()(T x) const { return static_cast<T>(term(static_cast<double>(x))); }
  T operator()(T x, T s) const {
    return static_cast<T>(term(static_cast<double>(x), static_cast<double>(s)));
  }
};
template <class T, class DoubleTerm>
InDouble<T, DoubleTerm> in_double(const DoubleTerm& term) {
  return InDouble<T, DoubleTerm>{term};
}

// k = 1/2, in T (float32 keeps its lanes). tau' = (tau / a) / sqrt(a): tau / a^(3/2) as one
// division overflowed a^(3/2) for large a (tau' became 0 where it is O(1)) and underflowed it
// for small a; the order here is exact wherever tau' matters (see lk_prox_magnitude). 0, inf
// and NaN return x (0 * inf and inf / inf would be NaN).
template <class T>
struct HalfProx {
  T tau;
  double tau_wide;
  HalfProx(double lam, double scale) : tau(static_cast<T>(scale * lam)), tau_wide(scale * lam) {}
  T operator()(T x) const { return at(x, tau); }
  T operator()(T x, T s) const {
    if constexpr (std::is_same_v<T, double>) {
      return at(x, tau * s);
    } else {
      return static_cast<T>(HalfProx<double>::at(x, tau_wide * static_cast<double>(s)));
    }
  }
  static T at(T x, T tau) {
    const T a = std::fabs(x);
    const T u = prox_half_scaled((tau / a) / std::sqrt(a));
    return (a == 0 || !(a < std::numeric_limits<T>::infinity())) ? x : std::copysign(a * u, x);
  }
};

// k = 3/2; kLargeH: the uniform h is above three_halves_large (with_prox_term decides per call).
template <class T, bool kLargeH = false>
struct ThreeHalvesProx {
  T h, h2;
  double h_wide;
  ThreeHalvesProx(double lam, double scale)
      : h(static_cast<T>(0.75 * scale * lam)),
        h2(kLargeH ? T(0) : static_cast<T>((0.75 * scale * lam) * (0.75 * scale * lam))),
        h_wide(0.75 * scale * lam) {}
  T operator()(T x) const {
    const T a = std::fabs(x);
    return std::copysign(kLargeH ? prox_three_halves_large_h(a, h) : prox_three_halves(a, h, h2),
                         x);
  }
  T operator()(T x, T s) const {
    if constexpr (std::is_same_v<T, double>) {
      return std::copysign(prox_three_halves_any(std::fabs(x), h * s), x);
    } else {
      const double a = std::fabs(static_cast<double>(x));
      return std::copysign(static_cast<T>(prox_three_halves_any(a, h_wide * s)), x);
    }
  }
};

template <class T>
struct CubeProx {  // k = 3
  T c;
  double c_wide;
  CubeProx(double lam, double scale)
      : c(static_cast<T>(12.0 * scale * lam)), c_wide(12.0 * scale * lam) {}
  T operator()(T x) const { return std::copysign(prox_cube_any(std::fabs(x), c), x); }
  T operator()(T x, T s) const {
    if constexpr (std::is_same_v<T, double>) {
      return std::copysign(prox_cube_any(std::fabs(x), c * s), x);
    } else {
      const double a = std::fabs(static_cast<double>(x));
      return std::copysign(static_cast<T>(prox_cube_any(a, c_wide * s)), x);
    }
  }
};

template <class T>
struct TwoThirdsProx {  // k = 2/3, in double through a vectorized pow
  double tau;
  PowFixed pow_k;
  TwoThirdsProx(double lam, double scale) : tau(scale * lam), pow_k(2.0 / 3.0) {}
  T operator()(T x) const { return at(x, tau); }
  T operator()(T x, T s) const { return at(x, tau * static_cast<double>(s)); }
  T at(T x, double t) const {  // tau a^(-4/3) as (tau / a) (a^k / a): see lk_prox_magnitude
    const double a = std::fabs(static_cast<double>(x));
    const double u = prox_two_thirds_scaled((t / a) * (pow_k(a) / a));
    return (a == 0 || !(a < kProxInf)) ? x : std::copysign(static_cast<T>(a * u), x);
  }
};

template <class T>
struct PowerProx {  // any other k > 0: safeguarded Newton in double (scalar)
  double k, tau, zero_from;
  PowerProx(double k_, double lam, double scale)
      : k(k_), tau(scale * lam), zero_from(lk_zero_from(k_)) {}
  T operator()(T x) const { return at(x, tau); }
  T operator()(T x, T s) const { return at(x, tau * static_cast<double>(s)); }
  T at(T x, double t) const {
    const double a = std::fabs(static_cast<double>(x));
    if (a != a) return x;
    return std::copysign(static_cast<T>(lk_prox_magnitude(a, k, t, zero_from)), x);
  }
};

// The Lk term for k (not 1 or 2: canonical() makes those L1 and L2).
inline bool is_two_thirds(double k) { return std::fabs(k - 2.0 / 3.0) < 1e-15; }

// Calls f with the prox term of description p (canonical, see penalty_kernels.hpp) and step
// factor `scale`. kSmooth = false leaves out the terms of smooth penalties (L2, Lk with k > 1),
// for callers that add those penalties' gradients instead (optimizers).
template <class T, bool kSmooth = true, class F>
void with_prox_term(const PenaltyParams& p, double scale, const F& f) {
  switch (p.kind) {
    case PenaltyKind::L1:
      return f(SoftProx<T>(p.lam, scale));
    case PenaltyKind::ElasticNet:
      return f(ElasticNetProx<T>(p.lam, p.l2, scale));
    case PenaltyKind::L0:
      return f(HardProx<T>(p.lam, scale));
    case PenaltyKind::L2:
      if constexpr (kSmooth) return f(ShrinkProx<T>(p.lam, scale));
      return;
    case PenaltyKind::Lk:
      break;
  }
  constexpr bool kFloat = std::is_same_v<T, float>;
  const double tau = scale * p.lam;
  if (p.k == 0.5) {
    if constexpr (kFloat)
      if (!coefficient_fits<T>(tau)) return f(in_double<T>(HalfProx<double>(p.lam, scale)));
    return f(HalfProx<T>(p.lam, scale));
  }
  if (is_two_thirds(p.k)) return f(TwoThirdsProx<T>(p.lam, scale));
  if constexpr (kSmooth) {
    if (p.k == 1.5) {
      if constexpr (kFloat)
        if (!coefficient_fits<T>(0.75 * tau))
          return 0.75 * tau > three_halves_large<double>
                     ? f(in_double<T>(ThreeHalvesProx<double, true>(p.lam, scale)))
                     : f(in_double<T>(ThreeHalvesProx<double>(p.lam, scale)));
      if (0.75 * tau > three_halves_large<T>) return f(ThreeHalvesProx<T, true>(p.lam, scale));
      return f(ThreeHalvesProx<T>(p.lam, scale));
    }
    if (p.k == 3.0) {
      if constexpr (kFloat)
        if (!coefficient_fits<T>(12.0 * tau)) return f(in_double<T>(CubeProx<double>(p.lam, scale)));
      return f(CubeProx<T>(p.lam, scale));
    }
  }
  return f(PowerProx<T>(p.k, p.lam, scale));
}

// prox of one scalar with step `step` (>= 0) for description p (canonical): what a
// coordinate-descent update calls. The switch runs per call; loops over many elements should
// take with_prox_term once instead.
template <class T>
T prox_1d(const PenaltyParams& p, T x, double step) {
  T result = x;
  with_prox_term<T>(p, step, [&](const auto& term) { result = term(x); });
  return result;
}

// Distance from -g to the subdifferential of the penalty at w (one coordinate): 0 exactly when
// w is a stationary point of loss + penalty along this coordinate, given the loss gradient g.
// Convex kinds: the usual subdifferential; L0 and Lk with k < 1: the limiting one, which is all
// of R at w = 0 (so 0 there) and the gradient elsewhere. Computed in double.
inline double subdiff_distance_1d(const PenaltyParams& p, double w, double g) {
  const double sign = w > 0 ? 1.0 : (w < 0 ? -1.0 : 0.0);
  switch (p.kind) {
    case PenaltyKind::L1:
      return w == 0 ? std::max(0.0, std::fabs(g) - p.lam) : std::fabs(g + p.lam * sign);
    case PenaltyKind::ElasticNet:
      return w == 0 ? std::max(0.0, std::fabs(g) - p.lam)
                    : std::fabs(g + p.lam * sign + 2.0 * p.l2 * w);
    case PenaltyKind::L2:
      return std::fabs(g + 2.0 * p.lam * w);
    case PenaltyKind::L0:
      return w == 0 ? 0.0 : std::fabs(g);
    case PenaltyKind::Lk:
      break;
  }
  if (w == 0) return p.k < 1 ? 0.0 : std::fabs(g);
  return std::fabs(g + p.lam * p.k * std::pow(std::fabs(w), p.k - 1.0) * sign);
}

// The right derivative of one coordinate's penalty at w, for the convex kinds (L1, elastic
// net, L2, Lk with k >= 1); the left derivative at w is -right_derivative_1d(p, -w).
inline double right_derivative_1d(const PenaltyParams& p, double w) {
  const double sign = w >= 0 ? 1.0 : -1.0;
  switch (p.kind) {
    case PenaltyKind::L1:
      return p.lam * sign;
    case PenaltyKind::ElasticNet:
      return p.lam * sign + 2.0 * p.l2 * w;
    case PenaltyKind::L2:
      return 2.0 * p.lam * w;
    case PenaltyKind::L0:
      return 0.0;  // not convex: not used
    case PenaltyKind::Lk:
      break;
  }
  if (w == 0) return p.k == 1.0 ? p.lam : 0.0;
  return p.lam * p.k * std::pow(std::fabs(w), p.k - 1.0) * sign;
}

// penalty(to) - penalty(from) of one coordinate without the cancellation of two values (a
// line search near the optimum compares changes far below the penalty's size): |to|^k - |from|^k
// as |from|^k expm1(k log1p((|to| - |from|) / |from|)) when both have one sign.
inline double value_change_1d(const PenaltyParams& p, double from, double to) {
  const double a = std::fabs(from), c = std::fabs(to);
  const double quad = (to - from) * (to + from);
  switch (p.kind) {
    case PenaltyKind::L1:
      return p.lam * (c - a);
    case PenaltyKind::ElasticNet:
      return p.lam * (c - a) + p.l2 * quad;
    case PenaltyKind::L2:
      return p.lam * quad;
    case PenaltyKind::L0:
      return p.lam * ((to != 0 ? 1.0 : 0.0) - (from != 0 ? 1.0 : 0.0));
    case PenaltyKind::Lk:
      break;
  }
  if (a == 0 || c == 0 || (from > 0) != (to > 0)) return p.lam * (std::pow(c, p.k) - std::pow(a, p.k));
  return p.lam * std::pow(a, p.k) * std::expm1(p.k * std::log1p((c - a) / a));
}

// Block soft-thresholding, the prox of t * ||.||_2 on a block: the block is multiplied by this
// factor of its norm (0 for a block inside the ball of radius t).
inline double block_soft_factor(double norm, double t) {
  return norm > t ? 1.0 - t / norm : 0.0;
}

// Convex conjugate r*(u) = sup_z u z - r(z) of one coordinate of a smooth convex penalty (L2,
// Lk with k > 1; z >= 0 when `positive`), for duality gaps of penalties without a hard dual
// constraint: lam |z|^k has r*(u) = (k - 1) lam (|u| / (lam k))^(k / (k - 1)).
inline double smooth_conjugate_1d(const PenaltyParams& p, double u, bool positive) {
  const double a = positive ? std::max(u, 0.0) : std::fabs(u);
  const double k = p.kind == PenaltyKind::L2 ? 2.0 : p.k;
  if (a == 0) return 0.0;
  return (k - 1.0) * p.lam * std::pow(a / (p.lam * k), k / (k - 1.0));
}

}  // namespace
}  // namespace lkreg::LKREG_ISA
