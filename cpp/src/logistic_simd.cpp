// Proximal Newton for penalized logistic regression (lkreg/logistic.hpp), compiled once per
// SIMD level like the engine it calls (solver_simd.cpp).
//
// One outer iteration visits each class block k (the only block when binary):
//   p_i = P(class k | x_i), g_i = c_i (p_i - [y_i = k]), h_i = c_i max(p_i (1 - p_i), kHmin)
//   the quadratic model  sum_i g_i d_i + h_i d_i^2 / 2 + penalty(w_k + dw)  (d_i = x_i dw + db)
//   is the weighted least squares  1/(2S) sum_i h_i (z_i - x_i w - b)^2 + penalty(w) / S
//   with z_i = eta_ik - g_i / h_i and S = sum_i h_i: the engine solves it (warm-started at
//   w_k), then a backtracking line search on the true objective along the step.
// The inner solve is as accurate as the last outer decrease asks (its gap below kInnerFraction
// of it, so the steps stay Newton-like) and never more. The outer loop stops on the KKT
// violation (logistic.hpp), or when no step lowers the objective any more (rounding).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "lkreg/logistic.hpp"
#include "logistic_kernels.hpp"
#include "prox_terms.hpp"
#include "solver_kernels.hpp"

namespace lkreg::LKREG_ISA {
namespace {

using std::int64_t;

// Hessian weights are kept above c_i * kHmin: a confidently misclassified point would make
// z_i = eta_i - g_i / h_i huge and the inner problem ill-scaled (glmnet clips p likewise).
constexpr double kHmin = 1e-6;
constexpr double kInnerFraction = 1e-3;
constexpr int kLineSearchSteps = 40;
constexpr int kMaxStalls = 3;
// the cap of the caps: a solve whose gap target sits below its rounding would run to it
constexpr int64_t kMaxEpochs = 640;
constexpr double kSlowProgress = 0.25;

inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }

inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// The design's columns in double: dot products and axpys (dense or CSC).
template <class T, class I>
class Columns {
 public:
  explicit Columns(const LinearProblem<T>& d) : d_(d), n_(d.n_samples) {}

  // x_j' v, v in double or (the Hessian weights as the engine reads them) in T
  template <class V>
  double dot(int64_t j, const V* v) const {
    double s = 0.0;
    if (d_.dense != nullptr) {
      const T* x = d_.dense + j * n_;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < n_; ++i) s += static_cast<double>(x[i]) * v[i];
    } else {
      const I* idx = static_cast<const I*>(d_.indices);
      for (int64_t t = d_.indptr[j]; t < d_.indptr[j + 1]; ++t)
        s += static_cast<double>(d_.values[t]) * v[idx[t]];
    }
    return s;
  }

  // v += a * x_j
  void axpy(int64_t j, double a, double* v) const {
    if (d_.dense != nullptr) {
      const T* x = d_.dense + j * n_;
#pragma omp simd
      for (int64_t i = 0; i < n_; ++i) v[i] += a * static_cast<double>(x[i]);
    } else {
      const I* idx = static_cast<const I*>(d_.indices);
      for (int64_t t = d_.indptr[j]; t < d_.indptr[j + 1]; ++t)
        v[idx[t]] += a * static_cast<double>(d_.values[t]);
    }
  }

 private:
  const LinearProblem<T>& d_;
  int64_t n_;
};

template <class T, class I>
class ProxNewton {
 public:
  ProxNewton(const LogisticProblem<T>& pb, const LogisticOptions& o, double* W, double* b)
      : pb_(pb), o_(o), pen_(o.penalty), cols_(pb.design), n_(pb.design.n_samples),
        p_(pb.design.n_features), m_(pb.n_classes == 2 ? 1 : pb.n_classes), W_(W), b_(b) {
    const std::size_t n = static_cast<std::size_t>(n_);
    eta_.assign(n * static_cast<std::size_t>(m_), 0.0);
    for (int64_t k = 0; k < m_; ++k) {
      if (!pb.fit_intercept) b_[k] = 0.0;
      double* e = eta(k);
      for (int64_t i = 0; i < n_; ++i) e[i] = b_[k];
      for (int64_t j = 0; j < p_; ++j)
        if (W_[k * p_ + j] != 0) cols_.axpy(j, W_[k * p_ + j], e);
    }
    wsum_ = 0.0;
    for (int64_t i = 0; i < n_; ++i) wsum_ += pb.weight[i];
    zero_penalty_ = pen_.lam == 0 && (pen_.kind != PenaltyKind::ElasticNet || pen_.l2 == 0);
    // inner solves stop on the duality gap for L1 / elastic net (their working sets and
    // screening need it), on the KKT violation otherwise
    inner_gap_ = pen_.is_convex() && !zero_penalty_ && !pen_.is_smooth();
    z_.resize(n);
    h_.resize(n);
    g_.resize(n);
    delta_.resize(n);
    prob_.resize(n);
    lse_.resize(n);
    mean_.resize(static_cast<std::size_t>(p_));
    wnew_.resize(static_cast<std::size_t>(p_));
    wt_.resize(static_cast<std::size_t>(p_));
    cap_.assign(u(m_), std::max<int64_t>(1, o.max_epochs));
    hit_cap_.assign(u(m_), 0);
  }

