// Optimizer drivers: per-call scalars in double (as torch computes them on the host), threading
// and SIMD dispatch around the serial kernels.
#include "lkreg/optim.hpp"

#include <cmath>

#include "optim_kernels.hpp"
#include "parallel.hpp"
#include "penalty_kernels.hpp"

namespace lkreg {

namespace {

FusedPenalty canonical(const FusedPenalty& pen) {
  FusedPenalty q = pen;
  if (q.prox != FusedProx::none) q.has_gradient = false;
  if (q.has_gradient) q.gradient = detail::canonical(q.gradient);
  return q;
}

// A step streams memory (its sqrt and divisions hide behind the loads); a pow in the
// penalty's gradient makes it compute-bound, which pays for the thread team sooner.
std::int64_t min_parallel(const FusedPenalty& pen) {
  const PenaltyParams& p = pen.gradient;
  const bool uses_pow = pen.has_gradient && p.kind == PenaltyKind::Lk && p.k != 0.5 &&
                        p.k != 1.5 && p.k != 3.0;
  return uses_pow ? detail::kParallelMinCompute : detail::kParallelMinStreaming;
}

// p + b for an optional state array.
template <class T>
T* at(T* p, std::int64_t b) {
  return p != nullptr ? p + b : nullptr;
}

}  // namespace

template <class T>
void sgd_step(const SGDOptions& o, const FusedPenalty& penalty, T* param, const T* grad,
              T* momentum_buffer, bool first_step, std::int64_t n) {
  const FusedPenalty pen = canonical(penalty);
  detail::SGDScalars s{};
  s.neg_lr = -o.lr;
  s.momentum = o.momentum;
  s.one_minus_dampening = 1.0 - o.dampening;
  s.weight_decay = o.weight_decay;
  s.nesterov = o.nesterov;
  s.first_step = first_step;
  const auto kernel = LKREG_SELECT(sgd_kernel<T>);
  detail::parallel_chunks(n, min_parallel(pen), [&](std::int64_t b, std::int64_t e) {
    kernel(s, pen, param + b, grad + b, at(momentum_buffer, b), e - b);
  });
}

template <class T>
void adam_step(const AdamOptions& o, const FusedPenalty& penalty, std::int64_t step, T* param,
               const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, std::int64_t n) {
  const FusedPenalty pen = canonical(penalty);
  // torch: bias_correction1 = 1 - beta1 ** step; step_size = lr / bias_correction1;
  // bias_correction2_sqrt = bias_correction2 ** 0.5 (Python floats: C's pow)
  const double t = static_cast<double>(step);
  const double bias_correction1 = 1.0 - std::pow(o.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(o.beta2, t);
  const bool decay = o.weight_decay != 0;
  detail::AdamScalars s{};
  s.neg_step_size = -(o.lr / bias_correction1);
  s.beta1_weight = 1.0 - o.beta1;
  s.beta2 = o.beta2;
  s.one_minus_beta2 = 1.0 - o.beta2;
  s.eps = o.eps;
  s.bias_correction2_sqrt = std::pow(bias_correction2, 0.5);
  s.weight_decay = decay && !o.decoupled_weight_decay ? o.weight_decay : 0.0;
  s.param_scale = decay && o.decoupled_weight_decay ? 1.0 - o.lr * o.weight_decay : 1.0;
  const auto kernel = LKREG_SELECT(adam_kernel<T>);
  detail::parallel_chunks(n, min_parallel(pen), [&](std::int64_t b, std::int64_t e) {
    kernel(s, pen, param + b, grad + b, exp_avg + b, exp_avg_sq + b, at(max_exp_avg_sq, b), e - b);
  });
}

template <class T>
void rmsprop_step(const RMSpropOptions& o, const FusedPenalty& penalty, T* param, const T* grad,
                  T* square_avg, T* grad_avg, T* momentum_buffer, std::int64_t n) {
  const FusedPenalty pen = canonical(penalty);
  detail::RMSpropScalars s{};
  s.neg_lr = -o.lr;
  s.alpha = o.alpha;
  s.one_minus_alpha = 1.0 - o.alpha;
  s.eps = o.eps;
  s.weight_decay = o.weight_decay;
  s.momentum = o.momentum;
  const auto kernel = LKREG_SELECT(rmsprop_kernel<T>);
  detail::parallel_chunks(n, min_parallel(pen), [&](std::int64_t b, std::int64_t e) {
    kernel(s, pen, param + b, grad + b, square_avg + b, at(grad_avg, b), at(momentum_buffer, b),
           e - b);
  });
}

template <class T>
void adagrad_step(const AdagradOptions& o, const FusedPenalty& penalty, std::int64_t step,
                  T* param, const T* grad, T* sum, std::int64_t n) {
  const FusedPenalty pen = canonical(penalty);
  detail::AdagradScalars s{};
  s.neg_clr = -(o.lr / (1.0 + (static_cast<double>(step) - 1.0) * o.lr_decay));
  s.weight_decay = o.weight_decay;
  s.eps = o.eps;
  const auto kernel = LKREG_SELECT(adagrad_kernel<T>);
  detail::parallel_chunks(n, min_parallel(pen), [&](std::int64_t b, std::int64_t e) {
    kernel(s, pen, param + b, grad + b, sum + b, e - b);
  });
}

template <class T>
void ftrl_step(const FTRLOptions& o, const FusedPenalty& penalty, T* weight, const T* grad, T* z,
               T* squared_sum, std::int64_t n) {
  FusedPenalty gradient_only = penalty;  // FTRL uses the gradient part only
  gradient_only.prox = FusedProx::none;
  const FusedPenalty pen = canonical(gradient_only);
  const auto kernel = LKREG_SELECT(ftrl_kernel<T>);
  detail::parallel_chunks(n, min_parallel(pen), [&](std::int64_t b, std::int64_t e) {
    kernel(o, pen, weight + b, grad + b, z + b, squared_sum + b, e - b);
  });
}

#define LKREG_INSTANTIATE(T)                                                                  \
  template void sgd_step<T>(const SGDOptions&, const FusedPenalty&, T*, const T*, T*, bool,   \
                            std::int64_t);                                                    \
  template void adam_step<T>(const AdamOptions&, const FusedPenalty&, std::int64_t, T*,       \
                             const T*, T*, T*, T*, std::int64_t);                             \
  template void rmsprop_step<T>(const RMSpropOptions&, const FusedPenalty&, T*, const T*, T*, \
                                T*, T*, std::int64_t);                                        \
  template void adagrad_step<T>(const AdagradOptions&, const FusedPenalty&, std::int64_t, T*, \
                                const T*, T*, std::int64_t);                                  \
  template void ftrl_step<T>(const FTRLOptions&, const FusedPenalty&, T*, const T*, T*, T*,   \
                             std::int64_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg
