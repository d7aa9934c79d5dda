"""Dropout with counter-based random numbers: reproducible masks that need no storage.

Element ``i`` of the flattened (C-order) array, at global index ``g = offset + i``, draws::

    u = philox4x32_10([g // 4 % 2**32, g // 4 >> 32, stream % 2**32, stream >> 32],
                      [seed % 2**32, seed >> 32])[g % 4]

and is kept iff ``u < floor((1 - p) * 2**32)`` (every element is kept when ``p == 0``). So the
mask depends only on ``(seed, stream, offset, i)``: not on the thread count, the SIMD level, or
how an array is split into blocks (a block processed with ``offset=start`` reproduces its slice
of the whole array's mask). Nothing has to be stored for the backward pass: calling
:func:`dropout` again on the upstream gradient with the same arguments is the backward pass.

``seed``, ``stream`` and ``offset`` are ints in ``[0, 2**64)``; ``offset + size`` may not
exceed ``2**64``. Use different streams (e.g. one per layer) with one seed for independent
masks, and advance ``offset`` by the array size between batches (the :class:`Dropout` layer
does).

Arrays are float32 or float64 of any shape, computed in their own precision; a strided input is
copied once into C order. ``out=`` must be C-contiguous, writable and of the input's dtype and
shape; it may be the input itself (in place). A dask array gives a lazy dask array whose blocks
draw at their elements' global indices: the in-memory result bit for bit for any chunking
(:mod:`lkreg.dask`).
"""

from __future__ import annotations

import math
import operator
import secrets
from typing import Any, Literal, Optional, Tuple, Union, overload

import numpy as np

from . import _core
from ._validation import (as_input, dask_backend, integer, is_dask_array, no_out_for_dask,
                          scalar_if_0d, unit_interval)

__all__ = [
    "philox4x32_10",
    "dropout_mask",
    "dropout",
    "dropout_backward",
    "alpha_dropout",
    "drop_connect",
    "Dropout",
]

_UINT64_LIMIT = 2**64
ShapeLike = Union[int, Tuple[int, ...]]


def _probability(p: object) -> float:
    """A drop probability in [0, 1), else TypeError/ValueError naming p."""
    if type(p) is float and 0.0 <= p < 1.0:  # the common case first: small arrays pay per call
        return p
    return unit_interval(p, "p")


def _uint64(value: object, name: str) -> int:
    """An int in [0, 2**64), else TypeError/ValueError naming ``name``."""
    if type(value) is int and 0 <= value < _UINT64_LIMIT:  # the common case first
        return value
    n = integer(value, name)
    if not 0 <= n < _UINT64_LIMIT:
        raise ValueError(f"{name} must be in [0, 2**64), got {n}")
    return n


def _draw_args(seed: object, stream: object, offset: object, size: int) -> Tuple[int, int, int]:
    if (
        type(seed) is int
        and type(stream) is int
        and type(offset) is int
        and 0 <= seed < _UINT64_LIMIT
        and 0 <= stream < _UINT64_LIMIT
        and 0 <= offset < _UINT64_LIMIT
        and offset + size <= _UINT64_LIMIT
    ):  # the common case first
        return seed, stream, offset
    seed_ = _uint64(seed, "seed")
    stream_ = _uint64(stream, "stream")
    offset_ = _uint64(offset, "offset")
    if offset_ + size > _UINT64_LIMIT:
        raise ValueError(f"offset + size must be <= 2**64, got offset={offset_} and size={size}")
    return seed_, stream_, offset_


