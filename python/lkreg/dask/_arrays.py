"""lkreg's kernels, dropout and penalties on dask arrays: lazy, block by block.

Every block runs the in-memory kernel, so an element-wise result is the in-memory one bit for
bit whatever the chunking: the element kernels and penalty gradients/proxes depend on nothing
but the element (and the penalty's description for the whole array, so ``reduction="mean"``
divides by the whole size), and dropout draws each element's random number from its global
C-order index (``_core.dropout_block``: a block split along the last axis is a set of rows,
each at its own offset). Penalty values are ``dask.array.reduction``s of per-block float64
partial values summed in the graph's fixed order.

The public entry points are lkreg's own functions and methods (they dispatch here when given a
dask array) and the re-exports in :mod:`lkreg.dask`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Optional, Sequence

import dask
import dask.array as da
import numpy as np

from .. import _core
from .._validation import KERNEL_DTYPES, as_input, is_dask_array, nonnegative


def check_array(x: Any, name: str) -> "da.Array":
    """x, a dask array of float32/float64, else the in-memory error (TypeError naming it)."""
    if x.dtype not in KERNEL_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {x.dtype}")
    return x


def _meta(x: "da.Array", dtype: Any = None) -> np.ndarray:
    # the result's type for dask, so that it never calls a kernel on a made-up empty block
    return np.empty((0,) * x.ndim, dtype=x.dtype if dtype is None else dtype)


def _as_block(result: Any) -> np.ndarray:
    # lkreg returns a NumPy scalar for a 0-d input, as ufuncs do; a block must be an array
    return np.asarray(result)


def elementwise(fn: Callable[..., Any], x: "da.Array", *others: "da.Array",
                dtype: Any = None) -> "da.Array":
    """``fn(x_block, *other_blocks)`` on every block (others rechunked like x)."""
    aligned = [o.rechunk(x.chunks) for o in others]
    return da.map_blocks(lambda *blocks: _as_block(fn(*blocks)), x, *aligned,
                         dtype=x.dtype if dtype is None else dtype, meta=_meta(x, dtype))


def located(fn: Callable[..., Any], x: "da.Array", dtype: Any = None) -> "da.Array":
    """``fn(x_block, shape, start)`` on every block: x's whole shape and the block's start."""

    def block(b: np.ndarray, block_info: Any = None) -> np.ndarray:
        info = block_info[0]
        start = [lo for lo, _ in info["array-location"]]
        return _as_block(fn(b, list(info["shape"]), start))

    return da.map_blocks(block, x, dtype=x.dtype if dtype is None else dtype,
                         meta=_meta(x, dtype))


# ---- element kernels -------------------------------------------------------------------------

def threshold_blocks(kernel: Callable[..., Any], x: Any, t: Any) -> "da.Array":
    """soft/hard thresholding of dask x at t: a number, or an array broadcast against x.

    A NumPy t is sliced per block along its non-broadcast axes (each block gets its small
    piece, broadcast by the kernel); a dask t is broadcast to x's shape and chunked like it.
    """
    x = check_array(x, "x")
    if isinstance(t, (bool, np.bool_)) or t is None or isinstance(t, str):
        raise TypeError(f"t must be a number or an array, got {type(t).__name__}")
    if isinstance(t, numbers.Real):
        kernel(np.zeros(0, x.dtype), t)  # the scalar checks, now
        return elementwise(lambda b: kernel(b, t), x)
    if not is_dask_array(t):
        t = as_input(t, "t")
        if t.ndim == 0:
            return threshold_blocks(kernel, x, t.item())
    try:
        shape = np.broadcast_shapes(x.shape, t.shape)
    except ValueError:
        raise ValueError(f"t with shape {t.shape} does not broadcast against x's shape {x.shape}") from None
    if shape != x.shape:
        x = da.broadcast_to(x, shape)
    if is_dask_array(t):
        check_array(t, "t")
        return elementwise(kernel, x, da.broadcast_to(t, shape))
    padded = t.reshape((1,) * (len(shape) - t.ndim) + t.shape)

    def block(b: np.ndarray, shape: Sequence[int], start: Sequence[int]) -> Any:
        piece = padded[tuple(slice(None) if n == 1 else slice(s, s + m)
                             for n, s, m in zip(padded.shape, start, b.shape))]
        return kernel(b, piece)

    return located(block, x)


def weight_decay(w: Any, rate: float) -> "da.Array":
    from ..prox import weight_decay as in_memory

    w = check_array(w, "w")
    rate = nonnegative(rate, "rate")
    return elementwise(lambda b: in_memory(b, rate), w)


# ---- dropout ---------------------------------------------------------------------------------

def dropout(x: Any, p: float, seed: int, stream: int, offset: int, name: str = "x",
            return_mask: bool = False) -> Any:
    from .._dropout import _draw_args, _probability

    x = check_array(x, name)
    p = _probability(p)
    seed, stream, offset = _draw_args(seed, stream, offset, x.size)
    y = located(lambda b, shape, start: _core.dropout_block(
        as_input(b, name), p, seed, stream, offset, shape, start), x)
    if return_mask:
        return y, dropout_mask(x.shape, p, seed, stream, offset, x.chunks)
    return y


def alpha_dropout(x: Any, p: float, seed: int, stream: int, offset: int) -> "da.Array":
    from .._dropout import _draw_args, _probability

    x = check_array(x, "x")
    p = _probability(p)
    seed, stream, offset = _draw_args(seed, stream, offset, x.size)
    return located(lambda b, shape, start: _core.alpha_dropout_block(
        as_input(b, "x"), p, seed, stream, offset, shape, start), x)


def dropout_mask(shape: Any, p: float, seed: int, stream: int, offset: int,
                 chunks: Any = "auto", packed: bool = False) -> "da.Array":
    """The dropout mask of an array of ``shape`` as a bool dask array chunked by ``chunks``;
    ``packed``: its ``ceil(size / 8)`` bytes as a uint8 dask array chunked by ``chunks`` bytes."""
    from .._dropout import _draw_args, _probability, _shape

    dims = _shape(shape)
    p = _probability(p)
    size = math.prod(dims)
    seed, stream, offset = _draw_args(seed, stream, offset, size)
    if packed:
        return _packed_mask(size, p, seed, stream, offset, chunks)
    chunks = da.core.normalize_chunks(chunks, dims, dtype=np.bool_)

    def block(block_info: Any = None) -> np.ndarray:
        info = block_info[None]
        start = [lo for lo, _ in info["array-location"]]
        return _core.dropout_mask_block(info["chunk-shape"], p, seed, stream, offset,
                                        list(info["shape"]), start)

    return da.map_blocks(block, chunks=chunks, dtype=np.bool_,
                         meta=np.empty((0,) * len(dims), np.bool_))


def _packed_mask(size: int, p: float, seed: int, stream: int, offset: int,
                 chunks: Any) -> "da.Array":
    # Byte k holds elements 8k .. 8k + 7, so a block of bytes [lo, hi) is the flat mask of
    # elements [8 lo, min(8 hi, size)) packed, drawn from its own start; its last byte is
    # partial (zero bits) only at the end of the array, as in memory.
    chunks = da.core.normalize_chunks(chunks, (-(-size // 8),), dtype=np.uint8)

    def block(block_info: Any = None) -> np.ndarray:
        lo, hi = block_info[None]["array-location"][0]
        n = min(8 * hi, size) - 8 * lo
        return _core.dropout_mask(n, p, seed, stream, offset + 8 * lo, True)

    return da.map_blocks(block, chunks=chunks, dtype=np.uint8, meta=np.empty(0, np.uint8))


def _unpacked(mask: "da.Array", shape: Any) -> "da.Array":
    """A packed mask (uint8, ``ceil(size / 8)`` bytes) as the bool mask of ``shape``."""
    size = math.prod(shape)
    bits = mask.map_blocks(lambda b: np.unpackbits(b, bitorder="little").view(np.bool_),
                           chunks=(tuple(8 * c for c in mask.chunks[0]),), dtype=np.bool_,
                           meta=np.empty(0, np.bool_))
    return bits[:size].reshape(shape)


def dropout_backward(grad: Any, mask: Any, p: float) -> "da.Array":
    from .._dropout import _probability

    grad = check_array(grad, "grad")
    p = _probability(p)
    if not is_dask_array(mask):
        mask = np.asarray(mask)
        mask = da.from_array(mask, chunks=grad.chunks if mask.shape == grad.shape else "auto")
    if mask.dtype == np.uint8 and mask.shape == (-(-grad.size // 8),):  # packed
        mask = _unpacked(mask, grad.shape)
    if mask.dtype != np.bool_ or mask.shape != grad.shape:
        raise ValueError(f"with a dask grad, mask must be a bool array of grad's shape "
                         f"{grad.shape} or its ceil(grad.size / 8) packed uint8 bytes, got "
                         f"dtype {mask.dtype} and shape {mask.shape}")
    return elementwise(lambda g, m: _core.dropout_backward(
        as_input(g, "grad"), np.asarray(m, order="C"), p, None), grad, mask)


# ---- penalties -------------------------------------------------------------------------------
# Element-wise penalties run their in-memory kernel on every block with the whole array's
# description. GroupL2 (whose description is None) runs the group section below.

def _grouped(penalty: Any) -> bool:
    return penalty.description() is None


def _partial_sum(chunk: np.ndarray, axis: Any = None, keepdims: bool = False,
                 value: Any = None) -> np.ndarray:
    # one block's float64 partial value, in the keepdims shape dask.array.reduction expects
    return np.full((1,) * chunk.ndim, value(chunk), dtype=np.float64)


def _total(parts: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    # the partial values in the graph's fixed order: the same bits on every run
    return np.sum(parts, axis=axis, keepdims=keepdims, dtype=np.float64)


def block_sum(w: "da.Array", value: Callable[[np.ndarray], float]) -> "da.Array":
    """A lazy 0-d float64 dask array: the sum of ``value(block)`` over w's blocks."""
    return da.reduction(w, lambda c, axis, keepdims: _partial_sum(c, axis, keepdims, value),
                        _total, combine=_total, dtype=np.float64, concatenate=True,
                        meta=np.empty((), np.float64))


