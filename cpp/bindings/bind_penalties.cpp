#include <pybind11/pybind11.h>

#include <string>

#include "arrays.hpp"
#include "lkreg/penalty.hpp"

namespace lkreg::bind {

using namespace pybind11::literals;

void bind_penalties(py::module_& m) {
  py::enum_<PenaltyKind>(m, "PenaltyKind")
      .value("L1", PenaltyKind::L1)
      .value("L2", PenaltyKind::L2)
      .value("Lk", PenaltyKind::Lk)
      .value("ElasticNet", PenaltyKind::ElasticNet)
      .value("L0", PenaltyKind::L0);

  py::class_<PenaltyParams>(m, "PenaltyParams")
      .def(py::init([](PenaltyKind kind, double lam, double k, double l2) {
             return PenaltyParams{kind, lam, k, l2};
           }),
           "kind"_a, "lam"_a, "k"_a = 2.0, "l2"_a = 0.0)
      .def_readonly("kind", &PenaltyParams::kind)
      .def_readonly("lam", &PenaltyParams::lam)
      .def_readonly("k", &PenaltyParams::k)
      .def_readonly("l2", &PenaltyParams::l2)
      .def("scaled", &PenaltyParams::scaled, "s"_a)
      .def_property_readonly("is_smooth", &PenaltyParams::is_smooth)
      .def_property_readonly("is_convex", &PenaltyParams::is_convex)
      .def("__eq__",
           [](const PenaltyParams& a, const PenaltyParams& b) {
             return a.kind == b.kind && a.lam == b.lam && a.k == b.k && a.l2 == b.l2;
           })
      .def("__repr__",
           [](const PenaltyParams& p) {
             return "PenaltyParams(kind=" +
                    py::str(py::cast(p.kind).attr("name")).cast<std::string>() +
                    ", lam=" + py::repr(py::float_(p.lam)).cast<std::string>() +
                    ", k=" + py::repr(py::float_(p.k)).cast<std::string>() +
                    ", l2=" + py::repr(py::float_(p.l2)).cast<std::string>() + ")";
           })
      .def(py::pickle(
          [](const PenaltyParams& p) { return py::make_tuple(p.kind, p.lam, p.k, p.l2); },
          [](const py::tuple& t) {
            return PenaltyParams{t[0].cast<PenaltyKind>(), t[1].cast<double>(),
                                 t[2].cast<double>(), t[3].cast<double>()};
          }));

  // step: a float, or an array of w's dtype and shape (one step per element).
  m.def(
      "penalty_prox",
      [](const PenaltyParams& p, const py::array& w, const py::object& step,
         const py::object& out) {
        const Float f = input(w, "w");
        py::array y = output(out, w, "out", "w");
        if (py::isinstance<py::array>(step)) {
          const py::array s = py::reinterpret_borrow<py::array>(step);
          if (!s.dtype().equal(w.dtype()))
            throw py::value_error("step must have dtype " + dtype_name(w) + " like w, got " +
                                  dtype_name(s));
          if (!same_shape(s, w))
            throw py::value_error("step must have shape " + shape_str(w) + " like w, got " +
                                  shape_str(s));
          if (!(s.flags() & py::array::c_style)) throw py::value_error("step must be C-contiguous");
          inplace(y, s, "out", "step");  // overlap check (out may be step itself)
          with_float(f, [&](auto t) {
            using T = decltype(t);
            ReleaseGil nogil;
            penalty_prox_steps<T>(p, data<T>(w), data<T>(s), mutable_data<T>(y), size(w));
          });
        } else {
          const double st = step.cast<double>();
          with_float(f, [&](auto t) {
            using T = decltype(t);
            ReleaseGil nogil;
            penalty_prox<T>(p, data<T>(w), st, mutable_data<T>(y), size(w));
          });
        }
        return y;
      },
      "p"_a, "w"_a.noconvert(), "step"_a, "out"_a = py::none());

  m.def(
      "penalty_subdiff_distance",
      [](const PenaltyParams& p, const py::array& w, const py::array& grad) {
        const Float f = input(w, "w");
        input(grad, "grad");
        if (!grad.dtype().equal(w.dtype()))
          throw py::type_error("grad must have dtype " + dtype_name(w) + " like w, got " +
                               dtype_name(grad));
        if (!same_shape(grad, w))
          throw py::value_error("grad must have shape " + shape_str(w) + " like w, got " +
                                shape_str(grad));
        py::array d = output(py::none(), w, "out", "w");
        with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          penalty_subdiff_distance<T>(p, data<T>(w), data<T>(grad), mutable_data<T>(d), size(w));
        });
        return d;
      },
      "p"_a, "w"_a.noconvert(), "grad"_a.noconvert());

  m.def(
      "penalty_value",
      [](const PenaltyParams& p, const py::array& w) {
        return with_float(input(w, "w"), [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          return penalty_value<T>(p, data<T>(w), size(w));
        });
      },
      "p"_a, "w"_a.noconvert());

  // accumulate=False: returns grad in `out` (new when None). True: adds it to the array `g`.
  m.def(
      "penalty_grad",
      [](const PenaltyParams& p, const py::array& w, const py::object& out, bool accumulate) {
        const Float f = input(w, "w");
        py::array g = accumulate ? inplace(out, w, "g", "w") : output(out, w, "out", "w");
        with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          penalty_grad<T>(p, data<T>(w), mutable_data<T>(g), size(w), accumulate);
        });
        return g;
      },
      "p"_a, "w"_a.noconvert(), "out"_a = py::none(), "accumulate"_a = false);

  m.def(
      "penalty_value_and_grad",
      [](const PenaltyParams& p, const py::array& w, const py::object& out, bool accumulate) {
        const Float f = input(w, "w");
        py::array g = accumulate ? inplace(out, w, "g", "w") : output(out, w, "out", "w");
        const double value = with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          return penalty_value_and_grad<T>(p, data<T>(w), mutable_data<T>(g), size(w), accumulate);
        });
        return py::make_tuple(value, g);
      },
      "p"_a, "w"_a.noconvert(), "out"_a = py::none(), "accumulate"_a = false);
}

}  // namespace lkreg::bind
