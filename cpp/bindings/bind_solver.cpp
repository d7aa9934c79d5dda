// The coordinate-descent engine (lkreg/solver.hpp). The Python layer (lkreg.linear_model)
// validates the estimator's arguments; this binding checks what it reads (dtypes, shapes,
// layout), so a wrong call is an exception, never a bad read.
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "gil.hpp"
#include "lkreg/logistic.hpp"
#include "lkreg/solver.hpp"

namespace lkreg::bind {

using namespace pybind11::literals;

namespace {

void check_vector(const py::array& a, const char* name, std::int64_t n, const py::dtype& dt) {
  if (!a.dtype().equal(dt))
    throw py::type_error(std::string(name) + " must have dtype " +
                         py::str(dt).cast<std::string>() + ", got " + dtype_name(a));
  if (a.ndim() != 1 || a.shape(0) != n)
    throw py::value_error(std::string(name) + " must have shape (" + std::to_string(n) +
                          ",), got " + shape_str(a));
  if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be contiguous");
}

template <class T>
const T* optional_vector(const py::object& obj, const char* name, std::int64_t n) {
  if (obj.is_none()) return nullptr;
  const py::array a = py::reinterpret_borrow<py::array>(obj);
  check_vector(a, name, n, py::dtype::of<T>());
  return data<T>(a);
}

py::dict result_dict(const SolverResult& r) {
  return py::dict("n_iter"_a = r.n_iter, "gap"_a = r.gap, "kkt"_a = r.kkt, "primal"_a = r.primal,
                  "tol"_a = r.tol_reached, "converged"_a = r.converged,
                  "n_screened"_a = r.n_screened, "intercept"_a = r.intercept);
}

// The group-lasso fields (all None for an element-wise penalty).
template <class T>
void set_groups(LinearProblem<T>& pb, const py::object& ptr, const py::object& features,
                const py::object& lipschitz, double lam) {
  if (ptr.is_none()) return;
  const py::array gp = py::reinterpret_borrow<py::array>(ptr);
  const std::int64_t G = gp.ndim() == 1 ? gp.shape(0) - 1 : -1;
  if (G < 0) throw py::value_error("group_ptr must be 1-D with n_groups + 1 entries");
  check_vector(gp, "group_ptr", G + 1, py::dtype::of<std::int64_t>());
  const auto* g = data<std::int64_t>(gp);
  const py::array gf = py::reinterpret_borrow<py::array>(features);
  check_vector(gf, "group_features", pb.n_features, py::dtype::of<std::int64_t>());
  if (g[0] != 0 || g[G] != pb.n_features) throw py::value_error("group_ptr does not cover the features");
  for (std::int64_t k = 0; k < G; ++k)
    if (g[k + 1] < g[k]) throw py::value_error("group_ptr must be non-decreasing");
  const auto* f = data<std::int64_t>(gf);
  std::vector<char> seen(static_cast<std::size_t>(pb.n_features), 0);
  for (std::int64_t t = 0; t < pb.n_features; ++t) {
    if (f[t] < 0 || f[t] >= pb.n_features || seen[static_cast<std::size_t>(f[t])])
      throw py::value_error("group_features must be a permutation of the features");
    seen[static_cast<std::size_t>(f[t])] = 1;
  }
  if (!(lam >= 0)) throw py::value_error("group_lam must be >= 0");
  pb.n_groups = G;
  pb.group_ptr = g;
  pb.group_features = f;
  pb.group_lipschitz = optional_vector<double>(lipschitz, "group_lipschitz", G);
  if (pb.group_lipschitz == nullptr) throw py::value_error("group_lipschitz is required");
  pb.group_lam = lam;
}

// X: an (n, p) Fortran-ordered array, or the CSC triple (data, indices, indptr) with n_samples,
// checked once for every solver that reads a design matrix.
struct Design {
  py::array source;
  Float f = Float::f64;
  bool dense = true;
  std::int64_t n = 0, p = 0;
  const std::int64_t* ptr = nullptr;
  const void* idx = nullptr;
  bool i64 = false;

