// Penalty drivers: threading and SIMD dispatch around the serial kernels.
#include "lkreg/penalty.hpp"

#include "parallel.hpp"
#include "penalty_kernels.hpp"

namespace lkreg {

PenaltyParams detail::canonical(const PenaltyParams& p) {
  PenaltyParams q = p;
  if (p.kind == PenaltyKind::Lk && (p.k == 1.0 || p.k == 2.0)) {
    q.kind = p.k == 1.0 ? PenaltyKind::L1 : PenaltyKind::L2;
  } else if (p.kind == PenaltyKind::ElasticNet && (p.lam == 0 || p.l2 == 0)) {
    q.kind = p.l2 == 0 ? PenaltyKind::L1 : PenaltyKind::L2;
    q.lam = p.l2 == 0 ? p.lam : p.l2;
  }
  return q;
}

namespace {

std::int64_t min_parallel(const PenaltyParams& p) {
  const bool uses_pow =
      p.kind == PenaltyKind::Lk && p.k != 0.5 && p.k != 1.5 && p.k != 3.0;
  return uses_pow ? detail::kParallelMinCompute : detail::kParallelMinStreaming;
}

}  // namespace

template <class T>
double penalty_value(const PenaltyParams& params, const T* w, std::int64_t n) {
  const PenaltyParams p = detail::canonical(params);
  const auto kernel = LKREG_SELECT(penalty_value_kernel<T>);
  return detail::value_scale(p) *
         detail::blocked_sum(n, min_parallel(p), [&](std::int64_t begin, std::int64_t end) {
           return kernel(p, w + begin, end - begin);
         });
}

template <class T>
void penalty_grad(const PenaltyParams& params, const T* w, T* g, std::int64_t n,
                  bool accumulate) {
  const PenaltyParams p = detail::canonical(params);
  const auto kernel = LKREG_SELECT(penalty_grad_kernel<T>);
  detail::parallel_chunks(n, min_parallel(p), [&](std::int64_t begin, std::int64_t end) {
    kernel(p, w + begin, g + begin, end - begin, accumulate);
  });
}

template <class T>
double penalty_value_and_grad(const PenaltyParams& params, const T* w, T* g, std::int64_t n,
                              bool accumulate) {
  const PenaltyParams p = detail::canonical(params);
  const auto kernel = LKREG_SELECT(penalty_value_and_grad_kernel<T>);
  return detail::value_scale(p) *
         detail::blocked_sum(n, min_parallel(p), [&](std::int64_t begin, std::int64_t end) {
           return kernel(p, w + begin, g + begin, end - begin, accumulate);
         });
}

#define LKREG_INSTANTIATE(T)                                                                   \
  template double penalty_value<T>(const PenaltyParams&, const T*, std::int64_t);              \
  template void penalty_grad<T>(const PenaltyParams&, const T*, T*, std::int64_t, bool);       \
  template double penalty_value_and_grad<T>(const PenaltyParams&, const T*, T*, std::int64_t,  \
                                            bool);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg
