// Optimizer steps: one call per param group. The lists of arrays are checked here, all before
// anything is written, with NumPy's C structures read directly (a few ns per array, so a group
// of hundreds of small arrays costs little more than its bytes).
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "lkreg/optim.hpp"

namespace lkreg::bind {

using namespace pybind11::literals;

namespace {

// What the checks need from one ndarray, read from NumPy's struct (no Python calls).
struct ArrayInfo {
  PyObject* obj = nullptr;
  char* data = nullptr;
  int type_num = -1;
  bool native = true;
  int nd = 0;
  const py::ssize_t* dims = nullptr;
  int flags = 0;
  std::int64_t size = 1;
  std::int64_t nbytes = 0;
};

constexpr int kFloat = py::detail::npy_api::NPY_FLOAT_;
constexpr int kDouble = py::detail::npy_api::NPY_DOUBLE_;

std::string type_name(PyObject* obj) { return Py_TYPE(obj)->tp_name; }

bool is_ndarray(PyObject* obj) { return py::detail::npy_api::get().PyArray_Check_(obj); }

ArrayInfo info(PyObject* obj) {
  ArrayInfo a;
  a.obj = obj;
  auto* p = py::detail::array_proxy(obj);
  auto* d = py::detail::array_descriptor_proxy(p->descr);
  a.data = p->data;
  a.type_num = d->type_num;
  a.native = d->byteorder != '>';  // '=', '<' or '|' on a little-endian machine
  a.nd = p->nd;
  a.dims = reinterpret_cast<const py::ssize_t*>(p->dimensions);
  a.flags = p->flags;
  for (int i = 0; i < a.nd; ++i) a.size *= a.dims[i];
  a.nbytes = a.size * (a.type_num == kFloat ? 4 : 8);
  return a;
}

bool is_float(const ArrayInfo& a) { return a.native && (a.type_num == kFloat || a.type_num == kDouble); }
bool c_contiguous(const ArrayInfo& a) {
  return (a.flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0;
}
bool writeable(const ArrayInfo& a) {
  return (a.flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_) != 0;
}
bool same_shape(const ArrayInfo& a, const ArrayInfo& b) {
  if (a.nd != b.nd) return false;
  for (int i = 0; i < a.nd; ++i)
    if (a.dims[i] != b.dims[i]) return false;
  return true;
}
std::string dtype_of(const ArrayInfo& a) {
  if (a.native && a.type_num == kFloat) return "float32";
  if (a.native && a.type_num == kDouble) return "float64";
  return py::str(py::reinterpret_borrow<py::array>(a.obj).dtype()).cast<std::string>();
}
std::string shape_of(const ArrayInfo& a) {
  return py::str(py::reinterpret_borrow<py::object>(a.obj).attr("shape")).cast<std::string>();
}

// The written memory of one array (a parameter or a state array), for the overlap checks.
struct Region {
  const char* begin;
  const char* end;
  std::size_t owner;  // index of the parameter in the group
  int slot;           // -1: the parameter, else its state array of that slot
};

// One param group's arrays, checked: names are params[i], grads[i] and state[i][name] with i
// the parameter's index in the optimizer (its index argument plus the position in the group).
class GroupArrays {
 public:
  GroupArrays(const py::list& params, const py::list& grads, const py::tuple& states,
              const std::vector<const char*>& state_names, const py::object& steps,
              const py::object& index)
      : state_names_(state_names) {
    const std::size_t count = params.size();
    if (py::isinstance<py::list>(index)) {
      for (const py::handle& h : py::reinterpret_borrow<py::list>(index))
        indices_.push_back(h.cast<std::int64_t>());
      if (indices_.size() != count) throw py::value_error("index must name every parameter");
    } else {
      first_ = index.cast<std::int64_t>();
    }
    if (grads.size() != count)
      throw py::value_error("got " + std::to_string(grads.size()) + " gradients for " +
                            std::to_string(count) + " parameters");
    if (states.size() != state_names.size())
      throw py::value_error("expected " + std::to_string(state_names.size()) + " state lists");
    std::vector<py::object> state_lists(states.size());
    for (std::size_t s = 0; s < states.size(); ++s) {
      state_lists[s] = states[s];
      if (!state_lists[s].is_none() && py::len(state_lists[s]) != count)
        throw py::value_error(std::string(state_names[s]) + " must have one array per parameter");
    }
    std::vector<std::int64_t> step_values(count, 1);
    if (!steps.is_none()) {
      const py::list step_list = py::reinterpret_borrow<py::list>(steps);
      if (step_list.size() != count) throw py::value_error("steps must have one int per parameter");
      for (std::size_t i = 0; i < count; ++i) {
        step_values[i] = PyLong_AsLongLong(PyList_GET_ITEM(step_list.ptr(), static_cast<py::ssize_t>(i)));
        if (step_values[i] == -1 && PyErr_Occurred()) throw py::error_already_set();
        if (step_values[i] < 1)
          throw py::value_error("step must be >= 1, got " + std::to_string(step_values[i]));
      }
    }
    entries_.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      Entry& e = entries_[i];
      e.step = step_values[i];
      const ArrayInfo p = checked_param(PyList_GET_ITEM(params.ptr(), static_cast<py::ssize_t>(i)), i);
      e.param = p;
      add_region(p, i, -1);
      e.grad = checked_grad(PyList_GET_ITEM(grads.ptr(), static_cast<py::ssize_t>(i)), p, i);
      for (std::size_t s = 0; s < state_lists.size(); ++s) {
        if (state_lists[s].is_none()) continue;
        PyObject* obj = PyList_GET_ITEM(state_lists[s].ptr(), static_cast<py::ssize_t>(i));
        e.state[s] = checked_state(obj, p, i, state_names[s]);
        add_region(e.state[s], i, static_cast<int>(s));
      }
      if (p.type_num == kFloat) ++n_float_; else ++n_double_;
    }
    check_overlaps();
  }

  template <class T>
  std::vector<ParamArrays<T>> arrays() const {
    constexpr int want = sizeof(T) == 4 ? kFloat : kDouble;
    std::vector<ParamArrays<T>> out;
    out.reserve(want == kFloat ? n_float_ : n_double_);
    for (const Entry& e : entries_) {
      if (e.param.type_num != want) continue;
      ParamArrays<T> a;
      a.param = reinterpret_cast<T*>(e.param.data);
      a.grad = reinterpret_cast<const T*>(e.grad.data);
      for (int s = 0; s < 3; ++s) a.state[s] = reinterpret_cast<T*>(e.state[s].data);
      a.n = e.param.size;
      a.step = e.step;
      out.push_back(a);
    }
    return out;
  }

 private:
  struct Entry {
    ArrayInfo param, grad;
    ArrayInfo state[3];
    std::int64_t step = 1;
  };

  std::int64_t index_of(std::size_t i) const {
    return indices_.empty() ? first_ + static_cast<std::int64_t>(i) : indices_[i];
  }
  std::string name(const char* list, std::size_t i) const {
    return std::string(list) + "[" + std::to_string(index_of(i)) + "]";
  }
  std::string state_name(std::size_t i, const char* key) const {
    return "state[" + std::to_string(index_of(i)) + "]['" + key + "']";
  }

  ArrayInfo checked_param(PyObject* obj, std::size_t i) const {
    if (!is_ndarray(obj))
      throw py::type_error(name("params", i) + " must be a numpy.ndarray, got " + type_name(obj));
    const ArrayInfo a = info(obj);
    if (!is_float(a))
      throw py::type_error(name("params", i) + " must be a float32 or float64 array, got dtype " +
                           dtype_of(a));
    if (!c_contiguous(a))
      throw py::value_error(name("params", i) + " must be C-contiguous: it is updated in place");
    if (!writeable(a)) throw py::value_error(name("params", i) + " is read-only");
    return a;
  }

  // A gradient of the parameter's dtype and shape; a strided one (or an array-like) is copied
  // once into C order, as documented (only the gradient: it is read, never written).
  ArrayInfo checked_grad(PyObject* obj, const ArrayInfo& p, std::size_t i) {
    if (!is_ndarray(obj)) {
      keep_.push_back(py::module_::import("numpy").attr("asarray")(py::handle(obj)));
      obj = keep_.back().ptr();
    }
    ArrayInfo g = info(obj);
    if (g.type_num != p.type_num || !g.native)
      throw py::type_error(name("grads", i) + " must have dtype " + dtype_of(p) + " like " +
                           name("params", i) + ", got " + dtype_of(g));
    if (!same_shape(g, p))
      throw py::value_error(name("grads", i) + " must have shape " + shape_of(p) + " like " +
                            name("params", i) + ", got " + shape_of(g));
    if (!c_contiguous(g)) {
      keep_.push_back(py::module_::import("numpy").attr("ascontiguousarray")(py::handle(obj)));
      g = info(keep_.back().ptr());
      copied_.push_back(i);
    }
    return g;
  }

  ArrayInfo checked_state(PyObject* obj, const ArrayInfo& p, std::size_t i, const char* key) const {
    const std::string n = state_name(i, key);
    if (!is_ndarray(obj))
      throw py::type_error(n + " must be a numpy.ndarray, got " + type_name(obj));
    const ArrayInfo a = info(obj);
    if (a.type_num != p.type_num || !a.native)
      throw py::value_error(n + " must have dtype " + dtype_of(p) + " like " + name("params", i) +
                            ", got " + dtype_of(a));
    if (!same_shape(a, p))
      throw py::value_error(n + " must have shape " + shape_of(p) + " like " + name("params", i) +
                            ", got " + shape_of(a));
    if (!c_contiguous(a)) throw py::value_error(n + " must be C-contiguous");
    if (!writeable(a)) throw py::value_error(n + " is read-only");
    return a;
  }

  void add_region(const ArrayInfo& a, std::size_t owner, int slot) {
    if (a.nbytes > 0) written_.push_back(Region{a.data, a.data + a.nbytes, owner, slot});
  }
  // Names are built only for an error message (a few hundred ns each: not per array per step).
  std::string region_name(const Region& r) const {
    return r.slot < 0 ? name("params", r.owner) : state_name(r.owner, state_names_[r.slot]);
  }

  // Written arrays must not overlap at all (sorted by address: neighbours only); a gradient may
  // be exactly one of its own parameter's arrays (element-wise: read before written), and must
  // not touch any other written memory.
  void check_overlaps() {
    std::sort(written_.begin(), written_.end(),
              [](const Region& a, const Region& b) { return a.begin < b.begin; });
    for (std::size_t k = 1; k < written_.size(); ++k)
      if (written_[k].begin < written_[k - 1].end)
        throw py::value_error(region_name(written_[k]) + " overlaps " + region_name(written_[k - 1]) +
                              "; each parameter and state array needs its own memory");
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const ArrayInfo& g = entries_[i].grad;
      if (g.nbytes == 0) continue;
      const char* gb = g.data;
      const char* ge = g.data + g.nbytes;
      // the first region ending after gb
      auto it = std::upper_bound(written_.begin(), written_.end(), gb,
                                 [](const char* x, const Region& r) { return x < r.end; });
      for (; it != written_.end() && it->begin < ge; ++it) {
        const bool exact = it->begin == gb && it->end == ge && it->owner == i;
        if (!exact)
          throw py::value_error(name("grads", i) + " overlaps " + region_name(*it) +
                                (it->owner == i ? " partially; pass the same array, or a separate one"
                                                : "; a gradient may alias only its own parameter"));
      }
    }
  }

