// The coordinate-descent engine (lkreg/solver.hpp), compiled once per SIMD level so that its
// dot products and axpys over columns vectorize for each (see dispatch.hpp).
//
// One update serves every separable penalty: w_j = prox_1d(d, w_j + q_j / L_j, 1 / L_j), with
// q_j = x_cj' W r_c / S the negative partial gradient and L_j = ||x_cj||_W^2 / S
// (prox_terms.hpp). Around it:
// - L1 / elastic net (convex, non-smooth): working sets grown by the distance of each feature
//   to its dual constraint (celer), gap-safe sphere screening, and the duality gap of the
//   problem written as a Lasso (the elastic net's l2 term as extra rows), scikit-learn's gap.
// - smooth convex penalties (L2, Lk with k > 1): cyclic epochs, the Fenchel duality gap with
//   the penalty's conjugate.
// - non-convex penalties (L0, Lk with k < 1) and the zero penalty: full epochs alternating with
//   epochs over the support (KKT-driven active set); stop when a full epoch leaves the support
//   unchanged and the largest distance to the (limiting) subdifferential is below
//   tol * sqrt(y_c' W y_c / S * max_j L_j) (tol times a bound on the gradient at w = 0).
// The states (a residual over dense or CSC columns, or the Gram form) offer q_j and a move of
// one coordinate; the intercept is b = y_mean - x_mean . w, kept up to date with each move.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "lkreg/solver.hpp"
#include "parallel.hpp"
#include "prox_terms.hpp"
#include "solver_kernels.hpp"

namespace lkreg::LKREG_ISA {
namespace {

using std::int64_t;

// Residual r = y - X w over the raw columns (double), with the intercept b so that the centered
// residual is r - b. The invariant sum_i s_i (r_i - b) = 0 gives x_cj' W r_c = x_j' W r - S mu_j b.
template <class T, class I>
class ResidualState {
 public:
  ResidualState(const LinearProblem<T>& pb, const double* w) : pb_(pb), n_(pb.n_samples) {
    refresh(w);
  }

  // r = y - X w and b from scratch: rounding in the running updates never accumulates
  void refresh(const double* w) {
    r_.assign(pb_.y, pb_.y + n_);
    b_ = pb_.x_mean != nullptr ? pb_.y_mean : 0.0;
    for (int64_t j = 0; j < pb_.n_features; ++j)
      if (w[j] != 0) move(j, w[j]);
  }

  static constexpr bool kCheapGradient = false;

  double q(int64_t j) const {
    const double d = column_dot(j, r_.data()) / pb_.weight_sum;
    return pb_.x_mean != nullptr ? d - pb_.x_mean[j] * b_ : d;
  }

  // w_j += delta
  void move(int64_t j, double delta) {
    double* r = r_.data();
    if (pb_.dense != nullptr) {
      const T* x = pb_.dense + j * n_;
#pragma omp simd
      for (int64_t i = 0; i < n_; ++i) r[i] -= delta * static_cast<double>(x[i]);
    } else {
      const I* idx = static_cast<const I*>(pb_.indices);
      const T* v = pb_.values;
      for (int64_t k = pb_.indptr[j]; k < pb_.indptr[j + 1]; ++k)
        r[idx[k]] -= delta * static_cast<double>(v[k]);
    }
    if (pb_.x_mean != nullptr) b_ -= pb_.x_mean[j] * delta;
  }

  // ||x_cj||_W^2 / S
  double lipschitz(int64_t j) const {
    double ss = 0.0;
    const T* s = pb_.sample_weight;
    if (pb_.dense != nullptr) {
      const T* x = pb_.dense + j * n_;
      if (s == nullptr) {
#pragma omp simd reduction(+ : ss)
        for (int64_t i = 0; i < n_; ++i) ss += static_cast<double>(x[i]) * x[i];
      } else {
#pragma omp simd reduction(+ : ss)
        for (int64_t i = 0; i < n_; ++i) ss += static_cast<double>(s[i]) * x[i] * x[i];
      }
    } else {
      const I* idx = static_cast<const I*>(pb_.indices);
      for (int64_t k = pb_.indptr[j]; k < pb_.indptr[j + 1]; ++k) {
        const double v = pb_.values[k];
        ss += (s == nullptr ? 1.0 : static_cast<double>(s[idx[k]])) * v * v;
      }
    }
    const double m = pb_.x_mean != nullptr ? pb_.x_mean[j] : 0.0;
    return std::max(0.0, ss / pb_.weight_sum - m * m);
  }

