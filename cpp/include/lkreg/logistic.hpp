// Penalized logistic regression, binary and multinomial, by proximal Newton on the
// coordinate-descent engine (lkreg/solver.hpp). Pure C++: pointers, lengths, scalars.
//
// Minimizes  sum_i c_i loss_i(W, b) + sum_k penalty(w_k)  over W (m rows of n_features) and
// the unpenalized intercepts b (when fit_intercept), with c_i = C * sample_weight_i *
// class_weight_(y_i) (the caller folds them) and
//   binary (m = 1):       loss_i = log(1 + exp(eta_i)) - [y_i = 1] eta_i,  eta_i = x_i w + b
//   multinomial (m = K):  loss_i = log(sum_k exp(eta_ik)) - eta_i,y_i,     eta_ik = x_i w_k + b_k
// Each outer step takes one class block k at a time: the quadratic model of the loss in
// (w_k, b_k) (Hessian weights c_i p_ik (1 - p_ik)) is a weighted least-squares problem that the
// engine solves with the penalty's scalar prox (working sets and screening included), then a
// backtracking line search on the true objective along the step.
#pragma once

#include <cstdint>

#include "lkreg/solver.hpp"

namespace lkreg {

template <class T>
struct LogisticProblem {
  // X as in LinearProblem (dense column-major or CSC); its other fields are not read.
  LinearProblem<T> design;
  const std::int32_t* labels = nullptr;  // class of each sample, 0 .. n_classes - 1
  std::int64_t n_classes = 2;            // 2: binary (one row of W); >= 3: multinomial
  const double* weight = nullptr;        // c_i (n_samples), sum > 0
  bool fit_intercept = true;
};

struct LogisticOptions {
  PenaltyParams penalty;
  std::int64_t max_iter = 100;     // outer (proximal Newton) iterations
  double tol = 1e-4;               // stop when kkt (below) <= tol
  // coordinate-descent epochs of the first inner solve, doubled when a solve uses them all and
  // the outer KKT violation stalls (falls by less than 4x): a truncated inner solve still gives a descent direction, and on ill-conditioned
  // designs a few cheap outer steps beat one exact one
  std::int64_t max_epochs = 20;
};

struct LogisticResult {
  std::int64_t n_iter = 0;    // outer iterations
  std::int64_t n_epochs = 0;  // inner epochs, all solves together
  // Largest distance of -gradient to the penalty's subdifferential over all coefficients (and
  // |d/db| for the intercepts), divided by sum_i c_i: scikit-learn's scaling of the objective
  // (mean log-loss + penalty / (C S)), in which its lbfgs tol bounds the gradient.
  double kkt = 0.0;
  double objective = 0.0;  // sum_i c_i loss_i + penalty
  bool converged = false;
};

// W: (m, n_features) row-major, b: (m,) (both float64): warm start in, solution out.
template <class T>
LogisticResult logistic_regression(const LogisticProblem<T>& problem,
                                   const LogisticOptions& options, double* W, double* b);

}  // namespace lkreg
