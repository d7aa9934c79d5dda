#include <pybind11/pybind11.h>

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
      .def_readonly("l2", &PenaltyParams::l2);

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
