// Serial penalty kernels over one range, one copy per SIMD level (penalty_simd.cpp).
#pragma once

#include <cstdint>

#include "dispatch.hpp"
#include "lkreg/penalty.hpp"

#define LKREG_DECLARE_PENALTY_KERNELS(isa)                                                    \
  namespace lkreg::isa {                                                                      \
  template <class T>                                                                          \
  double penalty_value_kernel(const PenaltyParams& p, const T* w, std::int64_t n);            \
  template <class T>                                                                          \
  void penalty_grad_kernel(const PenaltyParams& p, const T* w, T* g, std::int64_t n,          \
                           bool accumulate);                                                  \
  template <class T>                                                                          \
  double penalty_value_and_grad_kernel(const PenaltyParams& p, const T* w, T* g,              \
                                       std::int64_t n, bool accumulate);                      \
  }
LKREG_FOR_EACH_ISA(LKREG_DECLARE_PENALTY_KERNELS)
#undef LKREG_DECLARE_PENALTY_KERNELS

namespace lkreg::detail {

// The form the kernels take: Lk with k = 1 or 2 becomes L1 or L2, and an ElasticNet with a
// zero coefficient becomes L1 or L2 (so that 0 * inf never turns an infinite weight into NaN).
PenaltyParams canonical(const PenaltyParams& p);

// The factor the kernels' value sums leave out (so that L0 counts and sums of |w|^k stay as
// exact as NumPy's lam * sum(...)); the drivers multiply by it once.
inline double value_scale(const PenaltyParams& p) {
  return p.kind == PenaltyKind::ElasticNet ? 1.0 : p.lam;
}

}  // namespace lkreg::detail
