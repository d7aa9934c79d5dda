"""lkreg on Dask: the same kernels, penalties and linear models on chunked arrays and clusters.

Needs dask (``pip install 'lkreg[dask]'``); ``import lkreg`` does not. lkreg's functions and
methods take dask arrays directly and return lazy dask arrays (dask is imported only when one
arrives):

- ``soft_threshold``, ``hard_threshold``, ``weight_decay``, ``dropout``, ``alpha_dropout``,
  ``drop_connect``, ``dropout_backward``, the ``Dropout`` layer, and every element-wise
  penalty's ``grad``, ``add_grad`` and ``prox``: equal to the in-memory result bit for bit for
  any chunking, chunks split along the last axis included (dropout draws each element's random
  number from its global C-order index, so a block's rows get their own offsets);
- a penalty's ``value``: a lazy 0-d float64 array, the sum of per-block float64 values in the
  graph's fixed order (the same bits on every run for a given chunking, the in-memory value to
  float64 rounding);
- ``GroupL2``'s ``value``, ``grad``, ``add_grad`` and ``prox`` (a number as step): with
  ``axis=``, w is rechunked so that the axis lies whole in every block (the dask analogue of
  one copy; results come chunked that way) and the results are the in-memory ones bit for bit;
  with ``groups=``, the group sums of squares are per-block partial sums added in a fixed order
  (bit for bit when every group lies inside one block, to float64 rounding otherwise), then
  every block is scaled by its groups' factors;
- ``Lasso``, ``ElasticNet``, ``Ridge`` and ``PenalizedRegression`` (lkreg.linear_model) fit a
  tall dask X and y from one distributed pass of sufficient statistics (X'X, X'y, column sums,
  sum of y^2, weights) and then the in-memory Gram solver; ``regularization_path`` does the
  same for the whole path (one pass, then every strength in memory, warm-started;
  ``loss="log"`` by the logistic passes below);
- ``LogisticRegression`` (binary and multinomial, any element-wise penalty) fits a tall dask X
  by proximal Newton on the Gram form, one distributed pass per outer step (the losses along
  the line search, the gradient and the Hessian blocks from every row block), the inner
  problem solved in memory. X is neither gathered nor persisted; ``predict``,
  ``predict_proba`` and ``decision_function`` on a dask X are lazy, block by block.

This module adds :func:`dropout_mask` (a mask as a chunked dask array, bool or packed 8
elements per byte, equal to the in-memory one; ``dropout_backward`` with a dask grad takes
either) and :func:`sufficient_statistics`. ``out=`` is an error with dask input (dask arrays
are immutable). ``regularization_path`` takes dask arrays too: the least-squares losses from one
pass of sufficient statistics, ``loss="log"`` by the logistic passes, warm-started along the
grid.

Workers use one lkreg thread each by default: dask's nanny starts worker processes with
``OMP_NUM_THREADS=1``, which lkreg reads (``LKREG_NUM_THREADS`` overrides it); in-process
(threaded) workers share the process's pool, and a call that finds it busy runs on its own
thread. Cross-validation (``LassoCV`` and the other CV estimators) runs its folds on a cluster
through joblib: ``with joblib.parallel_config("dask"): LassoCV(n_jobs=-1).fit(X, y)``.

Examples
--------
>>> import numpy as np, dask.array as da, lkreg
>>> x = np.arange(-6.0, 6.0).reshape(3, 4)
>>> dx = da.from_array(x, chunks=(2, 3))  # split along both axes
>>> lazy = lkreg.soft_threshold(dx, 1.5)
>>> bool(np.array_equal(lazy.compute(), lkreg.soft_threshold(x, 1.5)))
True
>>> bool(np.array_equal(lkreg.dropout(dx, 0.5, seed=3).compute(), lkreg.dropout(x, 0.5, seed=3)))
True
>>> float(lkreg.L1(0.5).value(dx).compute()) == lkreg.L1(0.5).value(x)
True
"""

try:
    import dask.array  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without dask
    raise ImportError("lkreg.dask needs dask: pip install 'lkreg[dask]' "
                      "(or pip install 'dask[array,distributed]')") from exc

from ._arrays import dropout_mask as _dropout_mask
from ._models import Moments, sufficient_statistics
from .. import _dropout
from .._validation import flag
from ..prox import hard_threshold, soft_threshold, weight_decay

dropout = _dropout.dropout
alpha_dropout = _dropout.alpha_dropout
drop_connect = _dropout.drop_connect
dropout_backward = _dropout.dropout_backward


def dropout_mask(shape, p, *, seed, stream=0, offset=0, packed=False, chunks="auto"):
    """The mask of :func:`lkreg.dropout_mask` as a dask array chunked by ``chunks``.

    Each block is drawn where it runs, from its elements' global indices: the whole mask is
    never in one place, and ``compute()`` equals ``lkreg.dropout_mask(shape, p, ...)`` (with
    ``packed=True`` byte for byte).

    Parameters
    ----------
    shape : int or tuple of ints
    p : float
        Drop probability in [0, 1).
    seed, stream, offset : int
        As in :func:`lkreg.dropout_mask`.
    packed : bool, default False
        The mask packed 8 elements per byte (little-endian bit order, the last byte partial):
        a 1-D uint8 array of ``ceil(size / 8)`` bytes, chunked along the bytes (a block of
        bytes ``[lo, hi)`` holds elements ``8 lo`` to ``8 hi - 1``, drawn from there).
        :func:`lkreg.dropout_backward` takes it with a dask grad too.
    chunks : dask chunks, default "auto"
        Any form ``dask.array`` takes: of the mask's shape, or with ``packed=True`` of its
        bytes.

    Returns
    -------
    dask.array.Array of bool (uint8 with ``packed=True``)

    Examples
    --------
    >>> import numpy as np, lkreg, lkreg.dask
    >>> mask = lkreg.dask.dropout_mask((4, 6), 0.5, seed=42, chunks=(3, 4))
    >>> bool(np.array_equal(mask.compute(), lkreg.dropout_mask((4, 6), 0.5, seed=42)))
    True
    >>> packed = lkreg.dask.dropout_mask(1001, 0.3, seed=7, packed=True, chunks=40)
    >>> packed.chunks, packed.dtype
    (((40, 40, 40, 6),), dtype('uint8'))
    >>> bool(np.array_equal(packed.compute(), lkreg.dropout_mask(1001, 0.3, seed=7, packed=True)))
    True
    """
    return _dropout_mask(shape, p, seed, stream, offset, chunks, flag(packed, "packed"))


__all__ = ["soft_threshold", "hard_threshold", "weight_decay", "dropout", "alpha_dropout",
           "drop_connect", "dropout_backward", "dropout_mask", "sufficient_statistics", "Moments"]
