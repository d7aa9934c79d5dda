// Fused optimizer steps; compiled once per SIMD level (see dispatch.hpp).
//
// One loop per optimizer reads p, g and the state once and writes them once. Each line mirrors
// one operation of torch.optim's single-tensor code, in T, in the same order (the comments name
// the torch call). The penalty is a policy, passed by value so that its coefficients live in
// registers: its gradient is added to g before anything else, or its element-wise prox is
// applied to the updated weight before the store (prox_terms.hpp: with the learning rate, or with
// the update's per-coordinate step lr / denominator). Invariant options are selects between values
// computed on both sides (vectorized thanks to -fno-trapping-math, see CMakeLists.txt).
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "optim_kernels.hpp"
#include "penalty_terms.hpp"
#include "prox_terms.hpp"

namespace lkreg::LKREG_ISA {
namespace {

template <class T>
struct NoPenalty {
  T gradient(T, T g) const { return g; }
  T prox(T w, T) const { return w; }
};

template <class T, class Term>
struct GradientOf {  // g + the term's gradient, as penalty_grad(..., accumulate=true)
  Term term;
  T gradient(T w, T g) const { return g + term.grad(w); }
  T prox(T w, T) const { return w; }
};

// prox(w, lr): the step folded into the term's coefficients (the bits of penalty.prox(w, lr)).
template <class T, class Term>
struct UniformProx {
  Term term;
  T gradient(T, T g) const { return g; }
  T prox(T x, T) const { return term(x); }
};

// prox(w, lr / denominator_i): the update's own per-coordinate step.
template <class T, class Term>
struct PreconditionedProx {
  Term term;
  T gradient(T, T g) const { return g; }
  T prox(T x, T denominator) const { return term(x, T(1) / denominator); }
};

// Calls f with the gradient-only policy for pen (no penalty, or one term of penalty_terms.hpp).
template <class T, class F>
void with_gradient_penalty(const detail::ArrayPenalty& pen, const F& f) {
  if (pen.use != PenaltyUse::gradient) return f(NoPenalty<T>());
  with_term<T>(pen.description, [&](const auto& term) {
    f(GradientOf<T, std::decay_t<decltype(term)>>{term});
  });
}

// The policy for pen; prox terms (prox_terms.hpp) take the step `prox_step`.
template <class T, class F>
void with_penalty(const detail::ArrayPenalty& pen, double step, const F& f) {
  const double prox_step = step * pen.step_scale;
  if (pen.use == PenaltyUse::prox) {
    return with_prox_term<T, false>(pen.description, prox_step, [&](const auto& term) {
      f(UniformProx<T, std::decay_t<decltype(term)>>{term});
    });
  }
  if (pen.use == PenaltyUse::preconditioned_prox) {
    return with_prox_term<T, false>(pen.description, prox_step, [&](const auto& term) {
      f(PreconditionedProx<T, std::decay_t<decltype(term)>>{term});
    });
  }
  with_gradient_penalty<T>(pen, f);
}

// torch's lerp(self, end, weight) for a scalar weight: self + w * (end - self) when |w| < 0.5,
// else end + (w - 1) * (end - self) (the form of its vectorized kernel).
template <class T>
struct Lerp {
  bool from_self;
  T coef;
  explicit Lerp(double weight)
      : from_self(std::fabs(static_cast<T>(weight)) < T(0.5)),
        coef(from_self ? static_cast<T>(weight) : static_cast<T>(weight) - T(1)) {}
  T operator()(T self, T end) const { return (from_self ? self : end) + coef * (end - self); }
};

// torch.maximum: NaN if either is NaN.
template <class T>
inline T maximum(T a, T b) {
  const T nan_if_any = a + b;
  return (a != a || b != b) ? nan_if_any : (a < b ? b : a);
}

// grad.add(param, alpha=wd) when decay is on; torch skips it otherwise (0 * inf would be NaN).
template <class T>
inline T add_weight_decay(bool decay, T wd, T w, T d) {
  const T decayed = d + wd * w;
  return decay ? decayed : d;
}

// SGD's momentum buffer: none, its first step (torch clones the gradient), or later steps.
enum class Momentum { none, first, later };

template <class T, Momentum kMomentum, class Penalty>
void sgd_loop(const detail::SGDScalars& s, Penalty pen, T* p, const T* g, T* buf,
              std::int64_t n) {
  const T neg_lr = static_cast<T>(s.neg_lr), momentum = static_cast<T>(s.momentum);
  const T damp = static_cast<T>(s.one_minus_dampening), wd = static_cast<T>(s.weight_decay);
  const bool decay = s.weight_decay != 0;
  // a T, not a bool: GCC 12 fails to vectorize a select on an invariant bool next to pow's masks
  const T nesterov = s.nesterov ? T(1) : T(0);
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T w = p[i];
    T d = pen.gradient(w, g[i]);
    d = add_weight_decay(decay, wd, w, d);  // grad.add(param, alpha=weight_decay)
    if constexpr (kMomentum != Momentum::none) {
      T b = d;  // grad.clone()
      if constexpr (kMomentum == Momentum::later) {
        b = buf[i] * momentum + damp * d;  // buf.mul_(momentum).add_(grad, alpha=1 - dampening)
      }
      buf[i] = b;
      const T look_ahead = d + momentum * b;  // grad.add(buf, alpha=momentum)
      d = nesterov != T(0) ? look_ahead : b;
    }
    p[i] = pen.prox(w + neg_lr * d, T(1));  // param.add_(grad, alpha=-lr)
  }
}

template <class T, bool kAmsgrad, class Penalty>
void adam_loop(const detail::AdamScalars& s, Penalty pen, T* p, const T* g, T* m, T* v,
               T* vmax, std::int64_t n) {
  const Lerp<T> lerp(s.beta1_weight);
  const T beta2 = static_cast<T>(s.beta2), one_minus_beta2 = static_cast<T>(s.one_minus_beta2);
  const T eps = static_cast<T>(s.eps), bc2_sqrt = static_cast<T>(s.bias_correction2_sqrt);
  const T neg_step = static_cast<T>(s.neg_step_size), wd = static_cast<T>(s.weight_decay);
  const T param_scale = static_cast<T>(s.param_scale);
  const bool decay = s.weight_decay != 0;
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T w = p[i];
    T d = pen.gradient(w, g[i]);
    d = add_weight_decay(decay, wd, w, d);              // grad.add(param, alpha=wd)
    const T mi = lerp(m[i], d);                            // exp_avg.lerp_(grad, 1 - beta1)
    const T vi = v[i] * beta2 + one_minus_beta2 * d * d;   // mul_(beta2).addcmul_(g, g, 1 - beta2)
    m[i] = mi;
    v[i] = vi;
    T vhat = vi;
    if constexpr (kAmsgrad) {
      vhat = maximum(vmax[i], vi);                         // torch.maximum(max_exp_avg_sq, ...)
      vmax[i] = vhat;
    }
    const T denom = std::sqrt(vhat) / bc2_sqrt + eps;      // (sqrt() / bc2_sqrt).add_(eps)
    // param.mul_(1 - lr * wd) (AdamW), then param.addcdiv_(exp_avg, denom, value=-step_size)
    p[i] = pen.prox(w * param_scale + neg_step * mi / denom, denom);
  }
}