  template <class T>
  void fill(LinearProblem<T>& pb) const {
    pb.indptr = ptr;
    pb.indices = idx;
    pb.indices_int64 = i64;
    pb.n_samples = n;
    pb.n_features = p;
    if (dense) pb.dense = bind::data<T>(source); else pb.values = bind::data<T>(source);
  }
};

Design design_of(const py::object& X, const py::object& data_, const py::object& indices,
                 const py::object& indptr, std::int64_t n_samples) {
  Design d;
  d.dense = !X.is_none();
  d.source = d.dense ? py::reinterpret_borrow<py::array>(X) : py::reinterpret_borrow<py::array>(data_);
  const py::array& source = d.source;
  d.f = float_dtype(source, d.dense ? "X" : "data");
  if (d.dense) {
    if (source.ndim() != 2) throw py::value_error("X must be 2-D, got " + shape_str(source));
    if (!(source.flags() & py::array::f_style))
      throw py::value_error("X must be Fortran-ordered (column-major)");
    d.n = source.shape(0);
    d.p = source.shape(1);
    return d;
  }
  const py::array ip = py::reinterpret_borrow<py::array>(indptr);
  const py::array ix = py::reinterpret_borrow<py::array>(indices);
  const std::int64_t p = ip.ndim() == 1 ? ip.shape(0) - 1 : -1;
  if (p < 0) throw py::value_error("indptr must be 1-D with n_features + 1 entries");
  check_vector(ip, "indptr", p + 1, py::dtype::of<std::int64_t>());
  d.i64 = ix.dtype().equal(py::dtype::of<std::int64_t>());
  check_vector(ix, "indices", source.shape(0),
               d.i64 ? py::dtype::of<std::int64_t>() : py::dtype::of<std::int32_t>());
  if (!(source.flags() & py::array::c_style) || source.ndim() != 1)
    throw py::value_error("data must be 1-D and contiguous");
  const std::int64_t* ptr = data<std::int64_t>(ip);
  const std::int64_t nnz = source.shape(0);
  if (ptr[0] != 0 || ptr[p] != nnz) throw py::value_error("indptr does not match data");
  for (std::int64_t j = 0; j < p; ++j)
    if (ptr[j + 1] < ptr[j]) throw py::value_error("indptr must be non-decreasing");
  for (std::int64_t k = 0; k < nnz; ++k) {
    const std::int64_t r = d.i64 ? data<std::int64_t>(ix)[k] : data<std::int32_t>(ix)[k];
    if (r < 0 || r >= n_samples) throw py::value_error("indices out of range");
  }
  d.n = n_samples;
  d.p = p;
  d.ptr = ptr;
  d.idx = ix.data();
  return d;
}

}  // namespace

void bind_solver(py::module_& m) {
  py::class_<SolverOptions>(m, "SolverOptions")
      .def(py::init([](const PenaltyParams& penalty, std::int64_t max_iter, double tol,
                       bool positive, bool random_selection, std::uint64_t seed,
                       bool working_sets, bool screening, double tol_abs,
                       bool kkt_stopping) {
             if (max_iter < 0) throw py::value_error("max_iter must be >= 0");
             if (!(tol >= 0)) throw py::value_error("tol must be >= 0");
             if (!(tol_abs >= 0)) throw py::value_error("tol_abs must be >= 0");
             return SolverOptions{penalty, max_iter, tol, positive, random_selection, seed,
                                  working_sets, screening, tol_abs, kkt_stopping};
           }),
           "penalty"_a, "max_iter"_a = 1000, "tol"_a = 1e-4, "positive"_a = false,
           "random_selection"_a = false, "seed"_a = 0, "working_sets"_a = true,
           "screening"_a = true, "tol_abs"_a = 0.0, "kkt_stopping"_a = false);

  // X: an (n, p) Fortran-ordered array, or the CSC triple (data, indices, indptr) with
  // n_samples; w: float64 (p,), the warm start, overwritten with the solution.
  m.def(
      "coordinate_descent",
      [](const SolverOptions& options, py::array w, const py::object& X, const py::object& data_,
         const py::object& indices, const py::object& indptr, std::int64_t n_samples,
         const py::object& y, const py::object& sample_weight, const py::object& x_mean,
         double y_mean, double weight_sum, const py::object& group_ptr,
         const py::object& group_features, const py::object& group_lipschitz, double group_lam) {
        const Design d = design_of(X, data_, indices, indptr, n_samples);
        const std::int64_t p = d.p;
        n_samples = d.n;
        check_vector(w, "w", p, py::dtype::of<double>());
        if (!w.writeable()) throw py::value_error("w is read-only");
        if (!(weight_sum > 0)) throw py::value_error("weight_sum must be > 0");
        const double* mean = optional_vector<double>(x_mean, "x_mean", p);
        return with_float(d.f, [&](auto t) {
          using T = decltype(t);
          LinearProblem<T> pb;
          d.fill(pb);
          pb.y = optional_vector<T>(y, "y", n_samples);
          if (pb.y == nullptr) throw py::value_error("y is required");
          pb.sample_weight = optional_vector<T>(sample_weight, "sample_weight", n_samples);
          pb.x_mean = mean;
          pb.y_mean = y_mean;
          pb.weight_sum = weight_sum;
          set_groups(pb, group_ptr, group_features, group_lipschitz, group_lam);
          SolverResult r;
          {
            ReleaseGil nogil;  // parks a daemon thread at shutdown (gil.hpp)
            r = coordinate_descent<T>(pb, options, mutable_data<double>(w));
          }
          return result_dict(r);
        });
      },
      "options"_a, "w"_a.noconvert(), "X"_a = py::none(), "data"_a = py::none(),
      "indices"_a = py::none(), "indptr"_a = py::none(), "n_samples"_a = 0,
      "y"_a = py::none(), "sample_weight"_a = py::none(), "x_mean"_a = py::none(),
      "y_mean"_a = 0.0, "weight_sum"_a = 1.0, "group_ptr"_a = py::none(),
      "group_features"_a = py::none(), "group_lipschitz"_a = py::none(), "group_lam"_a = 0.0);

  // The Gram form: gram = X_c' W X_c / S (C-ordered float64, symmetric), xty = X_c' W y_c / S,
  // yty = y_c' W y_c / S.
  m.def(
      "coordinate_descent_gram",
      [](const SolverOptions& options, py::array w, const py::array& gram, const py::array& xty,
         double yty, const py::object& group_ptr, const py::object& group_features,
         const py::object& group_lipschitz, double group_lam) {
        const std::int64_t p = xty.ndim() == 1 ? xty.shape(0) : -1;
        check_vector(xty, "xty", p, py::dtype::of<double>());
        if (!gram.dtype().equal(py::dtype::of<double>()) || gram.ndim() != 2 ||
            gram.shape(0) != p || gram.shape(1) != p || !(gram.flags() & py::array::c_style))
          throw py::value_error("gram must be a C-ordered float64 array of shape (p, p)");
        check_vector(w, "w", p, py::dtype::of<double>());
        if (!w.writeable()) throw py::value_error("w is read-only");
        LinearProblem<double> pb;
        pb.n_features = p;
        pb.gram = data<double>(gram);
        pb.xty = data<double>(xty);
        pb.yty = yty;
        pb.weight_sum = 1.0;
        set_groups(pb, group_ptr, group_features, group_lipschitz, group_lam);
        SolverResult r;
        {
          ReleaseGil nogil;  // parks a daemon thread at shutdown (gil.hpp)
          r = coordinate_descent<double>(pb, options, mutable_data<double>(w));
        }
        return result_dict(r);
      },
      "options"_a, "w"_a.noconvert(), "gram"_a.noconvert(), "xty"_a.noconvert(), "yty"_a,
      "group_ptr"_a = py::none(), "group_features"_a = py::none(),
      "group_lipschitz"_a = py::none(), "group_lam"_a = 0.0);

  // Penalized logistic regression (lkreg/logistic.hpp): X as coordinate_descent's; labels int32
  // in [0, n_classes); weight float64 (C * sample_weight * class_weight); W float64 (m, p)
  // C-ordered and b float64 (m,), m = 1 when n_classes == 2: warm start in, solution out.
  m.def(
      "logistic_regression",
      [](const PenaltyParams& penalty, py::array W, py::array b, const py::object& X,
         const py::object& data_, const py::object& indices, const py::object& indptr,
         std::int64_t n_samples, const py::array& labels, const py::array& weight,
         std::int64_t n_classes, bool fit_intercept, std::int64_t max_iter, double tol,
         std::int64_t max_epochs) {
        const Design d = design_of(X, data_, indices, indptr, n_samples);
        if (n_classes < 2) throw py::value_error("n_classes must be >= 2");
        const std::int64_t m = n_classes == 2 ? 1 : n_classes;
        if (!W.dtype().equal(py::dtype::of<double>()) || W.ndim() != 2 || W.shape(0) != m ||
            W.shape(1) != d.p || !(W.flags() & py::array::c_style) || !W.writeable())
          throw py::value_error("W must be a writable C-ordered float64 array of shape (" +
                                std::to_string(m) + ", " + std::to_string(d.p) + ")");
        check_vector(b, "b", m, py::dtype::of<double>());
        if (!b.writeable()) throw py::value_error("b is read-only");
        check_vector(labels, "labels", d.n, py::dtype::of<std::int32_t>());
        check_vector(weight, "weight", d.n, py::dtype::of<double>());
        const auto* lab = data<std::int32_t>(labels);
        const auto* wt = data<double>(weight);
        double total = 0.0;
        for (std::int64_t i = 0; i < d.n; ++i) {
          if (lab[i] < 0 || lab[i] >= n_classes) throw py::value_error("labels out of range");
          if (!(wt[i] >= 0) || !std::isfinite(wt[i]))
            throw py::value_error("weight must be finite and >= 0");
          total += wt[i];
        }
        if (!(total > 0)) throw py::value_error("weight must have a positive sum");
        if (max_iter < 0 || max_epochs < 0) throw py::value_error("max_iter must be >= 0");
        if (!(tol >= 0)) throw py::value_error("tol must be >= 0");
        LogisticOptions o{penalty, max_iter, tol, max_epochs};
        return with_float(d.f, [&](auto t) {
          using T = decltype(t);
          LogisticProblem<T> pb;
          d.fill(pb.design);
          pb.labels = lab;
          pb.n_classes = n_classes;
          pb.weight = wt;
          pb.fit_intercept = fit_intercept;
          LogisticResult r;
          {
            ReleaseGil nogil;  // parks a daemon thread at shutdown (gil.hpp)
            r = logistic_regression<T>(pb, o, mutable_data<double>(W), mutable_data<double>(b));
          }
          return py::dict("n_iter"_a = r.n_iter, "n_epochs"_a = r.n_epochs, "kkt"_a = r.kkt,
                          "objective"_a = r.objective, "converged"_a = r.converged);
        });
      },
      "penalty"_a, "W"_a.noconvert(), "b"_a.noconvert(), "X"_a = py::none(),
      "data"_a = py::none(), "indices"_a = py::none(), "indptr"_a = py::none(),
      "n_samples"_a = 0, "labels"_a.noconvert(), "weight"_a.noconvert(), "n_classes"_a = 2,
      "fit_intercept"_a = true, "max_iter"_a = 100, "tol"_a = 1e-4, "max_epochs"_a = 20);
}

}  // namespace lkreg::bind
