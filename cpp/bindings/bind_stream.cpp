#include <pybind11/pybind11.h>

#include "arrays.hpp"
#include "lkreg/stream.hpp"

namespace lkreg::bind {

using namespace pybind11::literals;

void bind_stream(py::module_& m) {
  m.def(
      "stream_copy",
      [](const py::array& x, const py::object& y) {
        const Float f = input(x, "x");
        py::array out = inplace(y, x, "y", "x");
        with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          stream_copy<T>(data<T>(x), mutable_data<T>(out), size(x));
        });
      },
      "x"_a.noconvert(), "y"_a);
  m.def(
      "stream_scale",
      [](const py::object& x, double c) {
        if (!py::isinstance<py::array>(x)) throw py::type_error("x must be a numpy.ndarray");
        py::array a = py::reinterpret_borrow<py::array>(x);
        const Float f = input(a, "x");
        inplace(a, a, "x", "x");  // writable
        with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          stream_scale<T>(mutable_data<T>(a), static_cast<T>(c), size(a));
        });
      },
      "x"_a, "c"_a);
  m.def(
      "stream_sum",
      [](const py::array& x) {
        return with_float(input(x, "x"), [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          return stream_sum<T>(data<T>(x), size(x));
        });
      },
      "x"_a.noconvert());
}

}  // namespace lkreg::bind