def _aligned_g(w: "da.Array", g: Any) -> "da.Array":
    """add_grad's g: w's shape and dtype, as a dask array."""
    if not is_dask_array(g):
        g = as_input(g, "g")
    if g.shape != w.shape or g.dtype != w.dtype:
        raise ValueError(f"g must have w's shape {w.shape} and dtype {w.dtype}, got "
                         f"{g.shape} and {g.dtype}")
    return g if is_dask_array(g) else da.from_array(g, chunks=w.chunks)


def penalty_value(penalty: Any, w: Any) -> "da.Array":
    """A lazy 0-d float64 dask array: the sum of the blocks' in-memory values."""
    w = check_array(w, "w")
    if _grouped(penalty):
        return group_value(penalty, w)
    desc = penalty.description(size=w.size)
    return block_sum(w, lambda b: _core.penalty_value(desc, as_input(b, "w")))


def penalty_grad(penalty: Any, w: Any) -> "da.Array":
    w = check_array(w, "w")
    if _grouped(penalty):
        return group_scaled(penalty, w, _grad_factor, w.size)
    desc = penalty.description(size=w.size)
    return elementwise(lambda b: _core.penalty_grad(desc, as_input(b, "w"), None), w)


def penalty_add_grad(penalty: Any, w: Any, g: Any) -> "da.Array":
    """``g + grad(w)`` as the in-place kernel computes it, as a new lazy array."""
    w = check_array(w, "w")
    g = _aligned_g(w, g)
    if _grouped(penalty):
        return group_scaled(penalty, w, _grad_factor, w.size, g)
    desc = penalty.description(size=w.size)
    return elementwise(lambda b, gb: _core.penalty_grad(desc, as_input(b, "w"),
                                                        np.array(gb, order="C"), True), w, g)