  // ||r_c||_W^2 / S and r_c' W y_c / S
  void residual_stats(const double*, double& r2, double& ry) const {
    const double b = b_, yb = pb_.x_mean != nullptr ? pb_.y_mean : 0.0;
    const T* s = pb_.sample_weight;
    const T* y = pb_.y;
    const double* r = r_.data();
    double a = 0.0, c = 0.0;
    if (s == nullptr) {
#pragma omp simd reduction(+ : a, c)
      for (int64_t i = 0; i < n_; ++i) {
        const double e = r[i] - b;
        a += e * e;
        c += e * (static_cast<double>(y[i]) - yb);
      }
    } else {
#pragma omp simd reduction(+ : a, c)
      for (int64_t i = 0; i < n_; ++i) {
        const double e = r[i] - b;
        a += static_cast<double>(s[i]) * e * e;
        c += static_cast<double>(s[i]) * e * (static_cast<double>(y[i]) - yb);
      }
    }
    r2 = a / pb_.weight_sum;
    ry = c / pb_.weight_sum;
  }

  double intercept() const { return pb_.x_mean != nullptr ? b_ : 0.0; }

 private:
  // x_j' W v
  double column_dot(int64_t j, const double* v) const {
    double d = 0.0;
    const T* s = pb_.sample_weight;
    if (pb_.dense != nullptr) {
      const T* x = pb_.dense + j * n_;
      if (s == nullptr) {
#pragma omp simd reduction(+ : d)
        for (int64_t i = 0; i < n_; ++i) d += static_cast<double>(x[i]) * v[i];
      } else {
#pragma omp simd reduction(+ : d)
        for (int64_t i = 0; i < n_; ++i) d += static_cast<double>(x[i]) * s[i] * v[i];
      }
    } else {
      const I* idx = static_cast<const I*>(pb_.indices);
      const T* val = pb_.values;
      for (int64_t k = pb_.indptr[j]; k < pb_.indptr[j + 1]; ++k)
        d += static_cast<double>(val[k]) * (s == nullptr ? 1.0 : static_cast<double>(s[idx[k]])) *
             v[idx[k]];
    }
    return d;
  }

  const LinearProblem<T>& pb_;
  int64_t n_;
  std::vector<double> r_;
  double b_ = 0.0;
};

// The Gram form: q = X_c' W y_c / S - G w kept for every feature; a move is an axpy of p.
template <class T>
class GramState {
 public:
  GramState(const LinearProblem<T>& pb, const double* w) : pb_(pb), p_(pb.n_features) {
    refresh(w);
  }

  void refresh(const double* w) {
    q_.assign(pb_.xty, pb_.xty + p_);
    for (int64_t j = 0; j < p_; ++j)
      if (w[j] != 0) move(j, w[j]);
  }

  static constexpr bool kCheapGradient = true;

  double q(int64_t j) const { return q_[static_cast<std::size_t>(j)]; }

  void move(int64_t j, double delta) {
    const double* g = pb_.gram + j * p_;  // symmetric: row j is column j
    double* q = q_.data();
#pragma omp simd
    for (int64_t i = 0; i < p_; ++i) q[i] -= delta * g[i];
  }

  double lipschitz(int64_t j) const { return std::max(0.0, pb_.gram[j * p_ + j]); }

  // ||r||^2 = y'y - 2 w'X'y + w'Gw = y'y - w'X'y - w'q;  r'y = y'y - w'X'y
  void residual_stats(const double* w, double& r2, double& ry) const {
    double wxy = 0.0, wq = 0.0;
    for (int64_t j = 0; j < p_; ++j) {
      wxy += w[j] * pb_.xty[j];
      wq += w[j] * q_[static_cast<std::size_t>(j)];
    }
    ry = pb_.yty - wxy;
    r2 = std::max(0.0, ry - wq);
  }

