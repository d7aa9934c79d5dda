// Argument checks shared by every binding. Errors name the Python argument.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "gil.hpp"

#include <cstdint>
#include <string>

namespace lkreg::bind {

namespace py = pybind11;

enum class Float { f32, f64 };

inline std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// float32 or float64 in native byte order, else TypeError.
inline Float float_dtype(const py::array& a, const char* name) {
  if (a.dtype().equal(py::dtype::of<float>())) return Float::f32;
  if (a.dtype().equal(py::dtype::of<double>())) return Float::f64;
  throw py::type_error(std::string(name) + " must be a float32 or float64 array, got dtype " +
                       dtype_name(a));
}

// An array the kernels read: a float dtype, C-contiguous (the Python layer copies strided input).
inline Float input(const py::array& a, const char* name) {
  const Float f = float_dtype(a, name);
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " must be C-contiguous");
  return f;
}

inline bool same_shape(const py::array& a, const py::array& b) {
  if (a.ndim() != b.ndim()) return false;
  for (py::ssize_t i = 0; i < a.ndim(); ++i)
    if (a.shape(i) != b.shape(i)) return false;
  return true;
}

inline std::string shape_str(const py::array& a) {
  return py::str(a.attr("shape")).cast<std::string>();
}

// Whether the bytes of two arrays share any address.
inline bool overlaps(const py::array& a, const py::array& b) {
  const auto* ao = static_cast<const char*>(a.data());
  const auto* bo = static_cast<const char*>(b.data());
  const auto an = static_cast<std::ptrdiff_t>(a.nbytes()), bn = static_cast<std::ptrdiff_t>(b.nbytes());
  return an > 0 && bn > 0 && ao < bo + bn && bo < ao + an;
}

// An array the kernels write in place: same dtype and shape as `like`, C-contiguous, writable,
// and either exactly `like` or not overlapping it. Never a temporary the caller does not see.
inline py::array inplace(const py::object& obj, const py::array& like, const char* name,
                         const char* like_name) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(name) + " must be a numpy.ndarray, got " +
                         py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().equal(like.dtype()))
    throw py::value_error(std::string(name) + " must have dtype " + dtype_name(like) + " like " +
                          like_name + ", got " + dtype_name(a));
  if (!same_shape(a, like))
    throw py::value_error(std::string(name) + " must have shape " + shape_str(like) + " like " +
                          like_name + ", got " + shape_str(a));
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " must be C-contiguous");
  if (!a.writeable()) throw py::value_error(std::string(name) + " is read-only");
  if (a.data() != like.data() && overlaps(a, like))
    throw py::value_error(std::string(name) + " overlaps " + like_name +
                          " partially; pass the same array for in place, or a separate one");
  return a;
}

// `out` must not share a byte with `other`, an input of another type or layout (a mask's
// bytes): unlike an input of out's own dtype and shape, not even exactly.
inline void disjoint(const py::array& out, const py::array& other, const char* name,
                     const char* other_name) {
  const auto* oo = static_cast<const char*>(out.data());
  const auto* xo = static_cast<const char*>(other.data());
  const auto ob = static_cast<std::ptrdiff_t>(out.nbytes());
  const auto xb = static_cast<std::ptrdiff_t>(other.nbytes());
  if (ob > 0 && xb > 0 && oo < xo + xb && xo < oo + ob)
    throw py::value_error(std::string(name) + " overlaps " + other_name +
                          ": pass a separate array");
}

// `out` argument: a new array shaped like `like` when None, else checked as inplace().
inline py::array output(const py::object& out, const py::array& like, const char* name,
                        const char* like_name) {
  if (out.is_none())
    return py::array(like.dtype(), std::vector<py::ssize_t>(like.shape(), like.shape() + like.ndim()));
  return inplace(out, like, name, like_name);
}

template <class T>
const T* data(const py::array& a) {
  return static_cast<const T*>(a.data());
}
template <class T>
T* mutable_data(py::array& a) {
  return static_cast<T*>(a.mutable_data());
}
inline std::int64_t size(const py::array& a) { return static_cast<std::int64_t>(a.size()); }

// Calls f(T{}) with T = float or double.
template <class F>
decltype(auto) with_float(Float f, F&& fn) {
  if (f == Float::f32) return fn(float{});
  return fn(double{});
}

}  // namespace lkreg::bind
