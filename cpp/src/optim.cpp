// Optimizer drivers: per-array scalars in double (as torch computes them on the host), one
// parallel pass over a group's arrays, and SIMD dispatch around the serial kernels.
#include "lkreg/optim.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "optim_kernels.hpp"
#include "parallel.hpp"
#include "penalty_kernels.hpp"

namespace lkreg {

namespace {

// The penalty of one array of n elements, in the form the kernels take: canonical kinds, a
// smooth description as a gradient, nothing for a zero penalty.
detail::ArrayPenalty array_penalty(const FusedPenalty& pen, std::int64_t n) {
  detail::ArrayPenalty a;
  if (pen.use == PenaltyUse::none) return a;
  const double scale = pen.per_array_mean && n > 0 ? 1.0 / static_cast<double>(n) : 1.0;
  const PenaltyParams d = detail::canonical(pen.description);
  a.use = d.is_smooth() ? PenaltyUse::gradient : pen.use;
  if (a.use != PenaltyUse::gradient && d.lam == 0 && d.l2 == 0) a.use = PenaltyUse::none;
  a.description = a.use == PenaltyUse::gradient ? d.scaled(scale) : d;
  a.step_scale = a.use == PenaltyUse::gradient ? 1.0 : scale;
  return a;
}

// A step streams memory (its sqrt and divisions hide behind the loads); a pow in the
// penalty's gradient or a Newton in its prox makes it compute-bound, which pays for the thread
// team sooner.
std::int64_t min_parallel(const FusedPenalty& pen) {
  const PenaltyParams& p = pen.description;
  const bool uses_pow = pen.use != PenaltyUse::none && p.kind == PenaltyKind::Lk &&
                        p.k != 0.5 && p.k != 1.5 && p.k != 3.0;
  return uses_pow ? detail::kParallelMinCompute : detail::kParallelMinStreaming;
}

// p + b for an optional state array.
template <class T>
T* at(T* p, std::int64_t b) {
  return p != nullptr ? p + b : nullptr;
}

// body(i, begin, end) over the ranges of the arrays' concatenation that parallel_chunks hands
// each thread: one pass over the whole group, small arrays packed into one thread's range and
// large ones split. Element-wise kernels give the same bits however the list is cut.
template <class T, class Body>
void for_each_range(const ParamArrays<T>* arrays, std::size_t count, std::int64_t min_parallel,
                    const Body& body) {
  std::vector<std::int64_t> start(count + 1, 0);
  for (std::size_t i = 0; i < count; ++i) start[i + 1] = start[i] + arrays[i].n;
  detail::parallel_chunks(start[count], min_parallel, [&](std::int64_t b, std::int64_t e) {
    std::size_t i = static_cast<std::size_t>(
        std::upper_bound(start.begin(), start.end(), b) - start.begin() - 1);
    for (; i < count && start[i] < e; ++i) {
      const std::int64_t lo = std::max(b, start[i]) - start[i];
      const std::int64_t hi = std::min(e, start[i + 1]) - start[i];
      if (lo < hi) body(i, lo, hi);
    }
  });
}

template <class T>
std::vector<detail::ArrayPenalty> array_penalties(const FusedPenalty& pen,
                                                  const ParamArrays<T>* arrays,
                                                  std::size_t count) {
  std::vector<detail::ArrayPenalty> out(count);
  for (std::size_t i = 0; i < count; ++i) out[i] = array_penalty(pen, arrays[i].n);
  return out;
}

}  // namespace

template <class T>
void sgd_step(const SGDOptions& o, const FusedPenalty& penalty, const ParamArrays<T>* arrays,
              std::size_t count) {
  const auto pens = array_penalties(penalty, arrays, count);
  detail::SGDScalars first{}, later{};
  first.neg_lr = -o.lr;
  first.momentum = o.momentum;
  first.one_minus_dampening = 1.0 - o.dampening;
  first.weight_decay = o.weight_decay;
  first.nesterov = o.nesterov;
  first.prox_step = o.lr;
  later = first;
  first.first_step = true;
  later.first_step = false;
  const auto kernel = LKREG_SELECT(sgd_kernel<T>);
  for_each_range(arrays, count, min_parallel(penalty), [&](std::size_t i, std::int64_t b,
                                                            std::int64_t e) {
    const ParamArrays<T>& a = arrays[i];
    kernel(a.step <= 1 ? first : later, pens[i], a.param + b, a.grad + b, at(a.state[0], b),
           e - b);
  });
}

template <class T>
void adam_step(const AdamOptions& o, const FusedPenalty& penalty, const ParamArrays<T>* arrays,
               std::size_t count) {
  const auto pens = array_penalties(penalty, arrays, count);
  std::vector<detail::AdamScalars> scalars(count);
  const bool decay = o.weight_decay != 0;
  for (std::size_t i = 0; i < count; ++i) {
    // torch: bias_correction1 = 1 - beta1 ** step; step_size = lr / bias_correction1;
    // bias_correction2_sqrt = bias_correction2 ** 0.5 (Python floats: C's pow)
    const double t = static_cast<double>(arrays[i].step);
    const double bias_correction1 = 1.0 - std::pow(o.beta1, t);
    const double bias_correction2 = 1.0 - std::pow(o.beta2, t);
    detail::AdamScalars& s = scalars[i];
    s.neg_step_size = -(o.lr / bias_correction1);
    s.beta1_weight = 1.0 - o.beta1;
    s.beta2 = o.beta2;
    s.one_minus_beta2 = 1.0 - o.beta2;
    s.eps = o.eps;
    s.bias_correction2_sqrt = std::pow(bias_correction2, 0.5);
    s.weight_decay = decay && !o.decoupled_weight_decay ? o.weight_decay : 0.0;
    s.param_scale = decay && o.decoupled_weight_decay ? 1.0 - o.lr * o.weight_decay : 1.0;
    s.prox_step = o.lr;
  }
  const auto kernel = LKREG_SELECT(adam_kernel<T>);
  for_each_range(arrays, count, min_parallel(penalty), [&](std::size_t i, std::int64_t b,
                                                            std::int64_t e) {
    const ParamArrays<T>& a = arrays[i];
    kernel(scalars[i], pens[i], a.param + b, a.grad + b, a.state[0] + b, a.state[1] + b,
           at(a.state[2], b), e - b);
  });
}

template <class T>
void rmsprop_step(const RMSpropOptions& o, const FusedPenalty& penalty,
                  const ParamArrays<T>* arrays, std::size_t count) {
  const auto pens = array_penalties(penalty, arrays, count);
  detail::RMSpropScalars s{};
  s.neg_lr = -o.lr;
  s.alpha = o.alpha;
  s.one_minus_alpha = 1.0 - o.alpha;
  s.eps = o.eps;
  s.weight_decay = o.weight_decay;
  s.momentum = o.momentum;
  s.prox_step = o.lr;
  const auto kernel = LKREG_SELECT(rmsprop_kernel<T>);
  for_each_range(arrays, count, min_parallel(penalty), [&](std::size_t i, std::int64_t b,
                                                            std::int64_t e) {
    const ParamArrays<T>& a = arrays[i];
    kernel(s, pens[i], a.param + b, a.grad + b, a.state[0] + b, at(a.state[1], b),
           at(a.state[2], b), e - b);
  });
}

template <class T>
void adagrad_step(const AdagradOptions& o, const FusedPenalty& penalty,
                  const ParamArrays<T>* arrays, std::size_t count) {
  const auto pens = array_penalties(penalty, arrays, count);
  std::vector<detail::AdagradScalars> scalars(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double clr =
        o.lr / (1.0 + (static_cast<double>(arrays[i].step) - 1.0) * o.lr_decay);
    scalars[i] = detail::AdagradScalars{-clr, o.weight_decay, o.eps, clr};
  }
  const auto kernel = LKREG_SELECT(adagrad_kernel<T>);
  for_each_range(arrays, count, min_parallel(penalty), [&](std::size_t i, std::int64_t b,
                                                            std::int64_t e) {
    const ParamArrays<T>& a = arrays[i];
    kernel(scalars[i], pens[i], a.param + b, a.grad + b, a.state[0] + b, e - b);
  });
}

template <class T>
void ftrl_step(const FTRLOptions& o, const FusedPenalty& penalty, const ParamArrays<T>* arrays,
               std::size_t count) {
  std::vector<detail::ArrayPenalty> pens = array_penalties(penalty, arrays, count);
  std::vector<FTRLOptions> options(count, o);
  for (std::size_t i = 0; i < count; ++i) {
    detail::ArrayPenalty& pen = pens[i];
    if (pen.use == PenaltyUse::prox || pen.use == PenaltyUse::preconditioned_prox) {
      // solved exactly by the closed form: the paper's l1 |w| + l2/2 w^2
      const PenaltyParams d = pen.description.scaled(pen.step_scale);
      if (d.kind == PenaltyKind::L1 || d.kind == PenaltyKind::ElasticNet) options[i].l1 += d.lam;
      if (d.kind == PenaltyKind::ElasticNet) options[i].l2 += 2.0 * d.l2;
      pen.use = PenaltyUse::none;
    }
  }
  const auto kernel = LKREG_SELECT(ftrl_kernel<T>);
  for_each_range(arrays, count, min_parallel(penalty), [&](std::size_t i, std::int64_t b,
                                                            std::int64_t e) {
    const ParamArrays<T>& a = arrays[i];
    kernel(options[i], pens[i], a.param + b, a.grad + b, a.state[0] + b, a.state[1] + b, e - b);
  });
}

#define LKREG_INSTANTIATE(T)                                                                   \
  template void sgd_step<T>(const SGDOptions&, const FusedPenalty&, const ParamArrays<T>*,     \
                            std::size_t);                                                      \
  template void adam_step<T>(const AdamOptions&, const FusedPenalty&, const ParamArrays<T>*,   \
                             std::size_t);                                                     \
  template void rmsprop_step<T>(const RMSpropOptions&, const FusedPenalty&,                    \
                                const ParamArrays<T>*, std::size_t);                           \
  template void adagrad_step<T>(const AdagradOptions&, const FusedPenalty&,                    \
                                const ParamArrays<T>*, std::size_t);                           \
  template void ftrl_step<T>(const FTRLOptions&, const FusedPenalty&, const ParamArrays<T>*,   \
                             std::size_t);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg
