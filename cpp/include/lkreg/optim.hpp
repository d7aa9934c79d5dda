// Optimizer steps over a param group: a list of flat arrays. Pure C++: pointers, lengths, scalars.
//
// One call updates every array of a group in place in ONE parallel pass: the arrays form one
// work list (their concatenation, cut into one contiguous range per thread, so small arrays are
// packed together and a large one is split), and each element's parameter, gradient and state
// are read once and written once. The update rules are torch.optim's single-tensor code,
// operation for operation, computed in T (float32 parameters in float32 arithmetic); scalars
// such as bias corrections are computed per array in double and rounded to T once.
// Element-wise, so the results do not depend on the thread count or on how the list is cut.
//
// The arrays of one call must not overlap, except that an array's gradient may be exactly its
// own parameter or one of its own state arrays (checked by the bindings).
#pragma once

#include <cstddef>
#include <cstdint>

#include "lkreg/penalty.hpp"

namespace lkreg {

// How a penalty enters an optimizer's pass.
//  - gradient: grad += the penalty's gradient at the weights before the update (smooth
//    penalties; the same bits as penalty_grad(..., accumulate=true)).
//  - prox: the updated weights go through prox(w, lr) (lr: the step's learning rate).
//  - preconditioned_prox: the updated weights go through prox(w, step_i) with the update's own
//    per-coordinate step, step_i = lr / denominator_i (Adam: lr / (sqrt(v_hat) + eps)): the
//    proximal step in the optimizer's metric, whose fixed points minimize loss + penalty.
//    Optimizers without a per-coordinate denominator (SGD) use lr.
// A smooth description always enters as its gradient.
enum class PenaltyUse : int { none = 0, gradient = 1, prox = 2, preconditioned_prox = 3 };

struct FusedPenalty {
  PenaltyUse use = PenaltyUse::none;
  PenaltyParams description;
  // reduction="mean": each array's coefficients are divided by its own size.
  bool per_array_mean = false;
};

// One parameter array of a group and its state (null where an option is off; which slot holds
// what is said per optimizer below). step: the number of this update for this array, 1 for the
// first (for SGD: 1 when the momentum buffer holds no history yet).
template <class T>
struct ParamArrays {
  T* param = nullptr;
  const T* grad = nullptr;
  T* state[3] = {nullptr, nullptr, nullptr};
  std::int64_t n = 0;
  std::int64_t step = 1;
};

// torch.optim.SGD. state[0]: momentum_buffer (null when momentum == 0); on step 1 it becomes
// the gradient itself (undamped), as torch's clone.
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};
template <class T>
void sgd_step(const SGDOptions& o, const FusedPenalty& penalty, const ParamArrays<T>* arrays,
              std::size_t count);

// torch.optim.Adam; decoupled_weight_decay gives AdamW (param *= 1 - lr * weight_decay first).
// state: exp_avg, exp_avg_sq, max_exp_avg_sq (null unless amsgrad).
struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;
};
template <class T>
void adam_step(const AdamOptions& o, const FusedPenalty& penalty, const ParamArrays<T>* arrays,
               std::size_t count);

// torch.optim.RMSprop. state: square_avg, grad_avg (null unless centered), momentum_buffer
// (null when momentum == 0).
struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
};
template <class T>
void rmsprop_step(const RMSpropOptions& o, const FusedPenalty& penalty,
                  const ParamArrays<T>* arrays, std::size_t count);

// torch.optim.Adagrad: clr = lr / (1 + (step - 1) * lr_decay). state[0]: sum.
struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double eps = 1e-10;
};
template <class T>
void adagrad_step(const AdagradOptions& o, const FusedPenalty& penalty,
                  const ParamArrays<T>* arrays, std::size_t count);

// FTRL-Proximal, Algorithm 1 of McMahan et al. 2013 ("Ad Click Prediction"), per coordinate:
//   sigma = (sqrt(n + g^2) - sqrt(n)) / alpha;  z += g - sigma * w;  n += g^2
//   w = |z| <= l1 ? 0 : -(z - sign(z) * l1) / ((beta + sqrt(n)) / alpha + l2)
// (the paper's objective: l1 * |w| + l2 / 2 * w^2). state: z, n. A smooth penalty adds its
// gradient; an L1 or ElasticNet description is solved exactly in the closed form (lam adds to
// l1, and ElasticNet's l2 * w^2 adds 2 * l2 to the paper's l2); other non-smooth kinds are the
// caller's error (the Python layer refuses them).
struct FTRLOptions {
  double alpha = 0.1;
  double beta = 1.0;
  double l1 = 0.0;
  double l2 = 0.0;
};
template <class T>
void ftrl_step(const FTRLOptions& o, const FusedPenalty& penalty, const ParamArrays<T>* arrays,
               std::size_t count);

}  // namespace lkreg
