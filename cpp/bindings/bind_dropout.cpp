#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "lkreg/dropout.hpp"

namespace lkreg::bind {

using namespace pybind11::literals;

namespace {

void check_p(double p) {
  if (!(p >= 0.0 && p < 1.0))  // NaN fails too
    throw py::value_error("p must be in [0, 1), got " + py::repr(py::float_(p)).cast<std::string>());
}

// The draws of elements offset .. offset + n - 1 must have 64-bit indices.
DropoutStream stream_of(std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
                        std::int64_t n) {
  if (n > 0 && offset > std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(n - 1))
    throw py::value_error("offset + size must be <= 2**64, got offset " + std::to_string(offset) +
                          " for " + std::to_string(n) + " elements");
  return DropoutStream{seed, stream, offset};
}

void require_dtype(const py::array& a, const py::dtype& dtype, const char* name,
                   const char* what) {
  if (!a.dtype().equal(dtype))
    throw py::type_error(std::string(name) + " must be " + what + ", got dtype " + dtype_name(a));
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(name) + " must be C-contiguous");
}

py::array new_like(const py::array& like, const py::dtype& dtype) {
  return py::array(dtype, std::vector<py::ssize_t>(like.shape(), like.shape() + like.ndim()));
}

// A new bool mask shaped like x (return_mask=True): held in `mask`, its bytes returned.
std::uint8_t* new_mask_like(const py::array& x, py::object& mask) {
  py::array a = new_like(x, py::dtype::of<bool>());
  mask = a;
  return static_cast<std::uint8_t*>(a.mutable_data());
}

// A block of a C-order array, checked: block_shape within shape from start, and the whole
// array's draws within 64-bit indices from offset. The vectors own what the layout points to.
struct Block {
  std::vector<std::int64_t> shape, start, block;
  BlockLayout layout() const {
    return BlockLayout{static_cast<int>(shape.size()), shape.data(), start.data(), block.data()};
  }
};

Block block_of(std::vector<std::int64_t> shape, std::vector<std::int64_t> start,
               std::vector<std::int64_t> block) {
  if (start.size() != shape.size() || block.size() != shape.size())
    throw py::value_error("shape, start and the block's shape must have the same length, got " +
                          std::to_string(shape.size()) + ", " + std::to_string(start.size()) +
                          " and " + std::to_string(block.size()));
  if (shape.size() > 64) throw py::value_error("shape has more than 64 dimensions");
  std::int64_t total = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0 || start[d] < 0 || block[d] < 0 || start[d] > shape[d] ||
        block[d] > shape[d] - start[d])
      throw py::value_error("the block (start " + std::to_string(start[d]) + ", length " +
                            std::to_string(block[d]) + ") does not fit axis " + std::to_string(d) +
                            " of length " + std::to_string(shape[d]));
    if (shape[d] != 0 && total > std::numeric_limits<std::int64_t>::max() / shape[d])
      throw py::value_error("shape has more than 2**63 - 1 elements");
    total *= shape[d];
  }
  return Block{std::move(shape), std::move(start), std::move(block)};
}

std::int64_t total_size(const Block& b) {
  std::int64_t n = 1;
  for (std::int64_t d : b.shape) n *= d;
  return n;
}

std::vector<std::int64_t> shape_of(const py::array& a) {
  return std::vector<std::int64_t>(a.shape(), a.shape() + a.ndim());
}

}  // namespace