  LogisticResult run() {
    LogisticResult res;
    f_ = loss_total() + penalty_value<double>(pen_, W_, m_ * p_);
    std::vector<double> last(u(m_), std::fabs(f_));  // the last decrease of each block
    double kkt = violation();
    for (int stalls = 0;;) {
      if (kkt <= o_.tol || res.n_iter >= o_.max_iter) break;
      bool moved = false;
      for (int64_t k = 0; k < m_; ++k) moved = step(k, kkt, last[u(k)], res.n_epochs) || moved;
      if (m_ > 1) moved = shift_columns() || moved;
      ++res.n_iter;
      const double before = kkt;
      kkt = violation();
      // while the KKT violation falls fast, cheap truncated inner solves do; when it stalls,
      // the blocks whose solve was cut off get twice the epochs
      if (kkt > kSlowProgress * before)
        for (int64_t k = 0; k < m_; ++k)
          if (hit_cap_[u(k)]) cap_[u(k)] = std::min<int64_t>(2 * cap_[u(k)], kMaxEpochs);
      // a step that does not lower the objective tightens the next inner solve; a few in a
      // row mean the rounding floor
      stalls = moved ? 0 : stalls + 1;
      if (stalls >= kMaxStalls) break;
    }
    res.kkt = kkt;
    res.objective = f_;
    res.converged = kkt <= o_.tol;
    return res;
  }

 private:
  std::size_t u(int64_t j) const { return static_cast<std::size_t>(j); }
  double* eta(int64_t k) { return eta_.data() + u(k) * u(n_); }
  double y(int64_t i, int64_t k) const {
    const int32_t c = pb_.labels[i];
    return m_ == 1 ? static_cast<double>(c) : (c == k ? 1.0 : 0.0);
  }

  // sum_i c_i loss_i at the current eta (the objective is then updated by accurate changes)
  double loss_total() {
    double s = 0.0;
    refresh_lse();
    for (int64_t i = 0; i < n_; ++i) {
      if (pb_.weight[i] == 0) continue;
      const double e = eta(0)[i];
      s += pb_.weight[i] *
           (m_ == 1 ? softplus(e) - y(i, 0) * e : lse_[u(i)] - eta(pb_.labels[i])[i]);
    }
    return s;
  }

  // log sum_c exp(eta_ic), with eta_ik replaced by v
  double lse_with(int64_t i, int64_t k, double v) {
    double mx = -kProxInf;
    for (int64_t c = 0; c < m_; ++c) mx = std::max(mx, c == k ? v : eta(c)[i]);
    double se = 0.0;
    for (int64_t c = 0; c < m_; ++c) se += std::exp((c == k ? v : eta(c)[i]) - mx);
    return mx + std::log(se);
  }

  // lse_ = log sum_c exp(eta_ic) from scratch (multinomial; kept current by each step)
  void refresh_lse() {
    if (m_ == 1) return;
    for (int64_t i = 0; i < n_; ++i) lse_[u(i)] = lse_with(i, -1, 0.0);
  }

  // prob_ = P(class k | x_i) at the current eta (lse_ current)
  void probabilities(int64_t k) {
    const double* e = eta(k);
    for (int64_t i = 0; i < n_; ++i)
      prob_[u(i)] = m_ == 1 ? sigmoid(e[i]) : std::exp(e[i] - lse_[u(i)]);
  }

  // sum_i c_i (loss_i(eta_k + t delta) - loss_i(eta_k)), each term accurate for small moves:
  // log(sum exp) grows by log1p(p_ik expm1(d)) when eta_ik grows by d
  double loss_change(int64_t k, double t) {
    const double* e = eta(k);
    double s = 0.0;
    for (int64_t i = 0; i < n_; ++i) {
      const double c = pb_.weight[i], d = t * delta_[u(i)];
      if (c == 0 || d == 0) continue;
      double ch;
      if (std::fabs(d) <= 0.5)
        ch = std::log1p(prob_[u(i)] * std::expm1(d));
      else if (m_ == 1)
        ch = softplus(e[i] + d) - softplus(e[i]);
      else
        ch = lse_with(i, k, e[i] + d) - lse_[u(i)];
      s += c * (ch - y(i, k) * d);
    }
    return s;
  }