template <class T, bool kCentered, bool kMomentum, class Penalty>
void rmsprop_loop(const detail::RMSpropScalars& s, Penalty pen, T* p, const T* g,
                  T* square_avg, T* grad_avg, T* buf, std::int64_t n) {
  const Lerp<T> lerp(s.one_minus_alpha);
  const T alpha = static_cast<T>(s.alpha), one_minus_alpha = static_cast<T>(s.one_minus_alpha);
  const T eps = static_cast<T>(s.eps), neg_lr = static_cast<T>(s.neg_lr);
  const T wd = static_cast<T>(s.weight_decay), momentum = static_cast<T>(s.momentum);
  const bool decay = s.weight_decay != 0;
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T w = p[i];
    T d = pen.gradient(w, g[i]);
    d = add_weight_decay(decay, wd, w, d);                          // grad.add(param, alpha=wd)
    const T sq = square_avg[i] * alpha + one_minus_alpha * d * d;  // mul_(alpha).addcmul_(g, g)
    square_avg[i] = sq;
    T avg;
    if constexpr (kCentered) {
      const T ga = lerp(grad_avg[i], d);  // grad_avg.lerp_(grad, 1 - alpha)
      grad_avg[i] = ga;
      avg = std::sqrt(sq - ga * ga);      // square_avg.addcmul(ga, ga, value=-1).sqrt_()
    } else {
      avg = std::sqrt(sq);
    }
    avg = avg + eps;
    if constexpr (kMomentum) {
      const T b = buf[i] * momentum + d / avg;  // buf.mul_(momentum).addcdiv_(grad, avg)
      buf[i] = b;
      p[i] = pen.prox(w + neg_lr * b, avg);     // param.add_(buf, alpha=-lr)
    } else {
      p[i] = pen.prox(w + neg_lr * d / avg, avg);  // param.addcdiv_(grad, avg, value=-lr)
    }
  }
}

template <class T, class Penalty>
void adagrad_loop(const detail::AdagradScalars& s, Penalty pen, T* p, const T* g, T* sum,
                  std::int64_t n) {
  const T neg_clr = static_cast<T>(s.neg_clr), eps = static_cast<T>(s.eps);
  const T wd = static_cast<T>(s.weight_decay);
  const bool decay = s.weight_decay != 0;
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T w = p[i];
    T d = pen.gradient(w, g[i]);
    d = add_weight_decay(decay, wd, w, d);       // grad.add(param, alpha=wd)
    const T acc = sum[i] + d * d;                // state_sum.addcmul_(grad, grad, value=1)
    sum[i] = acc;
    const T std_dev = std::sqrt(acc) + eps;      // state_sum.sqrt().add_(eps)
    p[i] = pen.prox(w + neg_clr * d / std_dev, std_dev);  // addcdiv_(grad, std, value=-clr)
  }
}