def _shape(shape: object) -> Tuple[int, ...]:
    if type(shape) is int and shape >= 0:  # the common case first
        return (shape,)
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    try:
        dims = tuple(operator.index(d) for d in shape)  # type: ignore[union-attr]
    except TypeError:
        raise TypeError(f"shape must be an int or a tuple of ints, got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"shape must not have negative dimensions, got {dims}")
    return dims


def philox4x32_10(counter: Any, key: Any) -> np.ndarray:
    """Random123's Philox4x32-10 counter-based generator, exactly.

    Parameters
    ----------
    counter : array_like of uint32, shape (..., 4)
        Counters, four 32-bit words each (word 0 the least significant).
    key : array_like of uint32, shape (2,)
        The key.

    Returns
    -------
    ndarray of uint32, shape like ``counter``
        Four random 32-bit words per counter.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> [hex(v) for v in lkreg.philox4x32_10(np.zeros(4, np.uint32), np.zeros(2, np.uint32))]
    ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    return _core.philox4x32_10(np.ascontiguousarray(counter), np.ascontiguousarray(key))


def dropout_mask(
    shape: ShapeLike,
    p: float,
    *,
    seed: int,
    stream: int = 0,
    offset: int = 0,
    packed: bool = False,
) -> np.ndarray:
    """Return the dropout mask :func:`dropout` uses: True where an element is kept.

    Parameters
    ----------
    shape : int or tuple of ints
        Shape of the array the mask is for.
    p : float
        Drop probability in [0, 1).
    seed, stream, offset : int
        Where the random numbers come from (see the module docstring), each in [0, 2**64).
    packed : bool, default False
        Return the mask packed 8 elements per byte, generated that way (8x less memory).

    Returns
    -------
    ndarray
        A bool array of ``shape``; with ``packed=True`` a 1-D uint8 array of
        ``ceil(size / 8)`` bytes equal to ``np.packbits(mask.ravel(), bitorder="little")``.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> lkreg.dropout_mask((2, 4), 0.5, seed=42)
    array([[False,  True,  True,  True],
           [False,  True, False,  True]])
    >>> lkreg.dropout_mask(10, 0.5, seed=42, packed=True)  # bits 0..7 little-endian, then 8, 9
    array([174,   0], dtype=uint8)

    A block of the array at ``offset=start`` is its slice of the whole mask, and element ``g``
    is Philox's draw ``g % 4`` at counter ``g // 4``, compared with ``floor((1 - p) * 2**32)``:

    >>> whole = lkreg.dropout_mask(1000, 0.3, seed=7, stream=2)
    >>> bool(np.array_equal(lkreg.dropout_mask(200, 0.3, seed=7, stream=2, offset=500), whole[500:700]))
    True
    >>> g = 501
    >>> u = lkreg.philox4x32_10(np.array([g // 4, 0, 2, 0], np.uint32), np.array([7, 0], np.uint32))
    >>> bool(u[g % 4] < np.floor((1 - 0.3) * 2**32)) == bool(whole[g])
    True
    """
    p = _probability(p)
    dims = _shape(shape)
    size = math.prod(dims)
    if size > np.iinfo(np.intp).max:
        raise ValueError(f"shape {dims} has more elements than an array can hold")
    seed_, stream_, offset_ = _draw_args(seed, stream, offset, size)
    mask = _core.dropout_mask(size, p, seed_, stream_, offset_, bool(packed))
    return mask if packed else mask.reshape(dims)


@overload
def dropout(
    x: Any,
    p: float,
    *,
    seed: int,
    stream: int = 0,
    offset: int = 0,
    out: Optional[np.ndarray] = None,
    return_mask: Literal[False] = False,
) -> np.ndarray: ...
@overload
def dropout(
    x: Any,
    p: float,
    *,
    seed: int,
    stream: int = 0,
    offset: int = 0,
    out: Optional[np.ndarray] = None,
    return_mask: Literal[True],
) -> Tuple[np.ndarray, np.ndarray]: ...
@overload
def dropout(
    x: Any,
    p: float,
    *,
    seed: int,
    stream: int = 0,
    offset: int = 0,
    out: Optional[np.ndarray] = None,
    return_mask: bool = False,
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]: ...
def dropout(
    x: Any,
    p: float,
    *,
    seed: int,
    stream: int = 0,
    offset: int = 0,
    out: Optional[np.ndarray] = None,
    return_mask: bool = False,
) -> Union[np.ndarray, Tuple[np.ndarray, np.ndarray]]:
    """Inverted dropout ``y = x * mask / (1 - p)`` in one pass over ``x``.

    Each element is kept with probability ``1 - p`` and scaled by ``1 / (1 - p)`` so that the
    expectation is unchanged. The mask enters as a factor, as in torch:
    ``y = x * (dtype(1 / (1 - p)) if kept else 0)``, the scale rounded once to ``x``'s dtype and
    the product an IEEE one, so a dropped finite element becomes a zero of its sign and a dropped
    inf or NaN becomes NaN. ``p == 0`` is the identity.

    The backward pass is the same call on the upstream gradient, with the same ``p``, ``seed``,
    ``stream`` and ``offset``.

    Parameters
    ----------
    x : array_like of float32 or float64
        Input, any shape.
    p : float
        Drop probability in [0, 1).
    seed, stream, offset : int
        Where the random numbers come from (see the module docstring), each in [0, 2**64).
    out : ndarray, optional
        Where to write ``y``; may be ``x`` (in place).
    return_mask : bool, default False
        Also return the mask (bool, ``x``'s shape), written in the same pass.

    Returns
    -------
    y : ndarray
        The result, ``out`` if given.
    mask : ndarray of bool
        Only with ``return_mask=True``: True where kept. Pack it with
        ``np.packbits(mask.ravel(), bitorder="little")`` for :func:`dropout_backward` if memory
        matters, or call :func:`dropout_mask` with ``packed=True``.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> x = np.arange(1.0, 9.0).reshape(2, 4)
    >>> lkreg.dropout(x, 0.5, seed=42)  # kept elements scaled by 1 / (1 - p)
    array([[ 0.,  4.,  6.,  8.],
           [ 0., 12.,  0., 16.]])
    >>> y, mask = lkreg.dropout(x, 0.5, seed=42, return_mask=True)
    >>> bool(np.array_equal(mask, lkreg.dropout_mask(x.shape, 0.5, seed=42)))
    True

    The backward pass is the same call on the upstream gradient:

    >>> lkreg.dropout(np.ones_like(x), 0.5, seed=42)
    array([[0., 2., 2., 2.],
           [0., 2., 0., 2.]])
    """
    if is_dask_array(x):  # lazy, block by block, each element at its global index (lkreg.dask)
        no_out_for_dask(out)
        return dask_backend().dropout(x, p, seed, stream, offset, return_mask=bool(return_mask))
    result = _core.dropout(*_kernel_args(x, p, seed, stream, offset), out, bool(return_mask))
    if return_mask:
        y, mask = result
        return scalar_if_0d(y, out), scalar_if_0d(mask, None)
    return scalar_if_0d(result, out)


def _kernel_args(
    x: Any, p: object, seed: object, stream: object, offset: object, name: str = "x"
) -> Tuple[np.ndarray, float, int, int, int]:
    """(x, p, seed, stream, offset) as the dropout kernels take them, each checked."""
    x = as_input(x, name)
    return (x, _probability(p), *_draw_args(seed, stream, offset, x.size))


def dropout_backward(
    grad: Any, mask: Any, p: float, out: Optional[np.ndarray] = None
) -> np.ndarray:
    """Backward pass of :func:`dropout` from a stored mask: ``grad * mask / (1 - p)``.

    Computed as :func:`dropout` computes it, ``grad * (dtype(1 / (1 - p)) if kept else 0)``, so a
    dropped inf or NaN gradient gives NaN.

    Parameters
    ----------
    grad : array_like of float32 or float64
        Upstream gradient, any shape.
    mask : ndarray of bool or uint8
        A bool mask of ``grad``'s shape (True = kept), or the packed form: ``ceil(grad.size / 8)``
        uint8 bytes as from ``dropout_mask(..., packed=True)``.
    p : float
        The drop probability of the forward pass, in [0, 1).
    out : ndarray, optional
        Where to write the result; may be ``grad`` (in place).

    Returns
    -------
    ndarray
        The gradient with respect to the dropout's input, ``out`` if given.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> mask = lkreg.dropout_mask((2, 4), 0.5, seed=42)
    >>> lkreg.dropout_backward(np.ones((2, 4)), mask, 0.5)
    array([[0., 2., 2., 2.],
           [0., 2., 0., 2.]])
    >>> packed = lkreg.dropout_mask((2, 4), 0.5, seed=42, packed=True)  # 1 bit per element
    >>> bool(np.array_equal(lkreg.dropout_backward(np.ones((2, 4)), packed, 0.5),
    ...                     lkreg.dropout_backward(np.ones((2, 4)), mask, 0.5)))
    True
    """
    if is_dask_array(grad):
        no_out_for_dask(out)
        return dask_backend().dropout_backward(grad, mask, p)
    grad = as_input(grad, "grad")
    mask = np.asarray(mask)
    if not mask.flags.c_contiguous:
        mask = np.ascontiguousarray(mask)
    return scalar_if_0d(_core.dropout_backward(grad, mask, _probability(p), out), out)


def alpha_dropout(
    x: Any,
    p: float,
    *,
    seed: int,
    stream: int = 0,
    offset: int = 0,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Alpha dropout for SELU networks: keeps zero mean and unit variance.

    Dropped elements are set to SELU's negative saturation value ``alpha'`` instead of 0, and an
    affine map restores the mean and variance, as ``torch.nn.functional.alpha_dropout``::

        alpha' = -1.7580993408473766
        a = ((1 - p) * (1 + p * alpha'**2)) ** -0.5
        b = -a * alpha' * p
        y = a * (x if kept else alpha') + b

    with the same mask as :func:`dropout` for the same arguments. ``a``, ``b`` and ``a * alpha'``
    are computed in float64 (``a`` as torch does, ``1 / sqrt((alpha'**2 * p + 1) * (1 - p))``)
    and rounded to ``x``'s dtype; then ``y = (a * x if kept else a * alpha') + b`` in that dtype,
    the product and the sum each rounded (never fused), so every SIMD level gives the same bits.
    A dropped inf or NaN gives the dropped value. ``p == 0`` is the identity.

    Parameters
    ----------
    x : array_like of float32 or float64
        Input, any shape.
    p : float
        Drop probability in [0, 1).
    seed, stream, offset : int
        Where the random numbers come from (see the module docstring), each in [0, 2**64).
    out : ndarray, optional
        Where to write the result; may be ``x`` (in place).

    Returns
    -------
    ndarray
        The result, ``out`` if given.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> lkreg.alpha_dropout(np.zeros(4, np.float32), 0.5, seed=42)  # kept: a * 0 + b
    array([-0.77919394,  0.77919394,  0.77919394,  0.77919394], dtype=float32)

    The mean and variance of a standard normal input are kept:

    >>> x = np.random.default_rng(0).standard_normal(10**6)
    >>> y = lkreg.alpha_dropout(x, 0.2, seed=1)
    >>> bool(abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01)
    True
    """
    if is_dask_array(x):
        no_out_for_dask(out)
        return dask_backend().alpha_dropout(x, p, seed, stream, offset)
    return scalar_if_0d(_core.alpha_dropout(*_kernel_args(x, p, seed, stream, offset), out), out)


def drop_connect(
    w: Any,
    p: float,
    *,
    seed: int,
    stream: int = 0,
    offset: int = 0,
    out: Optional[np.ndarray] = None,
) -> np.ndarray:
    """DropConnect (Wan et al. 2013): drop individual weights instead of activations.

    This is :func:`dropout` applied to a weight array ``w`` (of any shape, e.g. a layer's
    ``(n_out, n_in)`` matrix): each weight is kept with probability ``1 - p`` and scaled by
    ``1 / (1 - p)`` (``w * (dtype(1 / (1 - p)) if kept else 0)``, IEEE products as in
    :func:`dropout`), so evaluation uses ``w`` unchanged. Multiply the returned weights with the
    layer's input in training; the gradient with respect to ``w`` is ``drop_connect`` of the
    weight gradient with the same arguments.

    Parameters
    ----------
    w : array_like of float32 or float64
        Weights, any shape.
    p : float
        Drop probability in [0, 1).
    seed, stream, offset : int
        Where the random numbers come from (see the module docstring), each in [0, 2**64).
    out : ndarray, optional
        Where to write the masked weights; may be ``w`` (in place).

    Returns
    -------
    ndarray
        The masked, rescaled weights, ``out`` if given.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> lkreg.drop_connect(np.ones((2, 3), np.float32), 0.25, seed=7)
    array([[0.       , 0.       , 1.3333334],
           [1.3333334, 1.3333334, 0.       ]], dtype=float32)
    """
    if is_dask_array(w):
        no_out_for_dask(out)
        return dask_backend().dropout(w, p, seed, stream, offset, name="w")
    return scalar_if_0d(_core.dropout(*_kernel_args(w, p, seed, stream, offset, "w"), out, False), out)


class Dropout:
    """An inverted-dropout layer with train/eval modes and fresh masks per call.

    In training mode :meth:`forward` applies :func:`dropout` at the layer's current ``offset``
    and then advances ``offset`` by the input's size, so consecutive batches get fresh masks;
    :meth:`backward` regenerates the last forward's mask from its offset (nothing is stored but
    two ints). In evaluation mode both are the identity.

    Parameters
    ----------
    p : float, default 0.5
        Drop probability in [0, 1).
    seed : int, optional
        In [0, 2**64). None draws one from the operating system's entropy.
    stream : int, default 0
        In [0, 2**64): give layers that share a seed different streams.

    Attributes
    ----------
    p : float
    seed : int
    stream : int
    offset : int
        Global index of the next forward's first element.
    training : bool
        True after construction and :meth:`train`, False after :meth:`eval`.

    Examples
    --------
    >>> import numpy as np, lkreg
    >>> layer = lkreg.Dropout(0.5, seed=1)
    >>> y = layer.forward(np.ones((2, 3), np.float32))
    >>> dx = layer.backward(np.ones((2, 3), np.float32))
    >>> bool(np.all((y == 0) | (y == 2))) and bool(np.array_equal(dx, y))
    True
    """

    def __init__(self, p: float = 0.5, seed: Optional[int] = None, stream: int = 0) -> None:
        self.p = _probability(p)
        self.seed = secrets.randbits(64) if seed is None else _uint64(seed, "seed")
        self.stream = _uint64(stream, "stream")
        self.offset = 0
        self.training = True
        self._last: Optional[Tuple[int, Tuple[int, ...]]] = None  # (offset, shape) of last forward

    def train(self, mode: bool = True) -> "Dropout":
        """Switch to training mode (or evaluation mode with ``mode=False``); returns self."""
        self.training = bool(mode)
        return self

    def eval(self) -> "Dropout":
        """Switch to evaluation mode (the identity); returns self."""
        return self.train(False)

    def forward(self, x: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Apply dropout to ``x`` (training) or return it unchanged (evaluation).

        Parameters
        ----------
        x : array_like of float32 or float64
            Input, any shape.
        out : ndarray, optional
            Where to write the result in training mode; may be ``x`` (in place).

        Returns
        -------
        ndarray
            ``dropout(x, p, seed=seed, stream=stream, offset=offset)`` in training mode, and
            ``x`` itself in evaluation mode.
        """
        if not self.training:
            self._last = None
            return x if isinstance(x, np.ndarray) else np.asarray(x)
        if not is_dask_array(x):  # a dask x gives a lazy result (the same masks)
            x = as_input(x, "x")
        y = dropout(x, self.p, seed=self.seed, stream=self.stream, offset=self.offset, out=out)
        self._last = (self.offset, x.shape)
        self.offset += x.size
        return y

    __call__ = forward

    def backward(self, grad: Any, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Gradient with respect to the last forward's input: the same mask and scale.

        Parameters
        ----------
        grad : array_like of float32 or float64
            Upstream gradient, of the last forward input's shape.
        out : ndarray, optional
            Where to write the result; may be ``grad`` (in place).

        Returns
        -------
        ndarray
            ``grad * mask / (1 - p)``, or ``grad`` itself after a forward in evaluation mode.
        """
        if self._last is None:
            if self.training:
                raise RuntimeError("backward() needs a forward() in training mode first")
            return grad if isinstance(grad, np.ndarray) else np.asarray(grad)
        offset, shape = self._last
        if not is_dask_array(grad):
            grad = as_input(grad, "grad")
        if grad.shape != shape:
            raise ValueError(
                f"grad must have shape {shape} like the last forward's input, got {grad.shape}"
            )
        return dropout(grad, self.p, seed=self.seed, stream=self.stream, offset=offset, out=out)

    def _key(self) -> Tuple[Any, ...]:
        return (self.p, self.seed, self.stream, self.offset, self.training, self._last)

    def __eq__(self, other: object) -> bool:
        """Equal layers draw the same masks from here on (pickled and copied layers are)."""
        if not isinstance(other, Dropout):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # mutable: its offset advances

    def __repr__(self) -> str:
        mode = "train" if self.training else "eval"
        stream = f", stream={self.stream}" if self.stream else ""
        return (
            f"Dropout(p={self.p!r}, seed={self.seed}{stream}, offset={self.offset}, mode={mode!r})"
        )