  double intercept() const { return 0.0; }  // the caller computes it from the means

 private:
  const LinearProblem<T>& pb_;
  int64_t p_;
  std::vector<double> q_;
};

// xorshift64*: selection="random" draws coordinates from it (seeded: deterministic).
struct Random {
  std::uint64_t s;
  explicit Random(std::uint64_t seed) : s(seed * 2685821657736338717ULL + 0x9E3779B97F4A7C15ULL) {
    if (s == 0) s = 1;
  }
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
};

// y_c' W y_c / S: the scale of scikit-learn's tol.
template <class T>
double centered_y_norm2(const LinearProblem<T>& pb) {
  if (pb.gram != nullptr) return pb.yty;
  const double yb = pb.x_mean != nullptr ? pb.y_mean : 0.0;
  double a = 0.0;
  for (int64_t i = 0; i < pb.n_samples; ++i) {
    const double e = static_cast<double>(pb.y[i]) - yb;
    a += (pb.sample_weight == nullptr ? 1.0 : static_cast<double>(pb.sample_weight[i])) * e * e;
  }
  return a / pb.weight_sum;
}

enum class Regime { lasso_like, smooth, nonconvex };

template <class T, class State>
class Engine {
 public:
  Engine(const LinearProblem<T>& pb, const SolverOptions& o, double* w)
      : o_(o), pen_(o.penalty), p_(pb.n_features), w_(w), state_(pb, w), rng_(o.seed) {
    const bool zero = pen_.lam == 0 && (pen_.kind != PenaltyKind::ElasticNet || pen_.l2 == 0);
    if (!pen_.is_convex() || zero || o.kkt_stopping)
      regime_ = Regime::nonconvex;
    else if (pen_.is_smooth())
      regime_ = Regime::smooth;
    else
      regime_ = Regime::lasso_like;
    l1_ = pen_.lam;
    l2_ = pen_.kind == PenaltyKind::ElasticNet ? pen_.l2 : 0.0;
    L_.resize(static_cast<std::size_t>(p_));
    q_.assign(static_cast<std::size_t>(p_), 0.0);
    active_.assign(static_cast<std::size_t>(p_), 1);
    detail::parallel_chunks(p_, column_min_parallel(pb), [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) L_[static_cast<std::size_t>(j)] = state_.lipschitz(j);
    });
    for (int64_t j = 0; j < p_; ++j) {
      if (L_[static_cast<std::size_t>(j)] > 0) continue;
      // a constant column moves only the penalty: 0 is optimal (and w_j does not move r)
      active_[static_cast<std::size_t>(j)] = 0;
      w_[j] = 0.0;
    }
    y2_ = centered_y_norm2(pb);
    Lmax_ = L_.empty() ? 0.0 : *std::max_element(L_.begin(), L_.end());
    min_parallel_ = column_min_parallel(pb);
  }

  SolverResult run() {
    SolverResult res;
    if (regime_ == Regime::nonconvex)
      run_nonconvex(res);
    else
      run_convex(res);
    res.n_iter = n_iter_;
    res.intercept = state_.intercept();
    // screened: inactive features other than the constant columns
    for (int64_t j = 0; j < p_; ++j) res.n_screened += !active_[u(j)] && L_[u(j)] > 0 ? 1 : 0;
    return res;
  }

 private:
  static int64_t column_min_parallel(const LinearProblem<T>& pb) {
    // a feature costs one pass over its column: parallel once the columns add up
    const int64_t per = pb.gram != nullptr ? pb.n_features : std::max<int64_t>(1, pb.n_samples);
    return std::max<int64_t>(2, detail::kParallelMinStreaming / per);
  }

  std::size_t u(int64_t j) const { return static_cast<std::size_t>(j); }

