// Optimizer steps over flat arrays. Pure C++: pointers, lengths, scalars.
//
// Each call updates one parameter array in place in ONE pass: it reads the parameter, its
// gradient and its state once and writes the parameter and the state once. The update rules
// are torch.optim's single-tensor code, operation for operation, computed in T (float32
// parameters in float32 arithmetic); scalars such as bias corrections are computed in double
// and rounded to T once. Element-wise, so the results do not depend on the thread count.
//
// The arrays of one call must not overlap, except that grad may be any of them exactly.
#pragma once

#include <cstdint>

#include "lkreg/penalty.hpp"

namespace lkreg {

enum class FusedProx : int { none = 0, soft = 1, hard = 2 };

// What a penalty contributes to an optimizer's pass: one of two parts (prox wins if both set).
//  - has_gradient: grad += the gradient of `gradient` at the weights before the update (smooth
//    penalties; the same bits as penalty_grad(..., accumulate=true)).
//  - prox, applied to the updated weights (the penalty's prox(w, lr), element-wise):
//      soft: w = scale * sign(w) * max(|w| - threshold, 0)   (L1: scale 1; elastic net)
//      hard: w = |w| > threshold ? w : 0                      (L0)
struct FusedPenalty {
  bool has_gradient = false;
  PenaltyParams gradient;
  FusedProx prox = FusedProx::none;
  double threshold = 0.0;
  double scale = 1.0;
};

// torch.optim.SGD.
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};
// momentum_buffer: null when momentum == 0. first_step: the buffer holds no history yet, and
// becomes the gradient itself (undamped), as torch's clone.
template <class T>
void sgd_step(const SGDOptions& o, const FusedPenalty& penalty, T* param, const T* grad,
              T* momentum_buffer, bool first_step, std::int64_t n);

// torch.optim.Adam; decoupled_weight_decay gives AdamW (param *= 1 - lr * weight_decay first).
struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;
};
// step: the number of this update, 1 for the first. max_exp_avg_sq: null unless amsgrad.
template <class T>
void adam_step(const AdamOptions& o, const FusedPenalty& penalty, std::int64_t step, T* param,
               const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, std::int64_t n);

// torch.optim.RMSprop.
struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
};
// grad_avg: null unless centered. momentum_buffer: null when momentum == 0.
template <class T>
void rmsprop_step(const RMSpropOptions& o, const FusedPenalty& penalty, T* param, const T* grad,
                  T* square_avg, T* grad_avg, T* momentum_buffer, std::int64_t n);

// torch.optim.Adagrad.
struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double eps = 1e-10;
};
// step: the number of this update, 1 for the first (clr = lr / (1 + (step - 1) * lr_decay)).
template <class T>
void adagrad_step(const AdagradOptions& o, const FusedPenalty& penalty, std::int64_t step,
                  T* param, const T* grad, T* sum, std::int64_t n);

// FTRL-Proximal, Algorithm 1 of McMahan et al. 2013 ("Ad Click Prediction"), per coordinate:
//   sigma = (sqrt(n + g^2) - sqrt(n)) / alpha;  z += g - sigma * w;  n += g^2
//   w = |z| <= l1 ? 0 : -(z - sign(z) * l1) / ((beta + sqrt(n)) / alpha + l2)
// (the paper's objective: l1 * |w| + l2 / 2 * w^2). Only the penalty's gradient part is used.
struct FTRLOptions {
  double alpha = 0.1;
  double beta = 1.0;
  double l1 = 0.0;
  double l2 = 0.0;
};
template <class T>
void ftrl_step(const FTRLOptions& o, const FusedPenalty& penalty, T* weight, const T* grad, T* z,
               T* squared_sum, std::int64_t n);

}  // namespace lkreg
