#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "lkreg/optim.hpp"

namespace lkreg::bind {

using namespace pybind11::literals;

namespace {

bool overlaps(const py::array& a, const py::array& b) {
  const auto* ao = static_cast<const char*>(a.data());
  const auto* bo = static_cast<const char*>(b.data());
  const auto an = static_cast<std::ptrdiff_t>(a.nbytes());
  const auto bn = static_cast<std::ptrdiff_t>(b.nbytes());
  return an > 0 && bn > 0 && ao < bo + bn && bo < ao + an;
}

bool same_memory(const py::array& a, const py::array& b) {
  return a.data() == b.data() && a.nbytes() == b.nbytes();
}

// The arrays of one step, all checked before the kernel writes anything: the parameter and its
// state arrays are written (so they must not overlap at all); the gradient is read and may be
// any of them exactly (element-wise: each element is read before it is written).
class StepArrays {
 public:
  StepArrays(const py::object& param, const py::object& grad)
      : param_(writable(param, "param")),
        dtype_(input(param_, "param")),
        grad_(checked_grad(grad, param_)),
        written_{param_},
        written_names_{"param"} {}

  // A state array of param's dtype and shape; None gives a null pointer unless required.
  std::size_t state(const py::object& obj, const char* name, bool required) {
    if (obj.is_none()) {
      if (required) throw py::type_error(std::string(name) + " must be a numpy.ndarray, got None");
      states_.push_back(py::none());
      return states_.size() - 1;
    }
    py::array a = inplace(obj, param_, name, "param");
    for (std::size_t i = 0; i < written_.size(); ++i)
      if (overlaps(a, written_[i]))
        throw py::value_error(std::string(name) + " overlaps " + written_names_[i] +
                              "; each state array needs its own memory");
    written_.push_back(a);
    written_names_.push_back(name);
    states_.push_back(a);
    return states_.size() - 1;
  }

  // After the last state(): the gradient may alias a written array only exactly.
  Float checked_dtype() const {
    for (std::size_t i = 0; i < written_.size(); ++i)
      if (overlaps(grad_, written_[i]) && !same_memory(grad_, written_[i]))
        throw py::value_error("grad overlaps " + std::string(written_names_[i]) +
                              " partially; pass the same array, or a separate one");
    return dtype_;
  }

  template <class T>
  T* param() {
    return mutable_data<T>(param_);
  }
  template <class T>
  const T* grad() const {
    return data<T>(grad_);
  }
  template <class T>
  T* state(std::size_t i) {
    if (states_[i].is_none()) return nullptr;
    return static_cast<T*>(py::reinterpret_borrow<py::array>(states_[i]).mutable_data());
  }
  std::int64_t size() const { return bind::size(param_); }

 private:
  static std::string type_name(const py::object& obj) {
    return py::str(py::type::of(obj).attr("__name__")).cast<std::string>();
  }
  static py::array checked_grad(const py::object& obj, const py::array& param) {
    if (!py::isinstance<py::array>(obj))
      throw py::type_error("grad must be a numpy.ndarray, got " + type_name(obj));
    py::array g = py::reinterpret_borrow<py::array>(obj);
    float_dtype(g, "grad");
    if (!g.dtype().equal(param.dtype()))
      throw py::type_error("grad must have dtype " + dtype_name(param) + " like param, got " +
                           dtype_name(g));
    if (!same_shape(g, param))
      throw py::value_error("grad must have shape " + shape_str(param) + " like param, got " +
                            shape_str(g));
    if (!(g.flags() & py::array::c_style)) throw py::value_error("grad must be C-contiguous");
    return g;
  }
  static py::array writable(const py::object& obj, const char* name) {
    if (!py::isinstance<py::array>(obj))
      throw py::type_error(std::string(name) + " must be a numpy.ndarray, got " + type_name(obj));
    py::array a = py::reinterpret_borrow<py::array>(obj);
    input(a, name);
    if (!a.writeable()) throw py::value_error(std::string(name) + " is read-only");
    return a;
  }