  std::vector<const char*> state_names_;
  std::int64_t first_ = 0;
  std::vector<std::int64_t> indices_;  // the optimizer's index of each array, when not first_ + i
  std::vector<Entry> entries_;
  std::vector<Region> written_;
  std::vector<py::object> keep_;  // copies of strided or array-like gradients
  std::vector<std::size_t> copied_;
  std::size_t n_float_ = 0, n_double_ = 0;
};

FusedPenalty fused_penalty(const py::object& description, PenaltyUse use, bool per_array_mean) {
  FusedPenalty f;
  if (description.is_none() || use == PenaltyUse::none) return f;
  f.use = use;
  f.description = description.cast<PenaltyParams>();
  f.per_array_mean = per_array_mean;
  return f;
}

// Runs step(arrays) for the float32 arrays of the group, then for the float64 ones, without
// the GIL.
template <class Step>
void run_group(const GroupArrays& group, const Step& step) {
  const auto f32 = group.arrays<float>();
  const auto f64 = group.arrays<double>();
  ReleaseGil nogil;
  if (!f32.empty()) step(f32.data(), f32.size());
  if (!f64.empty()) step(f64.data(), f64.size());
}

}  // namespace

void bind_optim(py::module_& m) {
  py::enum_<PenaltyUse>(m, "PenaltyUse")
      .value("none", PenaltyUse::none)
      .value("gradient", PenaltyUse::gradient)
      .value("prox", PenaltyUse::prox)
      .value("preconditioned_prox", PenaltyUse::preconditioned_prox);

  // Every *_step takes one param group: params and grads (lists, one per parameter), the state
  // lists (None for an option that is off), the per-array step numbers, the hyper-parameters,
  // and the penalty as (description or None, use, per_array_mean). index (the first array's index,
  // or a list of them) names the arrays in errors as the optimizer numbers them; check_only runs every check and writes
  // nothing (the optimizer checks all its groups before the first one changes).
  m.def(
      "sgd_step",
      [](const py::list& params, const py::list& grads, const py::object& momentum_buffers,
         const py::object& steps, double lr, double momentum, double dampening,
         double weight_decay, bool nesterov, const py::object& description, PenaltyUse use,
         bool per_array_mean, const py::object& index, bool check_only) {
        const GroupArrays g(params, grads, py::make_tuple(momentum_buffers), {"momentum_buffer"},
                            steps, index);
        const SGDOptions o{lr, momentum, dampening, weight_decay, nesterov};
        if (check_only) return;
        const FusedPenalty pen = fused_penalty(description, use, per_array_mean);
        run_group(g, [&](const auto* a, std::size_t n) { sgd_step(o, pen, a, n); });
      },
      "params"_a, "grads"_a, "momentum_buffers"_a, "steps"_a, "lr"_a, "momentum"_a,
      "dampening"_a, "weight_decay"_a, "nesterov"_a, "description"_a = py::none(),
      "use"_a = PenaltyUse::none, "per_array_mean"_a = false, "index"_a = 0, "check_only"_a = false);

  m.def(
      "adam_step",
      [](const py::list& params, const py::list& grads, const py::list& exp_avgs,
         const py::list& exp_avg_sqs, const py::object& max_exp_avg_sqs, const py::list& steps,
         double lr, double beta1, double beta2, double eps, double weight_decay,
         bool decoupled_weight_decay, const py::object& description, PenaltyUse use,
         bool per_array_mean, const py::object& index, bool check_only) {
        const GroupArrays g(params, grads, py::make_tuple(exp_avgs, exp_avg_sqs, max_exp_avg_sqs),
                            {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}, steps, index);
        const AdamOptions o{lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay};
        if (check_only) return;
        const FusedPenalty pen = fused_penalty(description, use, per_array_mean);
        run_group(g, [&](const auto* a, std::size_t n) { adam_step(o, pen, a, n); });
      },
      "params"_a, "grads"_a, "exp_avgs"_a, "exp_avg_sqs"_a, "max_exp_avg_sqs"_a, "steps"_a,
      "lr"_a, "beta1"_a, "beta2"_a, "eps"_a, "weight_decay"_a, "decoupled_weight_decay"_a,
      "description"_a = py::none(), "use"_a = PenaltyUse::none, "per_array_mean"_a = false,
      "index"_a = 0, "check_only"_a = false);

  m.def(
      "rmsprop_step",
      [](const py::list& params, const py::list& grads, const py::list& square_avgs,
         const py::object& grad_avgs, const py::object& momentum_buffers, double lr,
         double alpha, double eps, double weight_decay, double momentum,
         const py::object& description, PenaltyUse use, bool per_array_mean,
         const py::object& index, bool check_only) {
        const GroupArrays g(params, grads,
                            py::make_tuple(square_avgs, grad_avgs, momentum_buffers),
                            {"square_avg", "grad_avg", "momentum_buffer"}, py::none(),
                            index);
        const RMSpropOptions o{lr, alpha, eps, weight_decay, momentum};
        if (check_only) return;
        const FusedPenalty pen = fused_penalty(description, use, per_array_mean);
        run_group(g, [&](const auto* a, std::size_t n) { rmsprop_step(o, pen, a, n); });
      },
      "params"_a, "grads"_a, "square_avgs"_a, "grad_avgs"_a, "momentum_buffers"_a, "lr"_a,
      "alpha"_a, "eps"_a, "weight_decay"_a, "momentum"_a, "description"_a = py::none(),
      "use"_a = PenaltyUse::none, "per_array_mean"_a = false, "index"_a = 0, "check_only"_a = false);

  m.def(
      "adagrad_step",
      [](const py::list& params, const py::list& grads, const py::list& sums,
         const py::list& steps, double lr, double lr_decay, double weight_decay, double eps,
         const py::object& description, PenaltyUse use, bool per_array_mean,
         const py::object& index, bool check_only) {
        const GroupArrays g(params, grads, py::make_tuple(sums), {"sum"}, steps, index);
        const AdagradOptions o{lr, lr_decay, weight_decay, eps};
        if (check_only) return;
        const FusedPenalty pen = fused_penalty(description, use, per_array_mean);
        run_group(g, [&](const auto* a, std::size_t n) { adagrad_step(o, pen, a, n); });
      },
      "params"_a, "grads"_a, "sums"_a, "steps"_a, "lr"_a, "lr_decay"_a, "weight_decay"_a,
      "eps"_a, "description"_a = py::none(), "use"_a = PenaltyUse::none,
      "per_array_mean"_a = false, "index"_a = 0, "check_only"_a = false);

  m.def(
      "ftrl_step",
      [](const py::list& params, const py::list& grads, const py::list& zs, const py::list& ns,
         double alpha, double beta, double l1, double l2, const py::object& description,
         PenaltyUse use, bool per_array_mean, const py::object& index, bool check_only) {
        const GroupArrays g(params, grads, py::make_tuple(zs, ns), {"z", "n"}, py::none(),
                            index);
        const FTRLOptions o{alpha, beta, l1, l2};
        if (check_only) return;
        const FusedPenalty pen = fused_penalty(description, use, per_array_mean);
        run_group(g, [&](const auto* a, std::size_t n) { ftrl_step(o, pen, a, n); });
      },
      "params"_a, "grads"_a, "zs"_a, "ns"_a, "alpha"_a, "beta"_a, "l1"_a, "l2"_a,
      "description"_a = py::none(), "use"_a = PenaltyUse::none, "per_array_mean"_a = false,
      "index"_a = 0, "check_only"_a = false);
}

}  // namespace lkreg::bind