def penalty_prox(penalty: Any, w: Any, step: Any) -> "da.Array":
    from ..penalties import _step_array

    w = check_array(w, "w")
    if isinstance(step, (np.ndarray, list, tuple)) or is_dask_array(step):
        if _grouped(penalty):
            raise NotImplementedError(
                f"{penalty!r}.prox on a dask array takes a number as step, not an array (a "
                "step per element needs every group's Newton iterations): compute w first")
        desc = penalty.description(size=w.size)
        steps = step if is_dask_array(step) else np.asarray(step)
        if steps.shape != w.shape:
            raise ValueError(f"step must be a number or an array of w's shape {w.shape}, got "
                             f"{steps.shape}")
        if not is_dask_array(steps):
            steps = da.from_array(steps, chunks=w.chunks)
        return elementwise(lambda b, s: _core.penalty_prox(
            desc, as_input(b, "w"), _step_array(np.asarray(s), b), None), w, steps)
    # as the in-memory prox: (step / n) * lam, the rounding users' references have
    scaled = nonnegative(step, "step") * penalty._scale(w.size)
    if _grouped(penalty):
        return group_scaled(penalty, w, _prox_factor, scaled * penalty.lam)
    params = penalty.description()
    return elementwise(lambda b: _core.penalty_prox(params, as_input(b, "w"), scaled, None), w)


