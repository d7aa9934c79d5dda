"""Argument checks, in one place: dtype sets, scalar coercion, array overlap.

Every public function of lkreg checks its arguments through these helpers, so that the same
mistake gets the same error everywhere: a TypeError for the wrong kind of object, a ValueError
for a value out of range, both naming the argument (``where`` appends context such as
" (param_groups[1])").
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any, Optional, Sequence, Tuple

import numpy as np

#: The dtypes every kernel computes in (in native byte order: ``'>f8'`` is not one of them).
KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def is_dask_array(x: object) -> bool:
    """True for a dask array; dask is imported only for an object whose type comes from it.

    The functions that accept dask arrays (lkreg.dask) check this first; every other one gets a
    TypeError from :func:`as_input` instead of computing a large array into memory silently.
    """
    cls = type(x)
    module = getattr(cls, "__module__", None)
    if cls is np.ndarray or not isinstance(module, str) or not module.startswith("dask."):
        return False
    import dask.array

    return isinstance(x, dask.array.Array)


def dask_backend() -> Any:
    """lkreg.dask's block-by-block implementations, imported only when a dask array came in."""
    from .dask import _arrays

    return _arrays


def no_out_for_dask(out: object) -> None:
    """Dask arrays are immutable: a lazy result has no ``out=`` to write into."""
    if out is not None:
        raise ValueError("out= is not supported with a dask array: the result is a new lazy "
                         "dask array")


def as_input(x: object, name: str) -> np.ndarray:
    """Return ``x`` as an ndarray the kernels can read, or raise a TypeError naming it.

    Array-likes go through ``np.asarray``, as NumPy's own functions take them, so an ndarray
    subclass comes back as a plain ndarray; a masked array is a TypeError instead (its mask would
    be dropped silently). A float32/float64 array that is not C-contiguous is copied once into C
    order (the documented copy for strided input). Any other dtype (int, bool, float16, complex,
    object, str, non-native byte order) is a TypeError: lkreg never casts silently.
    """
    if type(x) is not np.ndarray and is_dask_array(x):
        raise TypeError(f"{name} is a dask array, which this function does not take (see "
                        f"lkreg.dask for those that do); pass {name}.compute() to use memory")
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{name} must not be a masked array (lkreg would ignore its mask); "
                        f"pass {name}.filled(...) or {name}.data")
    try:
        arr = np.asarray(x)
    except TypeError as exc:  # a torch bfloat16 tensor: name the argument
        raise TypeError(f"{name} must be a float32 or float64 array: {exc}") from None
    if arr.dtype not in KERNEL_DTYPES:  # equality includes byte order: '>f8' is not in
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {arr.dtype}")
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")
    return arr


def scalar_if_0d(result: Any, out: Any) -> Any:
    """A 0-d result as a NumPy scalar, as ufuncs return one, unless the caller passed ``out``."""
    if out is None and isinstance(result, np.ndarray) and result.ndim == 0:
        return result[()]
    return result


def real_number(value: object, name: str, where: str = "") -> float:
    """``float(value)`` for a real number (not a bool), else TypeError naming ``name``.

    The one rule for every scalar lkreg takes: any ``numbers.Real`` (int, float, NumPy
    scalars, ``fractions.Fraction``) is accepted; one too large for a float (``10**400``,
    ``Fraction(10**400)``) is a ValueError naming the argument, not Python's OverflowError.
    """
    if type(value) is float:  # the common case first: small arrays pay per call
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}{where}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} is too large for a float{where}") from None


def nonnegative(value: object, name: str, where: str = "") -> float:
    """A finite real number >= 0."""
    x = real_number(value, name, where)
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}{where}")
    return x


def positive(value: object, name: str, where: str = "") -> float:
    """A finite real number > 0."""
    x = real_number(value, name, where)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}{where}")
    return x


def finite(value: object, name: str, where: str = "") -> float:
    """A finite real number."""
    x = real_number(value, name, where)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}{where}")
    return x


def unit_interval(value: object, name: str, where: str = "") -> float:
    """A real number in [0, 1) (drop probabilities, torch's betas, RMSprop's alpha)."""
    x = real_number(value, name, where)
    if not 0.0 <= x < 1.0:  # NaN fails too
        raise ValueError(f"{name} must be in [0, 1), got {value!r}{where}")
    return x


def fraction(value: object, name: str, where: str = "") -> float:
    """A real number in [0, 1] (elastic net's l1_ratio)."""
    x = real_number(value, name, where)
    if not 0.0 <= x <= 1.0:  # NaN fails too
        raise ValueError(f"{name} must be in [0, 1], got {value!r}{where}")
    return x


def flag(value: object, name: str, where: str = "") -> bool:
    """A bool (numpy's included), not any truthy object."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}{where}")
    return bool(value)


def integer(value: object, name: str, minimum: Optional[int] = None, where: str = "") -> int:
    """An int (numpy's included, not a bool) >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, got bool{where}")
    try:
        n = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(value).__name__}{where}") from None
    if minimum is not None and n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}{where}")
    return n


def choice(value: object, name: str, options: Sequence[str], where: str = "") -> str:
    """One of ``options`` (strings)."""
    if not isinstance(value, str) or value not in options:
        listed = " or ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be {listed}, got {value!r}{where}")
    return value


def pair(value: object, name: str, where: str = "") -> Tuple[object, object]:
    """A sequence of exactly two items (torch's ``betas``)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"{name} must be a pair of numbers, got {value!r}{where}")
    return value[0], value[1]


def overlaps_partially(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` and ``b`` share memory without being the same array region.

    Element-wise kernels may read and write one array (in place); a partial overlap would make
    them read elements they have already written.
    """
    if not np.may_share_memory(a, b):  # a bounds check: the usual, fast answer
        return False
    a0, b0 = a.__array_interface__["data"][0], b.__array_interface__["data"][0]
    if a0 == b0 and a.nbytes == b.nbytes:
        return False
    return a0 < b0 + b.nbytes and b0 < a0 + a.nbytes


def writable_array(p: object, name: str) -> np.ndarray:
    """An array an optimizer updates in place: float32/float64, C-contiguous, writable."""
    if not isinstance(p, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(p).__name__}")
    if p.dtype not in KERNEL_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {p.dtype}")
    if not p.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous: it is updated in place")
    if not p.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return p
