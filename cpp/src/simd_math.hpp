// Branch-free scalar math that GCC and Clang vectorize inside `#pragma omp simd` loops at every
// SIMD level (only double arithmetic, compares, selects and 64-bit integer add/and/or/logical
// shift, which SSE2 and AVX2 have; no int64<->double conversion or arithmetic shift, which
// they lack). Included only by SIMD translation units: everything is in lkreg::LKREG_ISA.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#ifndef LKREG_ISA
#error "simd_math.hpp belongs to the per-ISA kernel sources (LKREG_ISA undefined)"
#endif

namespace lkreg::LKREG_ISA {

inline std::uint64_t bits_of(double x) {
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
inline double double_of(std::uint64_t u) {
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// 1.5 * 2^52: adding it to |x| < 2^51 rounds x to an integer held in the low mantissa bits.
constexpr double kRoundMagic = 6755399441055744.0;
constexpr std::uint64_t kRoundMagicBits = 0x4338000000000000ULL;

// log2(a) = n + log2(m) for finite a > 0, subnormals included: returns log2(m) and sets the
// integer n. The reduction to m in [sqrt(1/2), sqrt(2)) is exact, so n is exact and log2(m)
// (|log2 m| <= 1/2) has absolute error below 2^-52 * 2: ln(m) = 2*atanh(s), s = (m-1)/(m+1),
// summed to s^21 (|s| < 0.1716, truncation below 1e-18).
inline double log2_split(double a, double& n) {
  const bool subnormal = a < 0x1p-1022;
  a = subnormal ? a * 0x1p54 : a;
  const double bias = subnormal ? 54.0 : 0.0;
  const std::uint64_t ix = bits_of(a);
  // exponent such that a = 2^e * m with m in [sqrt(1/2), sqrt(2)) (musl's reduction).
  constexpr std::uint64_t kSqrtHalfBits = 0x3fe6a09e667f3bcdULL;
  const std::uint64_t tmp = ix - kSqrtHalfBits;
  const std::uint64_t e_biased = ((ix + 0x8000000000000000ULL - kSqrtHalfBits) >> 52);  // e + 2048
  const double m = double_of(ix - (tmp & 0xfff0000000000000ULL));
  const double e = double_of(e_biased + kRoundMagicBits) - kRoundMagic - 2048.0;
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double p = 1.0 / 21;
  p = p * s2 + 1.0 / 19;
  p = p * s2 + 1.0 / 17;
  p = p * s2 + 1.0 / 15;
  p = p * s2 + 1.0 / 13;
  p = p * s2 + 1.0 / 11;
  p = p * s2 + 1.0 / 9;
  p = p * s2 + 1.0 / 7;
  p = p * s2 + 1.0 / 5;
  p = p * s2 + 1.0 / 3;
  constexpr double kTwoOverLn2 = 2.8853900817779268;  // 2 / ln 2
  n = e - bias;
  return kTwoOverLn2 * s + kTwoOverLn2 * s * (s2 * p);
}

// log2(a) for finite a > 0. Absolute error below 2^-52 * (|log2 a| + 2).
inline double log2_positive(double a) {
  double n;
  const double log2m = log2_split(a, n);
  return n + log2m;
}

// 2^(n + y) for an integer n, |n| <= 4096, and any y (NaN -> NaN, overflow -> inf, gradual
// underflow to 0). Relative error below 2^-52 * 2 for normal results: 2^r, |r| <= 1/2, by its
// Taylor series to degree 13, scaled by 2^(n + round(y)) exactly. Taking the integer part
// apart keeps a^e accurate for large |log2 a| (see PowFixed).
inline double exp2_split(double n, double y) {
  const double yc = y > 4096.0 ? 4096.0 : (y < -4096.0 ? -4096.0 : y);  // NaN passes through
  const double j = (yc + kRoundMagic) - kRoundMagic;
  const double r = yc - j;
  const double total = n + j;
  const double tc = total > 1100.0 ? 1100.0 : (total < -1100.0 ? -1100.0 : total);
  const double t = tc + kRoundMagic;
  constexpr double c1 = 0.6931471805599453;       // ln2^i / i!
  constexpr double c2 = 0.2402265069591007;
  constexpr double c3 = 0.055504108664821576;
  constexpr double c4 = 0.009618129107628477;
  constexpr double c5 = 0.0013333558146428441;
  constexpr double c6 = 0.00015403530393381606;
  constexpr double c7 = 1.5252733804059838e-05;
  constexpr double c8 = 1.3215486790144305e-06;
  constexpr double c9 = 1.0178086009239696e-07;
  constexpr double c10 = 7.054911620801121e-09;
  constexpr double c11 = 4.44553827187081e-10;
  constexpr double c12 = 2.5678435993488196e-11;
  constexpr double c13 = 1.3691488853904124e-12;
  double p = c13;
  p = p * r + c12;
  p = p * r + c11;
  p = p * r + c10;
  p = p * r + c9;
  p = p * r + c8;
  p = p * r + c7;
  p = p * r + c6;
  p = p * r + c5;
  p = p * r + c4;
  p = p * r + c3;
  p = p * r + c2;
  p = p * r + c1;
  p = p * r + 1.0;
  // the exponent n + round(y), clamped to [-1100, 1100]; scale by 2^that as 2^n1 * 2^n2, both
  // normal, so that results in the subnormal range round once.
  const std::uint64_t n_plus = bits_of(t) - kRoundMagicBits + 2048;  // exponent + 2048 >= 948
  const std::uint64_t n1_plus = n_plus >> 1;                          // floor(n/2) + 1024
  const std::uint64_t n2_plus = n_plus - n1_plus;                     // n - floor(n/2) + 1024
  const double s1 = double_of((n1_plus - 1024 + 1023) << 52);
  const double s2 = double_of((n2_plus - 1024 + 1023) << 52);
  return p * s1 * s2;
}

// 2^y for any y (NaN -> NaN, overflow -> inf, gradual underflow to 0).
inline double exp2_any(double y) { return exp2_split(0.0, y); }

// a^e for a >= 0 or NaN, and a fixed real e != 0, following C's pow on those inputs, to a few
// ulps for every a: with a = 2^n m, e log2(a) = n e + e log2(m), where n e is formed exactly
// (e split into e_hi, 26 significant bits, times n, at most 11: exact; plus n e_lo) and its
// integer part goes to the exponent untouched. The plain exp2(e * log2(a)) lost
// |e log2 a| * 2^-52 to rounding: up to ~60 ulps at |a| near 1e300 for e = -1/3.
struct PowFixed {
  double e, e_hi, e_lo;
  double at_zero;  // 0^e
  double at_inf;   // inf^e
  explicit PowFixed(double exponent)
      : e(exponent),
        e_hi(double_of(bits_of(exponent) & ~((std::uint64_t{1} << 27) - 1))),
        e_lo(exponent - e_hi),
        at_zero(exponent > 0 ? 0.0 : std::numeric_limits<double>::infinity()),
        at_inf(exponent > 0 ? std::numeric_limits<double>::infinity() : 0.0) {}
  double operator()(double a) const {
    const bool finite_positive = a > 0 && a < std::numeric_limits<double>::infinity();
    double n;
    const double log2m = log2_split(finite_positive ? a : 1.0, n);
    const double whole = n * e_hi;  // exact
    // |whole| > 4096 means |e log2 a| >= 2048 (|log2 a| >= |n| / 2 when n != 0): 0 or inf,
    // with whole's sign, whatever the rest
    const bool saturated = whole > 4096.0 || whole < -4096.0;
    const double wc = saturated ? (whole > 0 ? 4096.0 : -4096.0) : whole;
    const double j = (wc + kRoundMagic) - kRoundMagic;
    const double rest = saturated ? 0.0 : (wc - j) + (n * e_lo + e * log2m);
    const double r = exp2_split(j, rest);
    return finite_positive ? r : (a == 0 ? at_zero : (a > 0 ? at_inf : a));
  }
};

}  // namespace lkreg::LKREG_ISA
