// Proximal operators and thresholding over flat arrays. Pure C++: pointers, lengths, scalars.
// Element-wise: y may be x itself; results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace lkreg {

// y = c * sign(x) * max(|x| - t, 0): soft-thresholding (c = 1), and the elastic-net prox
// (c = 1 / (1 + 2 step l2)). NaN propagates.
template <class T>
void soft_threshold(const T* x, T t, T c, T* y, std::int64_t n);
// The same with an array of thresholds broadcast against x (weighted L1): x viewed as
// (outer, mid, inner) and t of mid entries, t[j] applying to x[(o * mid + j) * inner + i].
// t of x's shape is mid = n, inner = 1; one threshold per row of an (m, p) x is mid = m,
// inner = p; one per column is mid = p, inner = 1. Returns false when t has a negative entry,
// found in the same pass (y is then fully written but meaningless).
template <class T>
bool soft_threshold_weighted(const T* x, const T* t, std::int64_t mid, std::int64_t inner, T* y,
                             std::int64_t n);

// y = x where |x| > t else 0 (NaN kept).
template <class T>
void hard_threshold(const T* x, T t, T* y, std::int64_t n);
template <class T>
bool hard_threshold_weighted(const T* x, const T* t, std::int64_t mid, std::int64_t inner, T* y,
                             std::int64_t n);

// y = c * x (weight decay: c = 1 - rate; the L2 prox: c = 1 / (1 + 2 step lam)).
template <class T>
void scale(const T* x, T c, T* y, std::int64_t n);

// y = argmin_z 0.5 (z - x)^2 + tau |z|^k for real k > 0, tau >= 0: the exact global minimizer,
// 0 on a tie between 0 and a nonzero minimizer (k < 1).
template <class T>
void lk_prox(const T* x, double k, double tau, T* y, std::int64_t n);

// Group lasso pieces. Groups of a (outer, len, inner) view: group (o, i) holds
// x[(o*len + j)*inner + i] for j < len; sumsq has outer*inner entries. group_scale_* write
// y = factor[group] * x, or with accumulate add it to y (a penalty's add_grad).
template <class T>
void group_sumsq_axis(const T* x, std::int64_t outer, std::int64_t len, std::int64_t inner,
                      double* sumsq);
template <class T>
void group_scale_axis(const T* x, std::int64_t outer, std::int64_t len, std::int64_t inner,
                      const double* factor, T* y, bool accumulate = false);
// Groups given by an id per element, 0 <= ids[i] < number of groups (checked by the caller);
// group_sumsq_ids adds into sumsq, which the caller zeroes.
template <class T>
void group_sumsq_ids(const T* x, const std::int64_t* ids, std::int64_t n, double* sumsq);
template <class T>
void group_scale_ids(const T* x, const std::int64_t* ids, std::int64_t n, const double* factor,
                     T* y, bool accumulate = false);

}  // namespace lkreg
