// Penalty values and gradients over flat arrays. Pure C++: pointers, lengths, scalars.
#pragma once

#include <cstdint>

namespace lkreg {

enum class PenaltyKind : int { L1 = 0, L2 = 1, Lk = 2, ElasticNet = 3, L0 = 4 };

// A penalty's description: its kind and coefficients, all an element-wise kernel, optimizer
// step or solver needs (the Python penalty builds it once, in Penalty.description()). lam
// already holds any 1/n of reduction="mean".
//   L1:  lam*sum|w|            L2: lam*sum w^2          Lk: lam*sum|w|^k
//   ElasticNet: lam*sum|w| + l2*sum w^2                 L0: lam*count(w != 0)
// Capabilities: every kind has a value, a gradient (0 at w = 0 for k <= 1; L0's is 0) and a
// scalar prox (prox_terms.hpp: prox_1d); convex unless L0 or Lk with k < 1; smooth when L2, Lk
// with k > 1, or ElasticNet with lam = 0.
struct PenaltyParams {
  PenaltyKind kind = PenaltyKind::L2;
  double lam = 0.0;
  double k = 2.0;
  double l2 = 0.0;

  // The same penalty with every coefficient multiplied by s (reduction="mean": s = 1/n).
  PenaltyParams scaled(double s) const { return PenaltyParams{kind, lam * s, k, l2 * s}; }
  bool is_smooth() const {
    return kind == PenaltyKind::L2 || (kind == PenaltyKind::Lk && k > 1) ||
           (kind == PenaltyKind::ElasticNet && lam == 0);
  }
  bool is_convex() const {
    return kind != PenaltyKind::L0 && !(kind == PenaltyKind::Lk && k < 1);
  }
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

// y = prox(w, step) = argmin_z 0.5 ||z - w||^2 + step * penalty(z), element-wise (y may be w).
// A scalar step uses the penalty's fastest closed form; an array gives each element its own
// step (preconditioned methods). Ties between 0 and a nonzero minimizer go to 0.
template <class T>
void penalty_prox(const PenaltyParams& p, const T* w, double step, T* y, std::int64_t n);
template <class T>
void penalty_prox_steps(const PenaltyParams& p, const T* w, const T* step, T* y, std::int64_t n);

// d[i] = distance from -g[i] to the subdifferential of the penalty at w[i] (the limiting one for
// non-convex kinds): 0 exactly at a coordinate-wise stationary point of loss + penalty.
template <class T>
void penalty_subdiff_distance(const PenaltyParams& p, const T* w, const T* g, T* d,
                              std::int64_t n);

}  // namespace lkreg
