#include <pybind11/pybind11.h>

#include <algorithm>
#include <vector>

#include "arrays.hpp"
#include "lkreg/prox.hpp"

namespace lkreg::bind {

using namespace pybind11::literals;

namespace {

// A threshold array broadcast against x as (outer, mid, inner) (see lkreg/prox.hpp); the Python
// layer has cast it to x's dtype and worked out mid and inner from the shapes.
void check_threshold_array(const py::array& t, const py::array& x, const py::array& out,
                           std::int64_t mid, std::int64_t inner) {
  if (!t.dtype().equal(x.dtype()))
    throw py::value_error("t must have dtype " + dtype_name(x) + " like x, got " + dtype_name(t));
  if (!(t.flags() & py::array::c_style)) throw py::value_error("t must be C-contiguous");
  const std::int64_t period = mid * inner;
  if (mid != size(t) || inner < 1 || (period == 0 ? size(x) != 0 : size(x) % period != 0))
    throw py::value_error("t with shape " + shape_str(t) + " does not broadcast to x's shape " +
                          shape_str(x));
  if (size(t) == size(x)) inplace(out, t, "out", "t");  // out may be t itself, not part of it
  else if (overlaps(out, t)) throw py::value_error("out overlaps t");
}

template <class T>
bool any_negative(const T* t, std::int64_t n) {
  return std::any_of(t, t + n, [](T v) { return v < 0; });
}

// (outer, len, inner) of x viewed around `axis` (already normalized by the Python layer).
struct AxisView {
  std::int64_t outer = 1, len = 1, inner = 1;
  std::vector<py::ssize_t> reduced_shape;
};

AxisView axis_view(const py::array& x, int axis) {
  if (axis < 0 || axis >= x.ndim())
    throw py::value_error("axis " + std::to_string(axis) + " is out of bounds for an array of " +
                          std::to_string(x.ndim()) + " dimensions");
  AxisView v;
  for (py::ssize_t d = 0; d < x.ndim(); ++d) {
    if (d < axis) v.outer *= x.shape(d);
    if (d > axis) v.inner *= x.shape(d);
    if (d != axis) v.reduced_shape.push_back(x.shape(d));
  }
  v.len = x.shape(axis);
  return v;
}

py::array_t<std::int64_t> checked_ids(const py::array& ids, const py::array& x) {
  if (!ids.dtype().equal(py::dtype::of<std::int64_t>()))
    throw py::type_error("groups must be an int64 array, got dtype " + dtype_name(ids));
  if (ids.size() != x.size())
    throw py::value_error("groups must have one id per element of w (" +
                          std::to_string(x.size()) + "), got " + std::to_string(ids.size()));
  if (!(ids.flags() & py::array::c_style)) throw py::value_error("groups must be C-contiguous");
  return py::reinterpret_borrow<py::array_t<std::int64_t>>(ids);
}

// Largest id + 1; ValueError on a negative id.
std::int64_t group_count(const std::int64_t* ids, std::int64_t n) {
  std::int64_t lo = 0, hi = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, ids[i]);
    hi = std::max(hi, ids[i]);
  }
  if (lo < 0) throw py::value_error("groups must be >= 0, got " + std::to_string(lo));
  return hi + 1;
}

// y = op(x, t) for a threshold t that is a scalar or an array broadcast as (outer, mid, inner).
template <class ScalarOp, class ArrayOp>
py::array threshold(const py::array& x, const py::object& t, const py::object& out,
                    std::int64_t mid, std::int64_t inner, ScalarOp scalar_op, ArrayOp array_op) {
  const Float f = input(x, "x");
  py::array y = output(out, x, "out", "x");
  if (py::isinstance<py::array>(t)) {
    const py::array ta = py::reinterpret_borrow<py::array>(t);
    check_threshold_array(ta, x, y, mid, inner);
    // Written in place over an input, a negative threshold found during the pass would leave
    // the caller's array half done: check t first then (its own size, usually small).
    const bool in_place = overlaps(y, x) || overlaps(y, ta);
    bool ok = true;
    with_float(f, [&](auto tag) {
      using T = decltype(tag);
      ReleaseGil nogil;
      if (in_place && any_negative(data<T>(ta), size(ta))) ok = false;
      else ok = array_op(data<T>(x), data<T>(ta), mid, inner, mutable_data<T>(y), size(x));
    });
    if (!ok) throw py::value_error("t must be >= 0 everywhere, got a negative entry");
  } else {
    const double tv = t.cast<double>();
    with_float(f, [&](auto tag) {
      using T = decltype(tag);
      ReleaseGil nogil;
      scalar_op(data<T>(x), static_cast<T>(tv), mutable_data<T>(y), size(x));
    });
  }
  return y;
}

}  // namespace