void bind_dropout(py::module_& m) {
  m.def(
      "philox4x32_10",
      [](const py::array& counter, const py::array& key) {
        const py::dtype u32 = py::dtype::of<std::uint32_t>();
        require_dtype(counter, u32, "counter", "a uint32 array");
        require_dtype(key, u32, "key", "a uint32 array");
        if (counter.ndim() < 1 || counter.shape(counter.ndim() - 1) != 4)
          throw py::value_error("counter must have shape (..., 4), got " + shape_str(counter));
        if (key.ndim() != 1 || key.shape(0) != 2)
          throw py::value_error("key must have shape (2,), got " + shape_str(key));
        py::array out = new_like(counter, u32);
        const auto* c = static_cast<const std::uint32_t*>(counter.data());
        const auto* k = static_cast<const std::uint32_t*>(key.data());
        auto* o = static_cast<std::uint32_t*>(out.mutable_data());
        const std::int64_t n = size(counter) / 4;
        {
          ReleaseGil nogil;
          philox4x32_10(c, k, o, n);
        }
        return out;
      },
      "counter"_a.noconvert(), "key"_a.noconvert());

  // A new 1-D mask of n elements: bool, or packed into (n + 7) / 8 bytes.
  m.def(
      "dropout_mask",
      [](std::int64_t n, double p, std::uint64_t seed, std::uint64_t stream, std::uint64_t offset,
         bool packed) {
        check_p(p);
        if (n < 0) throw py::value_error("n must be >= 0");
        const DropoutStream s = stream_of(seed, stream, offset, n);
        // n / 8 rounded up without n + 7, which overflows for n near 2^63
        const std::vector<py::ssize_t> shape{packed ? n / 8 + (n % 8 != 0) : n};
        py::array mask(packed ? py::dtype::of<std::uint8_t>() : py::dtype::of<bool>(), shape);
        auto* bytes = static_cast<std::uint8_t*>(mask.mutable_data());
        {
          ReleaseGil nogil;
          if (packed)
            dropout_mask_packed(s, p, bytes, n);
          else
            lkreg::dropout_mask(s, p, bytes, n);
        }
        return mask;
      },
      "n"_a, "p"_a, "seed"_a, "stream"_a, "offset"_a, "packed"_a);

  // y, or (y, bool mask shaped like x) when return_mask.
  m.def(
      "dropout",
      [](const py::array& x, double p, std::uint64_t seed, std::uint64_t stream,
         std::uint64_t offset, const py::object& out, bool return_mask) -> py::object {
        const Float f = input(x, "x");
        check_p(p);
        const DropoutStream s = stream_of(seed, stream, offset, size(x));
        py::array y = output(out, x, "out", "x");
        py::object mask = py::none();
        std::uint8_t* mask_bytes = return_mask ? new_mask_like(x, mask) : nullptr;
        with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          lkreg::dropout<T>(s, p, data<T>(x), mutable_data<T>(y), mask_bytes, size(x));
        });
        if (return_mask) return py::make_tuple(y, mask);
        return std::move(y);
      },
      "x"_a.noconvert(), "p"_a, "seed"_a, "stream"_a, "offset"_a, "out"_a = py::none(),
      "return_mask"_a = false);

  m.def(
      "alpha_dropout",
      [](const py::array& x, double p, std::uint64_t seed, std::uint64_t stream,
         std::uint64_t offset, const py::object& out) {
        const Float f = input(x, "x");
        check_p(p);
        const DropoutStream s = stream_of(seed, stream, offset, size(x));
        py::array y = output(out, x, "out", "x");
        with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          lkreg::alpha_dropout<T>(s, p, data<T>(x), mutable_data<T>(y), size(x));
        });
        return y;
      },
      "x"_a.noconvert(), "p"_a, "seed"_a, "stream"_a, "offset"_a, "out"_a = py::none());

  // The block versions: x (or the mask) is the block of a C-order array of `shape` that starts
  // at `start`; every element draws at its global index (offset + its flat index in the whole
  // array), so the blocks of any blocking give the whole array's result.
  m.def(
      "dropout_mask_block",
      [](const std::vector<std::int64_t>& block_shape, double p, std::uint64_t seed,
         std::uint64_t stream, std::uint64_t offset, const std::vector<std::int64_t>& shape,
         const std::vector<std::int64_t>& start) {
        check_p(p);
        const Block b = block_of(shape, start, block_shape);
        const DropoutStream s = stream_of(seed, stream, offset, total_size(b));
        py::array mask(py::dtype::of<bool>(),
                       std::vector<py::ssize_t>(block_shape.begin(), block_shape.end()));
        auto* bytes = static_cast<std::uint8_t*>(mask.mutable_data());
        {
          ReleaseGil nogil;
          dropout_mask_block(s, p, b.layout(), bytes);
        }
        return mask;
      },
      "block_shape"_a, "p"_a, "seed"_a, "stream"_a, "offset"_a, "shape"_a, "start"_a);

  m.def(
      "dropout_block",
      [](const py::array& x, double p, std::uint64_t seed, std::uint64_t stream,
         std::uint64_t offset, const std::vector<std::int64_t>& shape,
         const std::vector<std::int64_t>& start, const py::object& out,
         bool return_mask) -> py::object {
        const Float f = input(x, "x");
        check_p(p);
        const Block b = block_of(shape, start, shape_of(x));
        const DropoutStream s = stream_of(seed, stream, offset, total_size(b));
        py::array y = output(out, x, "out", "x");
        py::object mask = py::none();
        std::uint8_t* mask_bytes = return_mask ? new_mask_like(x, mask) : nullptr;
        with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          lkreg::dropout_block<T>(s, p, b.layout(), data<T>(x), mutable_data<T>(y), mask_bytes);
        });
        if (return_mask) return py::make_tuple(y, mask);
        return std::move(y);
      },
      "x"_a.noconvert(), "p"_a, "seed"_a, "stream"_a, "offset"_a, "shape"_a, "start"_a,
      "out"_a = py::none(), "return_mask"_a = false);

  m.def(
      "alpha_dropout_block",
      [](const py::array& x, double p, std::uint64_t seed, std::uint64_t stream,
         std::uint64_t offset, const std::vector<std::int64_t>& shape,
         const std::vector<std::int64_t>& start, const py::object& out) {
        const Float f = input(x, "x");
        check_p(p);
        const Block b = block_of(shape, start, shape_of(x));
        const DropoutStream s = stream_of(seed, stream, offset, total_size(b));
        py::array y = output(out, x, "out", "x");
        with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          lkreg::alpha_dropout_block<T>(s, p, b.layout(), data<T>(x), mutable_data<T>(y));
        });
        return y;
      },
      "x"_a.noconvert(), "p"_a, "seed"_a, "stream"_a, "offset"_a, "shape"_a, "start"_a,
      "out"_a = py::none());

  // mask: bool of grad's shape, or uint8 packed bits ((grad.size + 7) // 8 of them).
  m.def(
      "dropout_backward",
      [](const py::array& grad, const py::array& mask, double p, const py::object& out) {
        const Float f = input(grad, "grad");
        check_p(p);
        const bool packed = mask.dtype().equal(py::dtype::of<std::uint8_t>());
        if (packed) {
          if (!(mask.flags() & py::array::c_style))
            throw py::value_error("mask must be C-contiguous");
          const std::int64_t want = (size(grad) + 7) / 8;
          if (size(mask) != want)
            throw py::value_error("packed mask must have (grad.size + 7) // 8 = " +
                                  std::to_string(want) + " bytes, got " +
                                  std::to_string(size(mask)));
        } else {
          require_dtype(mask, py::dtype::of<bool>(), "mask",
                        "a bool array (or uint8 packed bits)");
          if (!same_shape(mask, grad))
            throw py::value_error("mask must have shape " + shape_str(grad) +
                                  " like grad, got " + shape_str(mask));
        }
        py::array y = output(out, grad, "out", "grad");
        disjoint(y, mask, "out", "mask");
        const auto* bytes = static_cast<const std::uint8_t*>(mask.data());
        with_float(f, [&](auto t) {
          using T = decltype(t);
          ReleaseGil nogil;
          lkreg::dropout_backward<T>(bytes, packed, p, data<T>(grad), mutable_data<T>(y),
                                     size(grad));
        });
        return y;
      },
      "grad"_a.noconvert(), "mask"_a.noconvert(), "p"_a, "out"_a = py::none());
}

}  // namespace lkreg::bind
