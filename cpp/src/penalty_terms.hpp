// Penalty terms: value and gradient of one element, shared by the kernels that need a
// penalty's gradient (penalty_simd.cpp, optim_simd.cpp). Included only by SIMD sources, so
// everything lands in lkreg::LKREG_ISA; the unnamed namespace gives each source its own copy.
//
// Each term gives value(w) in double (float64 accumulation, and no overflow of w^2 for large
// float32; sqrt is taken in T, correctly rounded, where float32's 16 lanes pay) without the
// factor value_scale() leaves to the drivers, and grad(w) in T. Kinds arrive canonical()
// (penalty_kernels.hpp).
#pragma once

#include <cmath>
#include <limits>

#include "lkreg/penalty.hpp"
#include "simd_math.hpp"

#ifndef LKREG_ISA
#error "penalty_terms.hpp belongs to the per-ISA kernel sources (LKREG_ISA undefined)"
#endif

namespace lkreg::LKREG_ISA {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// c*sign(w): 0 at +-0, NaN at NaN.
template <class T, class C>
inline C signed_coef(T w, C c) {
  return w > 0 ? c : (w < 0 ? -c : static_cast<C>(w) * C(0));
}

template <class T>
struct L1Term {
  T c;
  explicit L1Term(double lam) : c(static_cast<T>(lam)) {}
  double value(T w) const { return std::fabs(static_cast<double>(w)); }
  T grad(T w) const { return signed_coef(w, c); }
};

template <class T>
struct L2Term {
  T c;
  explicit L2Term(double lam) : c(static_cast<T>(2.0 * lam)) {}
  double value(T w) const { return static_cast<double>(w) * static_cast<double>(w); }
  T grad(T w) const { return c * w; }
};

template <class T>
struct ElasticNetTerm {  // value_scale() is 1: the value carries both coefficients
  double l1, l2;
  T c1, c2;
  ElasticNetTerm(double l1_, double l2_)
      : l1(l1_), l2(l2_), c1(static_cast<T>(l1_)), c2(static_cast<T>(2.0 * l2_)) {}
  double value(T w) const {
    const double a = std::fabs(static_cast<double>(w));
    return l1 * a + l2 * (a * a);
  }
  T grad(T w) const { return signed_coef(w, c1) + c2 * w; }
};

template <class T>
struct L0Term {
  double value(T w) const { return w != 0 ? 1.0 : 0.0; }
  T grad(T) const { return T(0); }
};

template <class T>
struct SqrtTerm {  // k = 1/2
  T c;
  explicit SqrtTerm(double lam) : c(static_cast<T>(0.5 * lam)) {}
  double value(T w) const { return static_cast<double>(std::sqrt(std::fabs(w))); }
  T grad(T w) const { return signed_coef(w, c / std::sqrt(std::fabs(w))); }
};

template <class T>
struct ThreeHalvesTerm {  // k = 3/2
  T c;
  explicit ThreeHalvesTerm(double lam) : c(static_cast<T>(1.5 * lam)) {}
  double value(T w) const {
    const T a = std::fabs(w);
    return static_cast<double>(a) * static_cast<double>(std::sqrt(a));
  }
  T grad(T w) const { return std::copysign(c * std::sqrt(std::fabs(w)), w); }
};

template <class T>
struct CubeTerm {  // k = 3
  T c;
  explicit CubeTerm(double lam) : c(static_cast<T>(3.0 * lam)) {}
  double value(T w) const {
    const double a = std::fabs(static_cast<double>(w));
    return a * a * a;
  }
  T grad(T w) const { return (c * w) * std::fabs(w); }  // w * |w| alone could overflow
};

template <class T>
struct PowTerm {  // any other k > 0, through one vectorized pow in double
  double c;
  PowFixed pow_km1;
  PowTerm(double lam, double k) : c(lam * k), pow_km1(k - 1.0) {}
  double value(T w) const {
    double v;
    value_grad(w, v);
    return v;
  }
  T grad(T w) const { return static_cast<T>(signed_coef(w, c * pow_km1(std::fabs(static_cast<double>(w))))); }
  // |w|^k = |w| * |w|^(k-1), with 0 and inf patched (0*inf would be NaN for k < 1).
  T value_grad(T w, double& v) const {
    const double a = std::fabs(static_cast<double>(w));
    const double p = pow_km1(a);
    v = a == 0 ? 0.0 : (a == kInf ? kInf : a * p);
    return static_cast<T>(signed_coef(w, c * p));
  }
};

// Calls f with the term for p: the switch runs once per call, the loops are specialized.
template <class T, class F>
decltype(auto) with_term(const PenaltyParams& p, const F& f) {
  switch (p.kind) {
    case PenaltyKind::L1:
      return f(L1Term<T>(p.lam));
    case PenaltyKind::L2:
      return f(L2Term<T>(p.lam));
    case PenaltyKind::L0:
      return f(L0Term<T>());
    case PenaltyKind::ElasticNet:
      return f(ElasticNetTerm<T>(p.lam, p.l2));
    case PenaltyKind::Lk:
      break;
  }
  if (p.k == 0.5) return f(SqrtTerm<T>(p.lam));
  if (p.k == 1.5) return f(ThreeHalvesTerm<T>(p.lam));
  if (p.k == 3.0) return f(CubeTerm<T>(p.lam));
  return f(PowTerm<T>(p.lam, p.k));
}

}  // namespace
}  // namespace lkreg::LKREG_ISA
