// Coordinate descent for penalized least squares, one engine for every separable penalty.
// Pure C++: pointers, lengths, scalars.
//
// Minimizes  1/(2S) sum_i s_i (y_i - x_i w - b)^2 + penalty(w)   (S = sum_i s_i)
// over w (and the unpenalized intercept b when x_mean is given), the penalty a description of
// lkreg/penalty.hpp entering only through its scalar prox. The intercept is handled by
// centering implicitly (column means folded into the updates): X is never copied.
#pragma once

#include <cstdint>

#include "lkreg/penalty.hpp"

namespace lkreg {

// X: dense column-major (column j at dense + j * n_samples), or CSC (indptr of n_features + 1
// offsets; indices int32 or int64). With `gram` the solver works on the Gram form instead.
template <class T>
struct LinearProblem {
  std::int64_t n_samples = 0, n_features = 0;
  const T* dense = nullptr;
  const std::int64_t* indptr = nullptr;
  const void* indices = nullptr;
  bool indices_int64 = false;
  const T* values = nullptr;
  const T* y = nullptr;              // n_samples
  const T* sample_weight = nullptr;  // n_samples, or null for all ones
  const double* x_mean = nullptr;    // weighted column means (fit_intercept), or null
  double y_mean = 0.0;
  // Gram variant (n_samples >> n_features): centered, weighted, divided by S. Row-major p x p.
  const double* gram = nullptr;      // X_c' W X_c / S
  const double* xty = nullptr;       // X_c' W y_c / S
  double yty = 0.0;                  // y_c' W y_c / S
  double weight_sum = 0.0;           // S
  // Group lasso (lam * sum_g ||w_g||, block coordinate descent) instead of options.penalty:
  // group g holds the features group_features[group_ptr[g] .. group_ptr[g + 1]), and
  // group_lipschitz[g] >= the largest eigenvalue of X_gc' W X_gc / S (its block step).
  std::int64_t n_groups = 0;
  const std::int64_t* group_ptr = nullptr;
  const std::int64_t* group_features = nullptr;
  const double* group_lipschitz = nullptr;
  double group_lam = 0.0;
};

struct SolverOptions {
  PenaltyParams penalty;
  std::int64_t max_iter = 1000;  // epochs (passes over the working set)
  double tol = 1e-4;             // scikit-learn's meaning: gap <= tol * y_c' W y_c / S
  bool positive = false;
  bool random_selection = false;
  std::uint64_t seed = 0;
  bool working_sets = true;  // L1 / elastic net: grow working sets (celer)
  bool screening = true;     // L1 / elastic net: gap-safe screening
  // > 0: the stopping rule's absolute threshold (duality gap, or KKT violation for non-convex
  // penalties) instead of tol's relative one (proximal Newton sets it per inner solve)
  double tol_abs = 0.0;
  // stop on the KKT violation whatever the penalty (as non-convex ones do): a smooth
  // penalty's duality gap is lost in its own rounding far above a late Newton step's needs
  bool kkt_stopping = false;
};

struct SolverResult {
  std::int64_t n_iter = 0;      // epochs run
  double gap = 0.0;             // duality gap (convex penalties), else NaN
  double kkt = 0.0;             // largest KKT violation (distance to the subdifferential)
  double primal = 0.0;          // objective reached
  double tol_reached = 0.0;     // the absolute threshold the stopping rule used
  bool converged = false;
  std::int64_t n_screened = 0;  // features removed by gap-safe screening
  double intercept = 0.0;
};

// w: warm start in, solution out (n_features doubles).
template <class T>
SolverResult coordinate_descent(const LinearProblem<T>& problem, const SolverOptions& options,
                                double* w);

}  // namespace lkreg
