// Prox drivers: threading and SIMD dispatch around the serial kernels.
#include "lkreg/prox.hpp"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <vector>

#include "parallel.hpp"
#include "penalty_kernels.hpp"
#include "prox_kernels.hpp"

namespace lkreg {

using detail::kParallelMinCompute;
using detail::kParallelMinStreaming;
using detail::parallel_chunks;

template <class T>
void soft_threshold(const T* x, T t, T c, T* y, std::int64_t n) {
  const auto kernel = LKREG_SELECT(soft_threshold_kernel<T>);
  parallel_chunks(n, kParallelMinStreaming,
                  [&](std::int64_t b, std::int64_t e) { kernel(x + b, t, c, y + b, e - b); });
}

namespace {

// Broadcast thresholds whose period is short are tiled into one of at least this many elements,
// so that each kernel call covers a run long enough to vectorize and amortize the call.
constexpr std::int64_t kMinThresholdRun = 1024;

// Runs of `inner` elements sharing one threshold shorter than this go through the per-element
// kernel, their thresholds spread into a buffer block by block.
constexpr std::int64_t kMinScalarRun = 64;

// t broadcast as (outer, mid, inner) over x (see prox.hpp), through `weighted` (a threshold per
// element) over runs of x that line up with t, or `scalar` over runs of `inner` elements that
// share one threshold. Each element sees the same threshold and formula whichever way the runs
// and threads split x, so the result does not depend on the split.
template <class T, class Weighted, class Scalar>
bool threshold_broadcast(const T* x, const T* t, std::int64_t mid, std::int64_t inner, T* y,
                         std::int64_t n, Weighted weighted, Scalar scalar) {
  if (n == 0) return true;
  std::vector<T> expanded;  // t repeated along `inner`, so it turns into a period of inner == 1
  if (inner > 1 && inner < kMinScalarRun && mid * inner <= 64 * kMinThresholdRun) {
    expanded.resize(static_cast<std::size_t>(mid * inner));
    for (std::int64_t j = 0; j < mid; ++j)
      std::fill_n(expanded.begin() + j * inner, inner, t[j]);
    t = expanded.data();
    mid *= inner;
    inner = 1;
  }
  std::vector<T> tiled;  // a short period repeated: t[i % mid] == tiled[i % (mid * reps)]
  if (inner == 1 && mid < kMinThresholdRun && mid < n) {
    const std::int64_t reps = (kMinThresholdRun + mid - 1) / mid;
    tiled.resize(static_cast<std::size_t>(mid * reps));
    for (std::int64_t r = 0; r < reps; ++r) std::copy_n(t, mid, tiled.begin() + r * mid);
    t = tiled.data();
    mid *= reps;
  }
  std::atomic<bool> all_nonnegative{true};
  parallel_chunks(n, kParallelMinStreaming, [&](std::int64_t b, std::int64_t e) {
    bool ok = true;
    T spread[kMinThresholdRun];  // short runs: each element's threshold, for one block
    for (std::int64_t i = b; i < e;) {
      std::int64_t len;
      if (inner == 1) {
        const std::int64_t j = i % mid;
        len = std::min(e - i, mid - j);
        ok &= weighted(x + i, t + j, y + i, len);
      } else if (inner < kMinScalarRun) {
        len = std::min(e - i, kMinThresholdRun);
        const std::int64_t q = i / inner;
        std::int64_t j = q % mid, left = (q + 1) * inner - i;  // left: of run q, from i on
        for (std::int64_t k = 0; k < len;) {
          const std::int64_t run = std::min(left, len - k);
          std::fill_n(spread + k, run, t[j]);
          k += run;
          left -= run;
          if (left == 0) {
            left = inner;
            if (++j == mid) j = 0;
          }
        }
        ok &= weighted(x + i, spread, y + i, len);
      } else {
        const std::int64_t q = i / inner;
        len = std::min(e, (q + 1) * inner) - i;
        const T tj = t[q % mid];
        ok &= !(tj < 0);
        scalar(x + i, tj, y + i, len);
      }
      i += len;
    }
    if (!ok) all_nonnegative.store(false, std::memory_order_relaxed);
  });
  return all_nonnegative.load();
}

}  // namespace

template <class T>
bool soft_threshold_weighted(const T* x, const T* t, std::int64_t mid, std::int64_t inner, T* y,
                             std::int64_t n) {
  const auto scalar = LKREG_SELECT(soft_threshold_kernel<T>);
  return threshold_broadcast(x, t, mid, inner, y, n, LKREG_SELECT(soft_threshold_weighted_kernel<T>),
                             [scalar](const T* xp, T tv, T* yp, std::int64_t len) {
                               scalar(xp, tv, T(1), yp, len);
                             });
}

template <class T>
void hard_threshold(const T* x, T t, T* y, std::int64_t n) {
  const auto kernel = LKREG_SELECT(hard_threshold_kernel<T>);
  parallel_chunks(n, kParallelMinStreaming,
                  [&](std::int64_t b, std::int64_t e) { kernel(x + b, t, y + b, e - b); });
}

template <class T>
bool hard_threshold_weighted(const T* x, const T* t, std::int64_t mid, std::int64_t inner, T* y,
                             std::int64_t n) {
  return threshold_broadcast(x, t, mid, inner, y, n, LKREG_SELECT(hard_threshold_weighted_kernel<T>),
                             LKREG_SELECT(hard_threshold_kernel<T>));
}

template <class T>
void scale(const T* x, T c, T* y, std::int64_t n) {
  const auto kernel = LKREG_SELECT(scale_kernel<T>);
  parallel_chunks(n, kParallelMinStreaming,
                  [&](std::int64_t b, std::int64_t e) { kernel(x + b, c, y + b, e - b); });
}

template <class T>
void lk_prox(const T* x, double k, double tau, T* y, std::int64_t n) {
  if (tau == 0) return scale(x, T(1), y, n);  // identity (a copy unless in place)
  if (k == 1.0) return soft_threshold(x, static_cast<T>(tau), T(1), y, n);
  if (k == 2.0) return scale(x, static_cast<T>(1.0 / (1.0 + 2.0 * tau)), y, n);
  const auto kernel = LKREG_SELECT(lk_prox_kernel<T>);
  parallel_chunks(n, kParallelMinCompute,
                  [&](std::int64_t b, std::int64_t e) { kernel(x + b, k, tau, y + b, e - b); });
}

template <class T>
void penalty_prox(const PenaltyParams& params, const T* w, double step, T* y, std::int64_t n) {
  const PenaltyParams p = detail::canonical(params);
  switch (p.kind) {
    case PenaltyKind::L1:
      return soft_threshold(w, static_cast<T>(step * p.lam), T(1), y, n);
    case PenaltyKind::L2:
      return scale(w, static_cast<T>(1.0 / (1.0 + 2.0 * step * p.lam)), y, n);
    case PenaltyKind::ElasticNet:
      return soft_threshold(w, static_cast<T>(step * p.lam),
                            static_cast<T>(1.0 / (1.0 + 2.0 * step * p.l2)), y, n);
    case PenaltyKind::L0:  // keep w_i iff 0.5 w_i^2 > step * lam (ties go to 0)
      return hard_threshold(w, static_cast<T>(std::sqrt(2.0 * step * p.lam)), y, n);
    case PenaltyKind::Lk:
      break;
  }
  lk_prox(w, p.k, step * p.lam, y, n);
}

template <class T>
void penalty_prox_steps(const PenaltyParams& params, const T* w, const T* step, T* y,
                        std::int64_t n) {
  const PenaltyParams p = detail::canonical(params);
  const bool uses_pow = p.kind == PenaltyKind::Lk && p.k != 0.5 && p.k != 1.5 && p.k != 3.0;
  const auto kernel = LKREG_SELECT(penalty_prox_steps_kernel<T>);
  parallel_chunks(n, uses_pow ? kParallelMinCompute : kParallelMinStreaming,
                  [&](std::int64_t b, std::int64_t e) { kernel(p, w + b, step + b, y + b, e - b); });
}

template <class T>
void penalty_subdiff_distance(const PenaltyParams& params, const T* w, const T* g, T* d,
                              std::int64_t n) {
  const PenaltyParams p = detail::canonical(params);
  const auto kernel = LKREG_SELECT(subdiff_distance_kernel<T>);
  parallel_chunks(n, kParallelMinCompute,
                  [&](std::int64_t b, std::int64_t e) { kernel(p, w + b, g + b, d + b, e - b); });
}

namespace {
// Parallel over `outer` only when the groups hold enough elements in all.
std::int64_t min_parallel_outer(std::int64_t len, std::int64_t inner) {
  return std::max<std::int64_t>(1, kParallelMinStreaming / std::max<std::int64_t>(1, len * inner));
}
}  // namespace

// Each group is summed in a fixed order by one thread, so any split over `outer` gives the
// same bits.
template <class T>
void group_sumsq_axis(const T* x, std::int64_t outer, std::int64_t len, std::int64_t inner,
                      double* sumsq) {
  parallel_chunks(outer, min_parallel_outer(len, inner),
                  [&](std::int64_t ob, std::int64_t oe) {
                    for (std::int64_t o = ob; o < oe; ++o) {
                      double* acc = sumsq + o * inner;
                      for (std::int64_t i = 0; i < inner; ++i) acc[i] = 0.0;
                      for (std::int64_t j = 0; j < len; ++j) {
                        const T* row = x + (o * len + j) * inner;
                        for (std::int64_t i = 0; i < inner; ++i) {
                          const double v = static_cast<double>(row[i]);
                          acc[i] += v * v;
                        }
                      }
                    }
                  });
}

template <class T>
void group_scale_axis(const T* x, std::int64_t outer, std::int64_t len, std::int64_t inner,
                      const double* factor, T* y, bool accumulate) {
  parallel_chunks(outer, min_parallel_outer(len, inner),
                  [&](std::int64_t ob, std::int64_t oe) {
                    for (std::int64_t o = ob; o < oe; ++o) {
                      const double* f = factor + o * inner;
                      for (std::int64_t j = 0; j < len; ++j) {
                        const std::int64_t base = (o * len + j) * inner;
                        for (std::int64_t i = 0; i < inner; ++i) {
                          const T v = static_cast<T>(f[i] * static_cast<double>(x[base + i]));
                          y[base + i] = accumulate ? y[base + i] + v : v;
                        }
                      }
                    }
                  });
}

template <class T>
void group_sumsq_ids(const T* x, const std::int64_t* ids, std::int64_t n, double* sumsq) {
  for (std::int64_t i = 0; i < n; ++i) {  // serial: a fixed order per group
    const double v = static_cast<double>(x[i]);
    sumsq[ids[i]] += v * v;
  }
}

template <class T>
void group_scale_ids(const T* x, const std::int64_t* ids, std::int64_t n, const double* factor,
                     T* y, bool accumulate) {
  parallel_chunks(n, kParallelMinStreaming, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      const T v = static_cast<T>(factor[ids[i]] * static_cast<double>(x[i]));
      y[i] = accumulate ? y[i] + v : v;
    }
  });
}