template <class T, class Penalty>
void ftrl_loop(const FTRLOptions& o, Penalty pen, T* weight, const T* g, T* z,
               T* squared_sum, std::int64_t n) {
  const T alpha = static_cast<T>(o.alpha), beta = static_cast<T>(o.beta);
  const T l1 = static_cast<T>(o.l1), l2 = static_cast<T>(o.l2);
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T w = weight[i];
    const T gi = pen.gradient(w, g[i]);
    const T n_old = squared_sum[i];
    const T n_new = n_old + gi * gi;
    const T root = std::sqrt(n_new);
    const T sigma = (root - std::sqrt(n_old)) / alpha;
    const T zi = z[i] + gi - sigma * w;
    z[i] = zi;
    squared_sum[i] = n_new;
    const T w_new = -(zi - std::copysign(l1, zi)) / ((beta + root) / alpha + l2);
    weight[i] = std::fabs(zi) <= l1 ? T(0) : w_new;  // exact zeros; NaN fails the test
  }
}

}  // namespace

template <class T>
void sgd_kernel(const detail::SGDScalars& s, const detail::ArrayPenalty& pen, T* p, const T* g, T* buf,
                std::int64_t n) {
  with_penalty<T>(pen, s.prox_step, [&](const auto& policy) {
    if (buf == nullptr) {
      sgd_loop<T, Momentum::none>(s, policy, p, g, buf, n);
    } else if (s.first_step) {
      sgd_loop<T, Momentum::first>(s, policy, p, g, buf, n);
    } else {
      sgd_loop<T, Momentum::later>(s, policy, p, g, buf, n);
    }
  });
}

template <class T>
void adam_kernel(const detail::AdamScalars& s, const detail::ArrayPenalty& pen, T* p, const T* g, T* m,
                 T* v, T* vmax, std::int64_t n) {
  with_penalty<T>(pen, s.prox_step, [&](const auto& policy) {
    if (vmax != nullptr) {
      adam_loop<T, true>(s, policy, p, g, m, v, vmax, n);
    } else {
      adam_loop<T, false>(s, policy, p, g, m, v, vmax, n);
    }
  });
}

template <class T>
void rmsprop_kernel(const detail::RMSpropScalars& s, const detail::ArrayPenalty& pen, T* p, const T* g,
                    T* square_avg, T* grad_avg, T* buf, std::int64_t n) {
  with_penalty<T>(pen, s.prox_step, [&](const auto& policy) {
    if (grad_avg != nullptr && buf != nullptr) {
      rmsprop_loop<T, true, true>(s, policy, p, g, square_avg, grad_avg, buf, n);
    } else if (grad_avg != nullptr) {
      rmsprop_loop<T, true, false>(s, policy, p, g, square_avg, grad_avg, buf, n);
    } else if (buf != nullptr) {
      rmsprop_loop<T, false, true>(s, policy, p, g, square_avg, grad_avg, buf, n);
    } else {
      rmsprop_loop<T, false, false>(s, policy, p, g, square_avg, grad_avg, buf, n);
    }
  });
}

template <class T>
void adagrad_kernel(const detail::AdagradScalars& s, const detail::ArrayPenalty& pen, T* p, const T* g,
                    T* sum, std::int64_t n) {
  with_penalty<T>(pen, s.prox_step, [&](const auto& policy) { adagrad_loop<T>(s, policy, p, g, sum, n); });
}

template <class T>
void ftrl_kernel(const FTRLOptions& o, const detail::ArrayPenalty& pen, T* w, const T* g, T* z,
                 T* squared_sum, std::int64_t n) {
  with_gradient_penalty<T>(
      pen, [&](const auto& policy) { ftrl_loop<T>(o, policy, w, g, z, squared_sum, n); });
}

#define LKREG_INSTANTIATE(T)                                                                  \
  template void sgd_kernel<T>(const detail::SGDScalars&, const detail::ArrayPenalty&, T*, const T*,   \
                              T*, std::int64_t);                                              \
  template void adam_kernel<T>(const detail::AdamScalars&, const detail::ArrayPenalty&, T*, const T*, \
                               T*, T*, T*, std::int64_t);                                     \
  template void rmsprop_kernel<T>(const detail::RMSpropScalars&, const detail::ArrayPenalty&, T*,     \
                                  const T*, T*, T*, T*, std::int64_t);                        \
  template void adagrad_kernel<T>(const detail::AdagradScalars&, const detail::ArrayPenalty&, T*,     \
                                  const T*, T*, std::int64_t);                                \
  template void ftrl_kernel<T>(const FTRLOptions&, const detail::ArrayPenalty&, T*, const T*, T*, T*, \
                               std::int64_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg::LKREG_ISA