# ---- group penalties (GroupL2) ---------------------------------------------------------------
# Both kinds of group compute a factor per group from its float64 sum of squares and scale
# every element by its group's factor, as in memory.
# - axis=: w is rechunked so that the axis lies whole in every block (the dask analogue of the
#   in-memory copy: one shuffle when w is split along the axis), and every block runs the
#   in-memory pieces on its own groups. Each group is summed in the in-memory order, so grad
#   and prox are the in-memory bits; the value adds per-block partial values.
# - groups=: every block adds its elements' squares per group (C order, as in memory), a fixed
#   tree of delayed sums adds the blocks' vectors, and every block is scaled by the factors. A
#   group inside one block gets the in-memory sum exactly (the others add 0.0); one spanning
#   blocks gets it to float64 rounding, in an order fixed by the chunking.

def _grad_factor(penalty: Any, sumsq: np.ndarray, size: int) -> np.ndarray:
    return penalty._grad_factor(np.sqrt(sumsq), size)


def _prox_factor(penalty: Any, sumsq: np.ndarray, tau: float) -> np.ndarray:
    return penalty._prox_factor(np.sqrt(sumsq), tau)


def _whole_axis(penalty: Any, w: "da.Array") -> "da.Array":
    return w.rechunk({penalty._normalized_axis(w): -1})


def _ids(penalty: Any, w: "da.Array") -> "da.Array":
    """The group id of every element of w, as a dask array chunked like w."""
    penalty.check_shape(w.shape)
    return da.from_array(penalty.groups.reshape(w.shape), chunks=w.chunks)


def _n_groups(penalty: Any) -> int:
    return int(penalty.groups.max()) + 1 if penalty.groups.size else 0  # ids are 0, 1, ...


def _block_sumsq(b: np.ndarray, ids: np.ndarray, n_groups: int) -> np.ndarray:
    sumsq = np.zeros(n_groups)
    if b.size:
        part = _core.group_sumsq_ids(as_input(b, "w"), np.ascontiguousarray(ids))
        sumsq[:len(part)] = part  # (only up to the largest id in the block)
    return sumsq


def _ids_sumsq(penalty: Any, w: "da.Array", ids: "da.Array") -> Any:
    """The groups' sums of squares, a delayed float64 vector."""
    from ._models import tree_add

    n_groups = _n_groups(penalty)
    return tree_add([dask.delayed(_block_sumsq, pure=True)(b, i, n_groups)
                     for b, i in zip(w.to_delayed().ravel(), ids.to_delayed().ravel())])


def _ids_value(penalty: Any, sumsq: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(penalty._value_of(np.sqrt(sumsq), size))


def group_value(penalty: Any, w: "da.Array") -> "da.Array":
    size = w.size
    if penalty.axis is not None:
        return block_sum(_whole_axis(penalty, w), lambda b: penalty._value_of(
            np.sqrt(penalty._group_sumsq(as_input(b, "w"))), size) if b.size else 0.0)
    total = dask.delayed(_ids_value, pure=True)(penalty, _ids_sumsq(penalty, w, _ids(penalty, w)),
                                                size)
    return da.from_delayed(total, (), np.float64, meta=np.empty((), np.float64))


def group_scaled(penalty: Any, w: "da.Array", factor_of: Callable[..., np.ndarray], arg: Any,
                 g: Optional["da.Array"] = None) -> "da.Array":
    """w's elements times ``factor_of(penalty, group sums of squares, arg)`` per group; plus
    g (add_grad's sum, as the in-place kernel computes it) when given."""
    extra = [] if g is None else [g]

    def scale(b: np.ndarray, ids: Optional[np.ndarray], factor: Any, *gb: np.ndarray) -> Any:
        b = as_input(b, "w")
        out = np.array(gb[0], order="C") if gb else None
        if b.size == 0:
            return penalty._empty(b, out)
        if ids is None:  # axis groups: this block's own
            return penalty._group_scale(b, factor_of(penalty, penalty._group_sumsq(b), arg),
                                        out, accumulate=bool(gb))
        return _core.group_scale_ids(b, np.ascontiguousarray(ids), factor, out, bool(gb))

    if penalty.axis is not None:
        return elementwise(lambda b, *gb: scale(b, None, None, *gb), _whole_axis(penalty, w),
                           *extra)
    ids = _ids(penalty, w)
    factor = dask.delayed(factor_of, pure=True)(penalty, _ids_sumsq(penalty, w, ids), arg)
    return da.map_blocks(scale, w, ids, factor, *[e.rechunk(w.chunks) for e in extra],
                         dtype=w.dtype, meta=_meta(w))


__all__ = ["threshold_blocks", "weight_decay", "dropout", "alpha_dropout", "dropout_mask",
           "dropout_backward", "penalty_value", "penalty_grad", "penalty_add_grad",
           "penalty_prox", "block_sum", "group_value", "group_scaled", "check_array"]