  // One coordinate update; returns |delta| * sqrt(L_j) (the change in the loss's metric).
  double update(int64_t j) {
    const double L = L_[u(j)];
    const double old = w_[j];
    double nw = prox_1d<double>(pen_, old + state_.q(j) / L, 1.0 / L);
    if (o_.positive && nw < 0) nw = 0.0;
    if (nw == old) return 0.0;
    state_.move(j, nw - old);
    w_[j] = nw;
    return std::fabs(nw - old) * std::sqrt(L);
  }

  // One pass over `set` (cyclic, or random draws with replacement); returns the largest
  // change and sets max_w to the largest |w_j| seen.
  double epoch(const std::vector<int64_t>& set, double& max_w) {
    double max_dw = 0.0;
    max_w = 0.0;
    const std::size_t m = set.size();
    for (std::size_t t = 0; t < m; ++t) {
      const int64_t j = o_.random_selection ? set[rng_.next() % m] : set[t];
      if (!active_[u(j)]) continue;
      max_dw = std::max(max_dw, update(j));
      max_w = std::max(max_w, std::fabs(w_[j]) * std::sqrt(L_[u(j)]));
    }
    ++n_iter_;
    return max_dw;
  }

  void fill_q(const std::vector<int64_t>& set) {
    if (State::kCheapGradient) {
      for (int64_t j : set) q_[u(j)] = state_.q(j);
      return;
    }
    const int64_t m = static_cast<int64_t>(set.size());
    detail::parallel_chunks(m, min_parallel_, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) q_[u(set[u(t)])] = state_.q(set[u(t)]);
    });
  }

  // Duality gap over `set` (q_ filled for it). For L1 / elastic net also returns the dual
  // scaling a (the dual point is a * r_c / S).
  double gap(const std::vector<int64_t>& set, double& a, double& primal) {
    double r2 = 0.0, ry = 0.0;
    state_.residual_stats(w_, r2, ry);
    double pen_value = penalty_value<double>(pen_, w_, p_);
    primal = 0.5 * r2 + pen_value;
    a = 1.0;
    if (regime_ == Regime::lasso_like) {
      // the elastic net as a Lasso over [X; sqrt(2 l2 S) I]: q' = q - 2 l2 w, ||r'||^2 adds
      // 2 l2 ||w||^2 (scikit-learn's gap)
      double m = 0.0, w2 = 0.0;
      for (int64_t j : set) {
        const double qa = q_[u(j)] - 2.0 * l2_ * w_[j];
        m = std::max(m, o_.positive ? qa : std::fabs(qa));
      }
      for (int64_t j = 0; j < p_; ++j) w2 += w_[j] * w_[j];
      if (m > l1_) a = l1_ / m;
      const double r2a = r2 + 2.0 * l2_ * w2;
      return primal - (a * ry - 0.5 * a * a * r2a);
    }
    double conj = 0.0;
    for (int64_t j : set) conj += smooth_conjugate_1d(pen_, q_[u(j)], o_.positive);
    return primal - (ry - 0.5 * r2 - conj);
  }

  double kkt(const std::vector<int64_t>& set) const {
    double k = 0.0;
    for (int64_t j : set) {
      const double g = -q_[u(j)];
      double d = subdiff_distance_1d(pen_, w_[j], g);
      if (o_.positive && w_[j] == 0 && g >= 0) d = 0.0;  // the constraint's normal cone
      k = std::max(k, d);
    }
    return k;
  }

  std::vector<int64_t> active_list() const {
    std::vector<int64_t> s;
    for (int64_t j = 0; j < p_; ++j)
      if (active_[u(j)]) s.push_back(j);
    return s;
  }

  // Gap-safe sphere test (L1 / elastic net as a Lasso): the dual optimum lies within
  // sqrt(2 gap / S) of the current dual point, so |x_j' theta*| < l1 proves w_j* = 0.
  void screen(const std::vector<int64_t>& set, double a, double g) {
    if (!o_.screening || g <= 0) return;
    for (int64_t j : set) {
      const double qa = q_[u(j)] - 2.0 * l2_ * w_[j];
      const double corr = a * (o_.positive ? qa : std::fabs(qa));
      if (corr + std::sqrt(2.0 * (L_[u(j)] + 2.0 * l2_) * g) < l1_) {
        if (w_[j] != 0) {
          state_.move(j, -w_[j]);
          w_[j] = 0.0;
        }
        active_[u(j)] = 0;
      }
    }
  }

  // Features closest to violating their dual constraint (all nonzero ones first), celer's
  // d_j = (l1 - |x_j' theta|) / ||x_j||.
  std::vector<int64_t> working_set(const std::vector<int64_t>& act, double a, std::size_t size) {
    if (size >= act.size()) return act;
    std::vector<std::pair<double, int64_t>> score;
    score.reserve(act.size());
    for (int64_t j : act) {
      const double qa = q_[u(j)] - 2.0 * l2_ * w_[j];
      const double d = w_[j] != 0 ? -kProxInf
                                  : (l1_ - a * (o_.positive ? qa : std::fabs(qa))) /
                                        std::sqrt(L_[u(j)] + 2.0 * l2_);
      score.emplace_back(d, j);
    }
    std::nth_element(score.begin(), score.begin() + static_cast<std::ptrdiff_t>(size), score.end());
    std::vector<int64_t> ws;
    ws.reserve(size);
    for (std::size_t t = 0; t < size; ++t) ws.push_back(score[t].second);
    std::sort(ws.begin(), ws.end());
    return ws;
  }

  void run_convex(SolverResult& res) {
    const double tol_abs = o_.tol_abs > 0 ? o_.tol_abs : o_.tol * y2_;
    res.tol_reached = tol_abs;
    std::size_t ws_size = 10;
    double a = 1.0, primal = 0.0, g = kProxInf, previous_gap = kProxInf;
    for (;;) {
      std::vector<int64_t> act = active_list();
      state_.refresh(w_);
      fill_q(act);
      g = gap(act, a, primal);
      if (g <= tol_abs || n_iter_ >= o_.max_iter) break;
      // pruned working sets (twice the support) grow only when the outer gap stalls
      if (g > 0.5 * previous_gap) ws_size *= 2;
      previous_gap = g;
      std::vector<int64_t> ws = act;
      double tol_in = tol_abs;
      if (regime_ == Regime::lasso_like) {
        screen(act, a, g);
        act = active_list();
        if (o_.working_sets) {
          std::size_t nnz = 0;
          for (int64_t j : act) nnz += w_[j] != 0 ? 1 : 0;
          ws = working_set(act, a, std::max(ws_size, 2 * nnz));
          if (ws.size() < act.size()) tol_in = std::max(tol_abs, 0.3 * g);
        }
      }
      // epochs on ws until its own gap reaches tol_in (checked every few epochs, or when the
      // coordinates stop moving: scikit-learn's trigger), Anderson-extrapolated every kAnderson
      history_.clear();
      for (int since = 1; n_iter_ < o_.max_iter; ++since) {
        double max_w = 0.0;
        const double max_dw = epoch(ws, max_w);
        extrapolate(ws);
        if (max_w == 0 || max_dw <= o_.tol * max_w || since % 5 == 0 ||
            n_iter_ >= o_.max_iter) {
          fill_q(ws);
          double ai = 1.0, pi = 0.0;
          if (gap(ws, ai, pi) <= tol_in) break;
        }
      }
    }
    res.gap = g;
    res.primal = primal;
    res.converged = g <= tol_abs;
    res.kkt = kkt(active_list());
  }

  // Anderson acceleration of the epochs on ws (as celer and skglm do): after kAnderson + 1
  // iterates, the affine combination with the smallest combined step, kept only when it lowers
  // the objective (so convergence is never hurt).
  static constexpr std::size_t kAnderson = 5;

  double objective() const {
    double r2 = 0.0, ry = 0.0;
    state_.residual_stats(w_, r2, ry);
    return 0.5 * r2 + penalty_value<double>(pen_, w_, p_);
  }

  void extrapolate(const std::vector<int64_t>& ws) {
    std::vector<double> now(ws.size());
    for (std::size_t t = 0; t < ws.size(); ++t) now[t] = w_[ws[t]];
    history_.push_back(std::move(now));
    if (history_.size() < kAnderson + 1) return;
    const std::size_t K = kAnderson, m = ws.size();
    // U_k = x_{k+1} - x_k; solve (U'U) z = 1, c = z / sum z
    double M[kAnderson][kAnderson + 1];
    for (std::size_t i = 0; i < K; ++i) {
      for (std::size_t j = 0; j <= i; ++j) {
        double d = 0.0;
        for (std::size_t t = 0; t < m; ++t)
          d += (history_[i + 1][t] - history_[i][t]) * (history_[j + 1][t] - history_[j][t]);
        M[i][j] = M[j][i] = d;
      }
      M[i][K] = 1.0;
    }
    bool ok = true;
    for (std::size_t c = 0; c < K && ok; ++c) {  // Gaussian elimination, partial pivoting
      std::size_t piv = c;
      for (std::size_t r = c + 1; r < K; ++r)
        if (std::fabs(M[r][c]) > std::fabs(M[piv][c])) piv = r;
      if (!(std::fabs(M[piv][c]) > 1e-300)) { ok = false; break; }
      for (std::size_t k = 0; k <= K; ++k) std::swap(M[c][k], M[piv][k]);
      for (std::size_t r = 0; r < K; ++r) {
        if (r == c) continue;
        const double f = M[r][c] / M[c][c];
        for (std::size_t k = c; k <= K; ++k) M[r][k] -= f * M[c][k];
      }
    }
    double z[kAnderson], sum = 0.0;
    for (std::size_t i = 0; ok && i < K; ++i) sum += (z[i] = M[i][K] / M[i][i]);
    if (ok && std::isfinite(sum) && sum != 0) {
      std::vector<double> acc(m, 0.0);
      bool feasible = true;
      for (std::size_t t = 0; t < m; ++t) {
        for (std::size_t i = 0; i < K; ++i) acc[t] += z[i] / sum * history_[i + 1][t];
        feasible = feasible && std::isfinite(acc[t]) && !(o_.positive && acc[t] < 0);
      }
      // a step much longer than the last kAnderson epochs' is a direction the data do not
      // determine (the null space of X when p > n): moving far along it only costs precision
      double step = 0.0, span = 0.0;
      for (std::size_t t = 0; t < m; ++t) {
        step = std::max(step, std::fabs(acc[t] - history_[K][t]));
        span = std::max(span, std::fabs(history_[K][t] - history_[0][t]));
      }
      feasible = feasible && step <= 10.0 * span;
      if (feasible) {
        const double before = objective();
        std::vector<double> old(m);
        for (std::size_t t = 0; t < m; ++t) {
          old[t] = w_[ws[t]];
          move_to(ws[t], acc[t]);
        }
        if (!(objective() < before - 1e-15 * std::fabs(before)))
          for (std::size_t t = 0; t < m; ++t) move_to(ws[t], old[t]);
      }
    }
    history_.clear();
  }

  void move_to(int64_t j, double v) {
    if (w_[j] == v) return;
    state_.move(j, v - w_[j]);
    w_[j] = v;
  }

  void run_nonconvex(SolverResult& res) {
    const double tol_kkt = o_.tol_abs > 0 ? o_.tol_abs : o_.tol * std::sqrt(y2_ * Lmax_);
    res.tol_reached = tol_kkt;
    const std::vector<int64_t> all = active_list();
    double k = kProxInf;
    while (n_iter_ < o_.max_iter) {
      std::vector<char> before(u(p_));
      for (int64_t j = 0; j < p_; ++j) before[u(j)] = w_[j] != 0;
      double max_w = 0.0;
      epoch(all, max_w);
      bool changed = false;
      std::vector<int64_t> support;
      for (int64_t j : all) {
        const bool nz = w_[j] != 0;
        changed = changed || nz != static_cast<bool>(before[u(j)]);
        if (nz) support.push_back(j);
      }
      fill_q(all);
      k = kkt(all);
      if (!changed && k <= tol_kkt) break;
      // epochs over the support until it settles
      while (!support.empty() && n_iter_ < o_.max_iter) {
        const double max_dw = epoch(support, max_w);
        if (max_dw <= o_.tol * max_w || max_w == 0) break;
      }
    }
    fill_q(all);
    res.kkt = kkt(all);
    double r2 = 0.0, ry = 0.0;
    state_.residual_stats(w_, r2, ry);
    res.primal = 0.5 * r2 + penalty_value<double>(pen_, w_, p_);
    res.gap = std::numeric_limits<double>::quiet_NaN();
    res.converged = res.kkt <= tol_kkt;
  }

  const SolverOptions& o_;
  PenaltyParams pen_;
  int64_t p_;
  double* w_;
  State state_;
  Random rng_;
  Regime regime_ = Regime::smooth;
  double l1_ = 0.0, l2_ = 0.0, y2_ = 0.0, Lmax_ = 0.0;
  int64_t min_parallel_ = 2;
  std::int64_t n_iter_ = 0;
  std::vector<double> L_, q_;
  std::vector<char> active_;
  std::vector<std::vector<double>> history_;
};