void bind_prox(py::module_& m) {
  m.def(
      "soft_threshold",
      [](const py::array& x, const py::object& t, const py::object& out, double c,
         std::int64_t mid, std::int64_t inner) {
        return threshold(
            x, t, out, mid, inner,
            [c](const auto* xp, auto tv, auto* yp, std::int64_t n) {
              soft_threshold(xp, tv, static_cast<decltype(tv)>(c), yp, n);
            },
            [](const auto* xp, const auto* tp, std::int64_t m, std::int64_t in, auto* yp,
               std::int64_t n) { return soft_threshold_weighted(xp, tp, m, in, yp, n); });
      },
      "x"_a.noconvert(), "t"_a, "out"_a = py::none(), "c"_a = 1.0, "mid"_a = 0, "inner"_a = 1);

  m.def(
      "hard_threshold",
      [](const py::array& x, const py::object& t, const py::object& out, std::int64_t mid,
         std::int64_t inner) {
        return threshold(
            x, t, out, mid, inner,
            [](const auto* xp, auto tv, auto* yp, std::int64_t n) { hard_threshold(xp, tv, yp, n); },
            [](const auto* xp, const auto* tp, std::int64_t m, std::int64_t in, auto* yp,
               std::int64_t n) { return hard_threshold_weighted(xp, tp, m, in, yp, n); });
      },
      "x"_a.noconvert(), "t"_a, "out"_a = py::none(), "mid"_a = 0, "inner"_a = 1);

  m.def(
      "scale",
      [](const py::array& x, double c, const py::object& out) {
        const Float f = input(x, "w");
        py::array y = output(out, x, "out", "w");
        with_float(f, [&](auto tag) {
          using T = decltype(tag);
          ReleaseGil nogil;
          scale<T>(data<T>(x), static_cast<T>(c), mutable_data<T>(y), size(x));
        });
        return y;
      },
      "w"_a.noconvert(), "c"_a, "out"_a = py::none());

  m.def(
      "lk_prox",
      [](const py::array& x, double k, double tau, const py::object& out) {
        const Float f = input(x, "w");
        py::array y = output(out, x, "out", "w");
        with_float(f, [&](auto tag) {
          using T = decltype(tag);
          ReleaseGil nogil;
          lk_prox<T>(data<T>(x), k, tau, mutable_data<T>(y), size(x));
        });
        return y;
      },
      "w"_a.noconvert(), "k"_a, "tau"_a, "out"_a = py::none());

  m.def(
      "group_sumsq_axis",
      [](const py::array& x, int axis) {
        const Float f = input(x, "w");
        const AxisView v = axis_view(x, axis);
        py::array_t<double> sumsq(v.reduced_shape);
        double* s = sumsq.mutable_data();
        with_float(f, [&](auto tag) {
          using T = decltype(tag);
          ReleaseGil nogil;
          group_sumsq_axis<T>(data<T>(x), v.outer, v.len, v.inner, s);
        });
        return sumsq;
      },
      "w"_a.noconvert(), "axis"_a);

  m.def(
      "group_scale_axis",
      [](const py::array& x, int axis, const py::array_t<double, py::array::c_style>& factor,
         const py::object& out, bool accumulate) {
        const Float f = input(x, "w");
        const AxisView v = axis_view(x, axis);
        if (factor.size() != v.outer * v.inner)
          throw py::value_error("factor must have one entry per group");
        py::array y = accumulate ? inplace(out, x, "g", "w") : output(out, x, "out", "w");
        with_float(f, [&](auto tag) {
          using T = decltype(tag);
          ReleaseGil nogil;
          group_scale_axis<T>(data<T>(x), v.outer, v.len, v.inner, factor.data(),
                              mutable_data<T>(y), accumulate);
        });
        return y;
      },
      "w"_a.noconvert(), "axis"_a, "factor"_a.noconvert(), "out"_a = py::none(),
      "accumulate"_a = false);

  m.def(
      "group_sumsq_ids",
      [](const py::array& x, const py::array& ids) {
        const Float f = input(x, "w");
        const auto id = checked_ids(ids, x);
        const std::int64_t groups = group_count(id.data(), size(x));
        py::array_t<double> sumsq(groups);
        double* s = sumsq.mutable_data();
        std::fill(s, s + groups, 0.0);
        with_float(f, [&](auto tag) {
          using T = decltype(tag);
          ReleaseGil nogil;
          group_sumsq_ids<T>(data<T>(x), id.data(), size(x), s);
        });
        return sumsq;
      },
      "w"_a.noconvert(), "groups"_a.noconvert());

  m.def(
      "group_scale_ids",
      [](const py::array& x, const py::array& ids,
         const py::array_t<double, py::array::c_style>& factor, const py::object& out,
         bool accumulate) {
        const Float f = input(x, "w");
        const auto id = checked_ids(ids, x);
        if (group_count(id.data(), size(x)) > factor.size())
          throw py::value_error("factor must have one entry per group");
        py::array y = accumulate ? inplace(out, x, "g", "w") : output(out, x, "out", "w");
        with_float(f, [&](auto tag) {
          using T = decltype(tag);
          ReleaseGil nogil;
          group_scale_ids<T>(data<T>(x), id.data(), size(x), factor.data(), mutable_data<T>(y),
                             accumulate);
        });
        return y;
      },
      "w"_a.noconvert(), "groups"_a.noconvert(), "factor"_a.noconvert(), "out"_a = py::none(),
      "accumulate"_a = false);
}

}  // namespace lkreg::bind
