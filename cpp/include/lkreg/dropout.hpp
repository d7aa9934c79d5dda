// Dropout masks from the counter-based Philox4x32-10 generator. Pure C++: pointers, lengths,
// scalars.
//
// Element i of an array, at global index g = offset + i, draws
//   u = philox4x32_10({g/4 low, g/4 high, stream low, stream high}, {seed low, seed high})[g % 4]
// and is kept iff u < dropout_threshold(p). The mask depends only on (seed, stream, offset, i):
// never on threads, SIMD level, or how an array is split into blocks.
#pragma once

#include <cstdint>

namespace lkreg {

// Where an array's random numbers come from. offset + n must not exceed 2^64.
struct DropoutStream {
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;
  std::uint64_t offset = 0;
};

// floor((1 - p) * 2^32), exactly, in [0, 2^32]: the number of 32-bit draws that keep an element.
// p in [0, 1).
std::uint64_t dropout_threshold(double p);

// A block of a C-order array (a chunk of a dask array): the whole array's shape, the block's
// first index along each axis and its shape. The block's elements, in its own C order, are
// runs of the whole array's flat order (one run when the block spans every axis after its
// first partial one; one run per row when it is split along the last axis), each run at its
// own global offset. ndim may be 0 (a single element).
struct BlockLayout {
  int ndim = 0;
  const std::int64_t* shape = nullptr;  // the whole array's
  const std::int64_t* start = nullptr;  // the block's first index per axis
  const std::int64_t* block = nullptr;  // the block's shape
};

// Random123's Philox4x32-10 of n counters (4 words each, in place allowed) under one key.
void philox4x32_10(const std::uint32_t* counters, const std::uint32_t key[2], std::uint32_t* out,
                   std::int64_t n);

// mask[i] = 1 if element i is kept, else 0 (n bytes).
void dropout_mask(const DropoutStream& s, double p, std::uint8_t* mask, std::int64_t n);
// The same mask, 8 elements per byte, element i at bit i % 8 of byte i / 8 (NumPy's
// packbits(..., bitorder="little")); (n + 7) / 8 bytes, unused high bits of the last byte 0.
void dropout_mask_packed(const DropoutStream& s, double p, std::uint8_t* bits, std::int64_t n);

// The mask of a block: element j of the block (its C order) gets the mask of its global index
// in the whole array, so a block reproduces its slice of the whole array's mask for any
// blocking. s.offset is the global index of the whole array's first element. One parallel
// pass over the block (prod(block) bytes).
void dropout_mask_block(const DropoutStream& s, double p, const BlockLayout& b,
                        std::uint8_t* mask);

// Inverted dropout in one pass: y = x * (kept ? scale : 0) with scale = T(1 / (1 - p)), IEEE
// products (a dropped NaN or inf gives NaN, a dropped finite x a signed zero), as torch.
// y may be x. When mask is not null it also receives the mask as in dropout_mask().
template <class T>
void dropout(const DropoutStream& s, double p, const T* x, T* y, std::uint8_t* mask,
             std::int64_t n);

// dropout() of a block (x and y hold prod(b.block) elements), masks as dropout_mask_block().
template <class T>
void dropout_block(const DropoutStream& s, double p, const BlockLayout& b, const T* x, T* y,
                   std::uint8_t* mask);

// Alpha dropout (SELU networks): y = (kept ? T(a) * x : T(a * alpha')) + T(b), with torch's a
// and b computed in double.
template <class T>
void alpha_dropout(const DropoutStream& s, double p, const T* x, T* y, std::int64_t n);

// alpha_dropout() of a block, masks as dropout_mask_block().
template <class T>
void alpha_dropout_block(const DropoutStream& s, double p, const BlockLayout& b, const T* x,
                         T* y);

// y = g * (mask[i] ? scale : 0) from a stored mask: one byte per element (nonzero = kept), or
// packed as in dropout_mask_packed(). y may be g.
template <class T>
void dropout_backward(const std::uint8_t* mask, bool packed, double p, const T* g, T* y,
                      std::int64_t n);

}  // namespace lkreg