  // penalty(to) - penalty(from) over one row, term by term (value_change_1d)
  double penalty_change(const double* from, const double* to) const {
    double s = 0.0;
    for (int64_t j = 0; j < p_; ++j)
      if (to[j] != from[j]) s += value_change_1d(pen_, from[j], to[j]);
    return s;
  }

  // The softmax is unchanged when one vector is added to every class's coefficients, so for
  // each feature j the shift s minimizing sum_k penalty(w_kj + s) lowers the objective by the
  // penalty alone. The class blocks cannot find it: each moves its own row with the others
  // fixed, and that common direction was nearly all of the remaining error (5 digit classes,
  // elastic net, no intercept: 473 outer iterations). Convex penalties only (their sum is
  // convex in s, found by bisection on its one-sided derivatives); true when W moved.
  bool shift_columns() {
    if (zero_penalty_ || !pen_.is_convex()) return false;
    std::fill(delta_.begin(), delta_.end(), 0.0);
    bool moved = false;
    for (int64_t j = 0; j < p_; ++j) {
      const auto slope = [&](double s, bool right) {  // one-sided derivative of the sum in s
        double d = 0.0;
        for (int64_t k = 0; k < m_; ++k) {
          const double x = W_[k * p_ + j] + s;
          d += right ? right_derivative_1d(pen_, x) : -right_derivative_1d(pen_, -x);
        }
        return d;
      };
      double lo = 0.0, hi = 0.0;
      bool up;  // the minimizer lies above 0 (else below)
      if (slope(0.0, true) < 0) {
        up = true;
        for (int64_t k = 0; k < m_; ++k) hi = std::max(hi, -W_[k * p_ + j]);
      } else if (slope(0.0, false) > 0) {
        up = false;
        for (int64_t k = 0; k < m_; ++k) lo = std::min(lo, -W_[k * p_ + j]);
      } else {
        continue;  // 0 is optimal already
      }
      // keep the minimizer in [lo, hi], at the end nearest 0 of the set of minimizers
      for (int it = 0; it < 128; ++it) {
        const double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi) break;
        if (up ? slope(mid, true) < 0 : slope(mid, false) <= 0)
          lo = mid;
        else
          hi = mid;
      }
      double s = up ? hi : lo;
      // a minimizer at a kink of L1 or elastic net is s = -w_kj exactly (that coefficient
      // becomes 0): halvings cannot reach it when it is far smaller than the bracket
      for (int64_t k = 0; k < m_; ++k) {
        const double kink = -W_[k * p_ + j];
        if (kink >= lo && kink <= hi) s = kink;
      }
      double change = 0.0;
      for (int64_t k = 0; k < m_; ++k)
        change += value_change_1d(pen_, W_[k * p_ + j], W_[k * p_ + j] + s);
      if (!(change < 0)) continue;  // nothing to gain beyond rounding
      for (int64_t k = 0; k < m_; ++k) W_[k * p_ + j] += s;
      cols_.axpy(j, s, delta_.data());
      f_ += change;
      moved = true;
    }
    if (moved)
      for (int64_t k = 0; k < m_; ++k) {
        double* e = eta(k);
        for (int64_t i = 0; i < n_; ++i) e[i] += delta_[u(i)];
      }
    return moved;
  }

  // The KKT violation (logistic.hpp) at the current W, b.
  double violation() {
    double worst = 0.0;
    for (int64_t k = 0; k < m_; ++k) {
      double gb = 0.0;
      if (k == 0) refresh_lse();  // once per outer iteration: no drift from the updates
      probabilities(k);
      for (int64_t i = 0; i < n_; ++i) {
        g_[u(i)] = pb_.weight[i] * (prob_[u(i)] - y(i, k));
        gb += g_[u(i)];
      }
      if (pb_.fit_intercept) worst = std::max(worst, std::fabs(gb));
      for (int64_t j = 0; j < p_; ++j)
        worst = std::max(worst, subdiff_distance_1d(pen_, W_[k * p_ + j], cols_.dot(j, g_.data())));
    }
    return worst / wsum_;
  }

  // One proximal Newton step on block k; true when it lowered the objective.
  bool step(int64_t k, double kkt, double& last, int64_t& epochs) {
    double S = 0.0, zm = 0.0;
    const double* e = eta(k);
    probabilities(k);
    for (int64_t i = 0; i < n_; ++i) {
      const double c = pb_.weight[i];
      const double p = prob_[u(i)];
      const double g = c * (p - y(i, k));
      const double h = c * std::max(p * (1.0 - p), kHmin);
      g_[u(i)] = g;
      h_[u(i)] = static_cast<T>(h);
      z_[u(i)] = static_cast<T>(h > 0 ? e[i] - g / h : e[i]);
      S += static_cast<double>(h_[u(i)]);
      zm += static_cast<double>(h_[u(i)]) * static_cast<double>(z_[u(i)]);
    }
    if (!(S > 0)) return false;
    LinearProblem<T> inner = pb_.design;
    inner.y = z_.data();
    inner.sample_weight = h_.data();
    inner.weight_sum = S;
    if (pb_.fit_intercept) {
      for (int64_t j = 0; j < p_; ++j) mean_[u(j)] = cols_.dot(j, h_.data()) / S;
      inner.x_mean = mean_.data();
      inner.y_mean = zm / S;
    }
    SolverOptions so;
    so.penalty = pen_.scaled(1.0 / S);
    so.max_iter = cap_[u(k)];
    so.kkt_stopping = !inner_gap_;
    // the gap in the model's units (sum_i ...), or the KKT violation in the engine's (1 / S)
    // (no floor: the epoch cap bounds a solve that cannot reach it)
    so.tol_abs = inner_gap_ ? std::max(kInnerFraction * last / S, std::numeric_limits<double>::min())
                            : 0.1 * kkt * wsum_ / S;
    double* w = W_ + k * p_;
    std::copy(w, w + p_, wnew_.begin());
    const SolverResult r = coordinate_descent_kernel<T>(inner, so, wnew_.data());
    epochs += r.n_iter;
    hit_cap_[u(k)] = r.n_iter >= cap_[u(k)];
    const double db = pb_.fit_intercept ? r.intercept - b_[k] : 0.0;
    // delta = X (w_new - w) + db, and the model's predicted change
    std::fill(delta_.begin(), delta_.end(), db);
    for (int64_t j = 0; j < p_; ++j)
      if (wnew_[u(j)] != w[j]) cols_.axpy(j, wnew_[u(j)] - w[j], delta_.data());
    double predicted = penalty_change(w, wnew_.data());
    for (int64_t i = 0; i < n_; ++i) predicted += g_[u(i)] * delta_[u(i)];
    double t = 1.0;
    for (int s = 0; s < kLineSearchSteps; ++s, t *= 0.5) {
      const double* wt = wnew_.data();
      if (t < 1.0) {
        for (int64_t j = 0; j < p_; ++j) wt_[u(j)] = w[j] + t * (wnew_[u(j)] - w[j]);
        wt = wt_.data();
      }
      const double change = loss_change(k, t) + penalty_change(w, wt);
      const bool ok = predicted < 0 ? change <= 1e-4 * t * predicted : change < 0;
      if (!ok || !std::isfinite(change)) continue;
      double* ek = eta(k);
      for (int64_t i = 0; i < n_; ++i) {
        const double d = t * delta_[u(i)];
        ek[i] += d;
        // log sum exp moves by log1p(p_ik expm1(d)) (recomputed where d is large)
        if (m_ > 1 && d != 0)
          lse_[u(i)] = std::fabs(d) <= 0.5 ? lse_[u(i)] + std::log1p(prob_[u(i)] * std::expm1(d))
                                            : lse_with(i, -1, 0.0);
      }
      std::copy(wt, wt + p_, w);
      b_[k] += t * db;
      last = -change;
      f_ += change;
      return change < 0;
    }
    last *= kInnerFraction;  // ask the next inner solve for more
    return false;
  }

  const LogisticProblem<T>& pb_;
  const LogisticOptions& o_;
  PenaltyParams pen_;
  Columns<T, I> cols_;
  int64_t n_, p_, m_;
  double* W_;
  double* b_;
  bool inner_gap_ = true;
  bool zero_penalty_ = false;  // lam = 0 (and l2 = 0): any shift is as good as none
  double wsum_ = 0.0, f_ = 0.0;
  std::vector<double> eta_, g_, delta_, prob_, lse_, mean_, wnew_, wt_;
  std::vector<T> z_, h_;
  std::vector<int64_t> cap_;  // epoch cap of each block's next inner solve
  std::vector<char> hit_cap_;  // whether its last solve used them all
};

}  // namespace

template <class T>
LogisticResult logistic_kernel(const LogisticProblem<T>& pb, const LogisticOptions& o,
                               double* W, double* b) {
  if (pb.design.dense != nullptr || !pb.design.indices_int64)
    return ProxNewton<T, std::int32_t>(pb, o, W, b).run();
  return ProxNewton<T, std::int64_t>(pb, o, W, b).run();
}

template LogisticResult logistic_kernel<float>(const LogisticProblem<float>&,
                                               const LogisticOptions&, double*, double*);
template LogisticResult logistic_kernel<double>(const LogisticProblem<double>&,
                                                const LogisticOptions&, double*, double*);

}  // namespace lkreg::LKREG_ISA