// Block coordinate descent for the group lasso lam * sum_g ||w_g||: a block step
// w_g = block_soft(w_g + q_g / L_g, lam / L_g) per group, gap-safe screening of whole groups,
// and the duality gap with the dual norm max_g ||X_g' theta||.
template <class T, class State>
class GroupEngine {
 public:
  GroupEngine(const LinearProblem<T>& pb, const SolverOptions& o, double* w)
      : pb_(pb), o_(o), p_(pb.n_features), G_(pb.n_groups), lam_(pb.group_lam), w_(w),
        state_(pb, w), q_(static_cast<std::size_t>(pb.n_features)),
        active_(static_cast<std::size_t>(pb.n_groups), 1) {
    y2_ = centered_y_norm2(pb);
    for (int64_t g = 0; g < G_; ++g)
      if (!(pb.group_lipschitz[g] > 0)) {  // constant columns only: 0 is optimal
        active_[static_cast<std::size_t>(g)] = 0;
        for (int64_t t = pb.group_ptr[g]; t < pb.group_ptr[g + 1]; ++t) set(pb.group_features[t], 0.0);
      }
  }

  SolverResult run() {
    SolverResult res;
    const double tol_abs = o_.tol_abs > 0 ? o_.tol_abs : o_.tol * y2_;
    res.tol_reached = tol_abs;
    double g = kProxInf, a = 1.0;
    for (int since = 0;; ++since) {
      if (since % 5 == 0 || n_iter_ >= o_.max_iter) {
        fill_q();
        g = gap(a, res.primal);
        if (g <= tol_abs || n_iter_ >= o_.max_iter) break;
        screen(a, g);
      }
      for (int64_t k = 0; k < G_; ++k)
        if (active_[static_cast<std::size_t>(k)]) update(k);
      ++n_iter_;
    }
    res.gap = g;
    res.converged = g <= tol_abs;
    res.n_iter = n_iter_;
    res.intercept = state_.intercept();
    double kkt = 0.0;
    for (int64_t k = 0; k < G_; ++k) kkt = std::max(kkt, violation(k));
    res.kkt = kkt;
    for (int64_t k = 0; k < G_; ++k)
      res.n_screened += !active_[static_cast<std::size_t>(k)] && pb_.group_lipschitz[k] > 0;
    return res;
  }