#define LKREG_INSTANTIATE(T)                                                                   \
  template void soft_threshold<T>(const T*, T, T, T*, std::int64_t);                           \
  template bool soft_threshold_weighted<T>(const T*, const T*, std::int64_t, std::int64_t, T*, \
                                           std::int64_t);                                      \
  template void hard_threshold<T>(const T*, T, T*, std::int64_t);                              \
  template bool hard_threshold_weighted<T>(const T*, const T*, std::int64_t, std::int64_t, T*, \
                                           std::int64_t);                                      \
  template void scale<T>(const T*, T, T*, std::int64_t);                                       \
  template void lk_prox<T>(const T*, double, double, T*, std::int64_t);                        \
  template void penalty_prox<T>(const PenaltyParams&, const T*, double, T*, std::int64_t);     \
  template void penalty_prox_steps<T>(const PenaltyParams&, const T*, const T*, T*,            \
                                      std::int64_t);                                           \
  template void penalty_subdiff_distance<T>(const PenaltyParams&, const T*, const T*, T*,      \
                                            std::int64_t);                                     \
  template void group_sumsq_axis<T>(const T*, std::int64_t, std::int64_t, std::int64_t,        \
                                    double*);                                                  \
  template void group_scale_axis<T>(const T*, std::int64_t, std::int64_t, std::int64_t,        \
                                    const double*, T*, bool);                                  \
  template void group_sumsq_ids<T>(const T*, const std::int64_t*, std::int64_t, double*);      \
  template void group_scale_ids<T>(const T*, const std::int64_t*, std::int64_t, const double*, \
                                   T*, bool);
LKREG_INSTANTIATE(float)
LKREG_INSTANTIATE(double)
#undef LKREG_INSTANTIATE

}  // namespace lkreg
