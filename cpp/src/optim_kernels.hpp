// Serial optimizer kernels over one range of one array, one copy per SIMD level
// (optim_simd.cpp).
#pragma once

#include <cstdint>

#include "dispatch.hpp"
#include "lkreg/optim.hpp"

namespace lkreg::detail {

// Per-array scalars, computed in double by the drivers (as torch does on the host); the kernels
// round each to T once. A weight_decay of 0 means none (torch skips the term: 0 * inf is NaN).
// prox_step: the step a prox applies (the learning rate of this update; per coordinate it is
// divided by the update's denominator when preconditioned).
struct SGDScalars {
  double neg_lr, momentum, one_minus_dampening, weight_decay, prox_step;
  bool nesterov, first_step;
};
struct AdamScalars {
  double neg_step_size;       // -lr / (1 - beta1^step)
  double beta1_weight;        // 1 - beta1, the lerp weight
  double beta2, one_minus_beta2, eps;
  double bias_correction2_sqrt;
  double weight_decay;        // coupled (Adam): grad += weight_decay * param
  double param_scale;         // decoupled (AdamW): 1 - lr * weight_decay, else 1
  double prox_step;           // lr
};
struct RMSpropScalars {
  double neg_lr, alpha, one_minus_alpha, eps, weight_decay, momentum, prox_step;
};
struct AdagradScalars {
  double neg_clr, weight_decay, eps, prox_step;
};

// The penalty of one array: its use and description. reduction="mean" divides by the array's
// size: a gradient's coefficients directly, a prox's step (so that its threshold is
// (step / n) * lam, the bits of penalty.prox(w, step)).
struct ArrayPenalty {
  PenaltyUse use = PenaltyUse::none;
  PenaltyParams description;
  double step_scale = 1.0;
};

}  // namespace lkreg::detail

#define LKREG_DECLARE_OPTIM_KERNELS(isa)                                                        \
  namespace lkreg::isa {                                                                        \
  template <class T>                                                                            \
  void sgd_kernel(const detail::SGDScalars& s, const detail::ArrayPenalty& pen, T* p,          \
                  const T* g, T* buf, std::int64_t n);                                          \
  template <class T>                                                                            \
  void adam_kernel(const detail::AdamScalars& s, const detail::ArrayPenalty& pen, T* p,        \
                   const T* g, T* m, T* v, T* vmax, std::int64_t n);                            \
  template <class T>                                                                            \
  void rmsprop_kernel(const detail::RMSpropScalars& s, const detail::ArrayPenalty& pen, T* p,  \
                      const T* g, T* square_avg, T* grad_avg, T* buf, std::int64_t n);         \
  template <class T>                                                                            \
  void adagrad_kernel(const detail::AdagradScalars& s, const detail::ArrayPenalty& pen, T* p,  \
                      const T* g, T* sum, std::int64_t n);                                      \
  template <class T>                                                                            \
  void ftrl_kernel(const FTRLOptions& o, const detail::ArrayPenalty& pen, T* w, const T* g,    \
                   T* z, T* squared_sum, std::int64_t n);                                       \
  }
LKREG_FOR_EACH_ISA(LKREG_DECLARE_OPTIM_KERNELS)
#undef LKREG_DECLARE_OPTIM_KERNELS