 private:
  int64_t begin(int64_t k) const { return pb_.group_ptr[k]; }
  int64_t end(int64_t k) const { return pb_.group_ptr[k + 1]; }
  int64_t feat(int64_t t) const { return pb_.group_features[t]; }

  void set(int64_t j, double v) {
    if (w_[j] != v) state_.move(j, v - w_[j]);
    w_[j] = v;
  }

  void update(int64_t k) {
    const double L = pb_.group_lipschitz[k];
    std::vector<double>& z = scratch_;
    z.clear();
    double norm2 = 0.0;
    for (int64_t t = begin(k); t < end(k); ++t) {
      const int64_t j = feat(t);
      double v = w_[j] + state_.q(j) / L;
      if (o_.positive && v < 0) v = 0.0;
      z.push_back(v);
      norm2 += v * v;
    }
    const double f = block_soft_factor(std::sqrt(norm2), lam_ / L);
    for (int64_t t = begin(k); t < end(k); ++t) set(feat(t), f * z[static_cast<std::size_t>(t - begin(k))]);
  }

  void fill_q() {
    for (int64_t j = 0; j < p_; ++j) q_[static_cast<std::size_t>(j)] = state_.q(j);
  }

  double qnorm(int64_t k) const {
    double s = 0.0;
    for (int64_t t = begin(k); t < end(k); ++t) {
      double v = q_[static_cast<std::size_t>(feat(t))];
      if (o_.positive && v < 0) v = 0.0;
      s += v * v;
    }
    return std::sqrt(s);
  }

