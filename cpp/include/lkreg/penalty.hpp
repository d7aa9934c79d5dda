// Penalty values and gradients over flat arrays. Pure C++: pointers, lengths, scalars.
#pragma once

#include <cstdint>

namespace lkreg {

enum class PenaltyKind : int { L1 = 0, L2 = 1, Lk = 2, ElasticNet = 3, L0 = 4 };

// One penalty's coefficients. lam already holds any 1/n of reduction="mean".
//   L1:  lam*sum|w|            L2: lam*sum w^2          Lk: lam*sum|w|^k
//   ElasticNet: lam*sum|w| + l2*sum w^2                 L0: lam*count(w != 0)
struct PenaltyParams {
  PenaltyKind kind = PenaltyKind::L2;
  double lam = 0.0;
  double k = 2.0;
  double l2 = 0.0;
};

// Sum of the penalty over w[0..n), accumulated in double over a fixed partition of the array,
// so the result does not depend on the thread count.
template <class T>
double penalty_value(const PenaltyParams& p, const T* w, std::int64_t n);

// g = grad (or g += grad when accumulate). g may be w itself.
template <class T>
void penalty_grad(const PenaltyParams& p, const T* w, T* g, std::int64_t n, bool accumulate);

// Both in one pass over w; returns the value.
template <class T>
double penalty_value_and_grad(const PenaltyParams& p, const T* w, T* g, std::int64_t n,
                              bool accumulate);

}  // namespace lkreg