  py::array param_;
  Float dtype_;
  py::array grad_;
  std::vector<py::object> states_;  // None where an option is off
  std::vector<py::array> written_;
  std::vector<const char*> written_names_;
};

void check_step(std::int64_t step) {
  if (step < 1) throw py::value_error("step must be >= 1, got " + std::to_string(step));
}

std::string repr(const FusedPenalty& f) {
  std::string s = "FusedPenalty(";
  if (f.prox == FusedProx::soft) {
    s += "prox=soft, threshold=" + std::to_string(f.threshold) +
         ", scale=" + std::to_string(f.scale);
  } else if (f.prox == FusedProx::hard) {
    s += "prox=hard, threshold=" + std::to_string(f.threshold);
  } else if (f.has_gradient) {
    s += "gradient=<kind " + std::to_string(static_cast<int>(f.gradient.kind)) +
         ", lam=" + std::to_string(f.gradient.lam) + ">";
  }
  return s + ")";
}

}  // namespace

void bind_optim(py::module_& m) {
  py::enum_<FusedProx>(m, "FusedProx")
      .value("none", FusedProx::none)
      .value("soft", FusedProx::soft)
      .value("hard", FusedProx::hard);

  py::class_<FusedPenalty>(m, "FusedPenalty")
      .def(py::init([](const py::object& gradient, FusedProx prox, double threshold,
                       double scale) {
             FusedPenalty f;
             f.has_gradient = !gradient.is_none();
             if (f.has_gradient) f.gradient = gradient.cast<PenaltyParams>();
             f.prox = prox;
             f.threshold = threshold;
             f.scale = scale;
             return f;
           }),
           "gradient"_a = py::none(), "prox"_a = FusedProx::none, "threshold"_a = 0.0,
           "scale"_a = 1.0)
      .def_property_readonly("gradient",
                             [](const FusedPenalty& f) -> py::object {
                               return f.has_gradient ? py::cast(f.gradient) : py::none();
                             })
      .def_readonly("prox", &FusedPenalty::prox)
      .def_readonly("threshold", &FusedPenalty::threshold)
      .def_readonly("scale", &FusedPenalty::scale)
      .def("__repr__", &repr);

  m.def(
      "sgd_step",
      [](const py::object& param, const py::object& grad, const py::object& momentum_buffer,
         bool first_step, double lr, double momentum, double dampening, double weight_decay,
         bool nesterov, const FusedPenalty& penalty) {
        StepArrays a(param, grad);
        const std::size_t buf = a.state(momentum_buffer, "momentum_buffer", false);
        const SGDOptions o{lr, momentum, dampening, weight_decay, nesterov};
        with_float(a.checked_dtype(), [&](auto tag) {
          using T = decltype(tag);
          T* p = a.param<T>();
          const T* g = a.grad<T>();
          const std::int64_t n = a.size();
          T* b = a.state<T>(buf);
          ReleaseGil nogil;
          sgd_step<T>(o, penalty, p, g, b, first_step, n);
        });
      },
      "param"_a, "grad"_a, "momentum_buffer"_a, "first_step"_a, "lr"_a, "momentum"_a,
      "dampening"_a, "weight_decay"_a, "nesterov"_a, "penalty"_a = FusedPenalty());

  m.def(
      "adam_step",
      [](const py::object& param, const py::object& grad, const py::object& exp_avg,
         const py::object& exp_avg_sq, const py::object& max_exp_avg_sq, std::int64_t step,
         double lr, double beta1, double beta2, double eps, double weight_decay,
         bool decoupled_weight_decay, const FusedPenalty& penalty) {
        check_step(step);
        StepArrays a(param, grad);
        const std::size_t m1 = a.state(exp_avg, "exp_avg", true);
        const std::size_t m2 = a.state(exp_avg_sq, "exp_avg_sq", true);
        const std::size_t mx = a.state(max_exp_avg_sq, "max_exp_avg_sq", false);
        const AdamOptions o{lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay};
        with_float(a.checked_dtype(), [&](auto tag) {
          using T = decltype(tag);
          T* p = a.param<T>();
          const T* g = a.grad<T>();
          const std::int64_t n = a.size();
          T *exp_avg_p = a.state<T>(m1), *exp_avg_sq_p = a.state<T>(m2), *max_p = a.state<T>(mx);
          ReleaseGil nogil;
          adam_step<T>(o, penalty, step, p, g, exp_avg_p, exp_avg_sq_p, max_p, n);
        });
      },
      "param"_a, "grad"_a, "exp_avg"_a, "exp_avg_sq"_a, "max_exp_avg_sq"_a, "step"_a, "lr"_a,
      "beta1"_a, "beta2"_a, "eps"_a, "weight_decay"_a, "decoupled_weight_decay"_a,
      "penalty"_a = FusedPenalty());

  m.def(
      "rmsprop_step",
      [](const py::object& param, const py::object& grad, const py::object& square_avg,
         const py::object& grad_avg, const py::object& momentum_buffer, double lr, double alpha,
         double eps, double weight_decay, double momentum, const FusedPenalty& penalty) {
        StepArrays a(param, grad);
        const std::size_t sq = a.state(square_avg, "square_avg", true);
        const std::size_t ga = a.state(grad_avg, "grad_avg", false);
        const std::size_t buf = a.state(momentum_buffer, "momentum_buffer", false);
        const RMSpropOptions o{lr, alpha, eps, weight_decay, momentum};
        with_float(a.checked_dtype(), [&](auto tag) {
          using T = decltype(tag);
          T* p = a.param<T>();
          const T* g = a.grad<T>();
          const std::int64_t n = a.size();
          T *sq_p = a.state<T>(sq), *ga_p = a.state<T>(ga), *buf_p = a.state<T>(buf);
          ReleaseGil nogil;
          rmsprop_step<T>(o, penalty, p, g, sq_p, ga_p, buf_p, n);
        });
      },
      "param"_a, "grad"_a, "square_avg"_a, "grad_avg"_a, "momentum_buffer"_a, "lr"_a,
      "alpha"_a, "eps"_a, "weight_decay"_a, "momentum"_a, "penalty"_a = FusedPenalty());

  m.def(
      "adagrad_step",
      [](const py::object& param, const py::object& grad, const py::object& sum,
         std::int64_t step, double lr, double lr_decay, double weight_decay, double eps,
         const FusedPenalty& penalty) {
        check_step(step);
        StepArrays a(param, grad);
        const std::size_t s = a.state(sum, "sum", true);
        const AdagradOptions o{lr, lr_decay, weight_decay, eps};
        with_float(a.checked_dtype(), [&](auto tag) {
          using T = decltype(tag);
          T* p = a.param<T>();
          const T* g = a.grad<T>();
          const std::int64_t n = a.size();
          T* sum_p = a.state<T>(s);
          ReleaseGil nogil;
          adagrad_step<T>(o, penalty, step, p, g, sum_p, n);
        });
      },
      "param"_a, "grad"_a, "sum"_a, "step"_a, "lr"_a, "lr_decay"_a, "weight_decay"_a, "eps"_a,
      "penalty"_a = FusedPenalty());

  m.def(
      "ftrl_step",
      [](const py::object& param, const py::object& grad, const py::object& z,
         const py::object& squared_sum, double alpha, double beta, double l1, double l2,
         const FusedPenalty& penalty) {
        StepArrays a(param, grad);
        const std::size_t zi = a.state(z, "z", true);
        const std::size_t ni = a.state(squared_sum, "n", true);
        const FTRLOptions o{alpha, beta, l1, l2};
        with_float(a.checked_dtype(), [&](auto tag) {
          using T = decltype(tag);
          T* p = a.param<T>();
          const T* g = a.grad<T>();
          const std::int64_t n = a.size();
          T *z_p = a.state<T>(zi), *n_p = a.state<T>(ni);
          ReleaseGil nogil;
          ftrl_step<T>(o, penalty, p, g, z_p, n_p, n);
        });
      },
      "param"_a, "grad"_a, "z"_a, "n"_a, "alpha"_a, "beta"_a, "l1"_a, "l2"_a,
      "penalty"_a = FusedPenalty());
}

}  // namespace lkreg::bind