  double wnorm(int64_t k) const {
    double s = 0.0;
    for (int64_t t = begin(k); t < end(k); ++t) s += w_[feat(t)] * w_[feat(t)];
    return std::sqrt(s);
  }

  // || -q_g + lam w_g / ||w_g|| || (w_g != 0) or max(0, ||q_g|| - lam)
  double violation(int64_t k) const {
    const double wn = wnorm(k);
    if (wn == 0) return std::max(0.0, qnorm(k) - lam_);
    double s = 0.0;
    for (int64_t t = begin(k); t < end(k); ++t) {
      const double d = -q_[static_cast<std::size_t>(feat(t))] + lam_ * w_[feat(t)] / wn;
      s += d * d;
    }
    return std::sqrt(s);
  }

  double gap(double& a, double& primal) {
    double r2 = 0.0, ry = 0.0;
    state_.residual_stats(w_, r2, ry);
    double pen = 0.0, m = 0.0;
    for (int64_t k = 0; k < G_; ++k) {
      pen += wnorm(k);
      if (active_[static_cast<std::size_t>(k)]) m = std::max(m, qnorm(k));
    }
    primal = 0.5 * r2 + lam_ * pen;
    a = m > lam_ ? lam_ / m : 1.0;
    return primal - (a * ry - 0.5 * a * a * r2);
  }

