// Proximal operators and thresholding over flat arrays. Pure C++: pointers, lengths, scalars.
// Element-wise: y may be x itself; results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace lkreg {

// y = c * sign(x) * max(|x| - t, 0): soft-thresholding (c = 1), and the elastic-net prox
// (c = 1 / (1 + 2 step l2)). NaN propagates.
template <class T>
void soft_threshold(const T* x, T t, T c, T* y, std::int64_t n);
// The same with a threshold per element (weighted L1).
template <class T>
void soft_threshold_weighted(const T* x, const T* t, T* y, std::int64_t n);

// y = x where |x| > t else 0 (NaN kept).
template <class T>
void hard_threshold(const T* x, T t, T* y, std::int64_t n);
template <class T>
void hard_threshold_weighted(const T* x, const T* t, T* y, std::int64_t n);

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