  void screen(double a, double g) {
    if (!o_.screening || g <= 0) return;
    for (int64_t k = 0; k < G_; ++k) {
      if (!active_[static_cast<std::size_t>(k)]) continue;
      if (a * qnorm(k) + std::sqrt(2.0 * pb_.group_lipschitz[k] * g) < lam_) {
        for (int64_t t = begin(k); t < end(k); ++t) set(feat(t), 0.0);
        active_[static_cast<std::size_t>(k)] = 0;
      }
    }
  }

  const LinearProblem<T>& pb_;
  const SolverOptions& o_;
  int64_t p_, G_;
  double lam_;
  double* w_;
  State state_;
  std::vector<double> q_, scratch_;
  std::vector<char> active_;
  double y2_ = 0.0;
  int64_t n_iter_ = 0;
};

template <class T, class State>
SolverResult solve(const LinearProblem<T>& pb, const SolverOptions& o, double* w) {
  if (pb.group_ptr != nullptr) return GroupEngine<T, State>(pb, o, w).run();
  Engine<T, State> engine(pb, o, w);
  return engine.run();
}

}  // namespace

template <class T>
SolverResult coordinate_descent_kernel(const LinearProblem<T>& pb, const SolverOptions& o,
                                       double* w) {
  if (pb.gram != nullptr) return solve<T, GramState<T>>(pb, o, w);
  if (pb.dense != nullptr || !pb.indices_int64)
    return solve<T, ResidualState<T, std::int32_t>>(pb, o, w);
  return solve<T, ResidualState<T, std::int64_t>>(pb, o, w);
}

template SolverResult coordinate_descent_kernel<float>(const LinearProblem<float>&,
                                                       const SolverOptions&, double*);
template SolverResult coordinate_descent_kernel<double>(const LinearProblem<double>&,
                                                        const SolverOptions&, double*);

}  // namespace lkreg::LKREG_ISA
