"""lkreg's kernels, dropout and penalties on dask arrays: bit for bit the in-memory results for
any chunking (hypothesis draws shapes and irregular chunks, split along every axis)."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

import lkreg

from helpers import bits

da = pytest.importorskip("dask.array")
hyp = pytest.importorskip("hypothesis")
st = hyp.strategies
given, settings = hyp.given, hyp.settings


def compute(x):
    return x.compute(scheduler="sync")


@st.composite
def chunked(draw, dtype=None, max_dims=3):
    """(array, dask array of it in irregular chunks along every axis)."""
    shape = tuple(draw(st.lists(st.integers(0, 7), max_size=max_dims)))
    dtype = dtype or draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape) * np.exp(rng.uniform(-2, 2, shape)), dtype=dtype)
    if x.size:
        x[rng.random(shape) < 0.15] = 0.0
    chunks = []
    for n in shape:
        cuts = sorted(draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=3, unique=True)))
        edges = [0] + [c for c in cuts if 0 < c < n] + [n]
        chunks.append(tuple(b - a for a, b in zip(edges, edges[1:])) or (0,))
    return x, da.from_array(x, chunks=tuple(chunks))


def same(lazy, expected):
    assert isinstance(lazy, da.Array)
    got = compute(lazy)
    assert got.shape == np.shape(expected) and got.dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(bits(got), bits(expected))


# ---- element kernels -------------------------------------------------------------------------

@settings(max_examples=60)
@given(chunked(), st.floats(0, 2))
def test_thresholds_and_weight_decay_bit_for_bit(data, t):
    x, dx = data
    same(lkreg.soft_threshold(dx, t), lkreg.soft_threshold(x, t))
    same(lkreg.hard_threshold(dx, t), lkreg.hard_threshold(x, t))
    same(lkreg.weight_decay(dx, t / 4), lkreg.weight_decay(x, t / 4))


@settings(max_examples=40)
@given(chunked(max_dims=3), st.integers(0, 2**16))
def test_threshold_arrays_broadcast_per_block(data, seed):
    x, dx = data
    hyp.assume(x.size > 0)  # (the in-memory kernels refuse some broadcasts of empty arrays)
    rng = np.random.default_rng(seed)
    for axis in range(x.ndim):  # one threshold per index of one axis (per row, per column, ...)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        t = rng.uniform(0, 1, shape)  # float64: cast to x's dtype, as in memory
        same(lkreg.soft_threshold(dx, t), lkreg.soft_threshold(x, t))
        same(lkreg.hard_threshold(dx, t), lkreg.hard_threshold(x, t))
        dt = da.from_array(t, chunks=1)
        same(lkreg.soft_threshold(dx, dt), lkreg.soft_threshold(x, t))
    t = rng.uniform(0, 1, x.shape)  # one per element
    same(lkreg.soft_threshold(dx, t), lkreg.soft_threshold(x, t))


def test_threshold_broadcast_to_a_larger_shape():
    x = np.linspace(-2, 2, 5)
    t = np.array([[0.5], [1.0], [0.0]])
    same(lkreg.soft_threshold(da.from_array(x, chunks=2), t), lkreg.soft_threshold(x, t))


# ---- dropout ---------------------------------------------------------------------------------

@settings(max_examples=60)
@given(chunked(), st.sampled_from([0.0, 0.1, 0.5, 0.9]), st.integers(0, 2**64 - 1),
       st.integers(0, 2**64 - 1), st.integers(0, 2**40))
def test_dropout_bit_for_bit(data, p, seed, stream, offset):
    x, dx = data
    kw = dict(seed=seed, stream=stream, offset=offset)
    same(lkreg.dropout(dx, p, **kw), lkreg.dropout(x, p, **kw))
    same(lkreg.alpha_dropout(dx, p, **kw), lkreg.alpha_dropout(x, p, **kw))
    same(lkreg.drop_connect(dx, p, **kw), lkreg.drop_connect(x, p, **kw))
    y, mask = lkreg.dropout(dx, p, return_mask=True, **kw)
    y0, mask0 = lkreg.dropout(x, p, return_mask=True, **kw)
    same(y, y0)
    np.testing.assert_array_equal(compute(mask), mask0)
    assert mask.chunks == dx.chunks
    np.testing.assert_array_equal(
        compute(lkreg.dask.dropout_mask(x.shape, p, chunks=dx.chunks, **kw)),
        lkreg.dropout_mask(x.shape, p, **kw))
    same(lkreg.dropout_backward(dx, mask, p), lkreg.dropout_backward(x, mask0, p))
    same(lkreg.dropout_backward(dx, mask0, p), lkreg.dropout_backward(x, mask0, p))


@st.composite
def byte_chunks(draw, n_bytes):
    cuts = sorted(draw(st.lists(st.integers(1, max(n_bytes - 1, 1)), max_size=4, unique=True)))
    edges = [0] + [c for c in cuts if 0 < c < n_bytes] + [n_bytes]
    return tuple(b - a for a, b in zip(edges, edges[1:])) or (0,)


@settings(max_examples=60)
@given(st.integers(0, 3000), st.sampled_from([0.0, 0.1, 0.5, 0.9]), st.integers(0, 2**64 - 1),
       st.integers(0, 2**64 - 1), st.integers(0, 2**40), st.data())
def test_packed_dropout_mask_byte_for_byte(size, p, seed, stream, offset, data):
    # blocks of bytes, each drawn from its first element 8 * start: the in-memory bytes
    kw = dict(seed=seed, stream=stream, offset=offset)
    expected = lkreg.dropout_mask(size, p, packed=True, **kw)
    chunks = data.draw(byte_chunks(len(expected)))
    lazy = lkreg.dask.dropout_mask(size, p, packed=True, chunks=(chunks,), **kw)
    assert isinstance(lazy, da.Array) and lazy.dtype == np.uint8 and lazy.chunks == (chunks,)
    np.testing.assert_array_equal(compute(lazy), expected)
    # dropout_backward takes the packed mask with a dask grad, as in memory
    x = np.linspace(-1, 1, size).reshape((size // 4, 4) if size % 4 == 0 else (size,))
    dx = da.from_array(x, chunks=3)
    want = lkreg.dropout_backward(x, expected, p)
    same(lkreg.dropout_backward(dx, lazy, p), want)
    same(lkreg.dropout_backward(dx, expected, p), want)


def test_packed_dropout_mask_shapes_and_auto_chunks():
    expected = lkreg.dropout_mask((300, 7), 0.3, seed=2, packed=True)  # 2100 bits: 263 bytes
    lazy = lkreg.dask.dropout_mask((300, 7), 0.3, seed=2, packed=True)
    assert lazy.shape == (263,)
    np.testing.assert_array_equal(compute(lazy), expected)
    with pytest.raises(TypeError, match="packed must be a bool"):
        lkreg.dask.dropout_mask(10, 0.5, seed=1, packed=1)
    with pytest.raises(ValueError, match="packed uint8 bytes"):
        lkreg.dropout_backward(da.ones(20, chunks=6), np.zeros(2, np.uint8), 0.5)


@pytest.mark.parametrize("chunks", [(6000, 70), (1000, 7), (2500, 33), (6000, 1)])
def test_dropout_blocks_of_many_rows_in_parallel(chunks, restore_threads, simd_level):
    # blocks larger than the kernels' parallel threshold whose runs (rows split along the last
    # axis) cross the threads' chunk boundaries: any thread count and SIMD level gives the
    # whole array's mask
    x = np.random.default_rng(1).standard_normal((6000, 70)).astype(np.float32)
    whole = lkreg.dropout(x, 0.3, seed=5, stream=1, offset=12345)
    for threads in (1, 2, 4):
        lkreg.set_num_threads(threads)
        same(lkreg.dropout(da.from_array(x, chunks=chunks), 0.3, seed=5, stream=1, offset=12345),
             whole)


def test_the_whole_array_must_fit_64_bit_indices():
    # (the C++ block entry points themselves: tests/test_dropout.py, which needs no dask)
    with pytest.raises(ValueError, match="offset"):
        lkreg.dropout(da.zeros(10, chunks=3), 0.5, seed=1, offset=2**64 - 5)


def test_the_dropout_layer_takes_dask_arrays():
    x = np.random.default_rng(0).standard_normal((6, 5))
    eager, lazy = lkreg.Dropout(0.5, seed=3), lkreg.Dropout(0.5, seed=3)
    for _ in range(2):  # the offset advances the same way
        same(lazy.forward(da.from_array(x, chunks=(4, 2))), eager.forward(x))
        same(lazy.backward(da.from_array(x, chunks=(1, 5))), eager.backward(x))
    assert lazy == eager


# ---- penalties -------------------------------------------------------------------------------

PENALTIES = [lkreg.L1(0.3), lkreg.L2(0.7), lkreg.Lk(0.5, 0.2), lkreg.Lk(1.5, 0.4),
             lkreg.Lk(2.7, 0.1), lkreg.ElasticNet(0.2, 0.3), lkreg.L0(0.05),
             lkreg.L1(0.3, reduction="mean"), lkreg.Lk(0.7, 0.5, reduction="mean")]


@settings(max_examples=40)
@given(chunked(), st.sampled_from(PENALTIES), st.floats(0, 3))
def test_penalty_grad_and_prox_bit_for_bit(data, penalty, step):
    x, dx = data
    same(penalty.grad(dx), penalty.grad(x))
    same(penalty.prox(dx, step), penalty.prox(x, step))
    steps = np.asarray(np.abs(np.random.default_rng(x.size).standard_normal(x.shape)))
    same(penalty.prox(dx, steps), penalty.prox(x, steps))
    same(penalty.prox(dx, da.from_array(steps, chunks=2)), penalty.prox(x, steps))
    g = np.linspace(-1, 1, x.size).reshape(x.shape).astype(x.dtype)
    same(penalty.add_grad(dx, g), penalty.add_grad(x, g.copy()))
    value, grad = penalty.value_and_grad(dx)
    same(grad, penalty.grad(x))


@settings(max_examples=40)
@given(chunked(), st.sampled_from(PENALTIES))
def test_penalty_value_is_the_in_memory_value_and_deterministic(data, penalty):
    x, dx = data
    lazy = penalty.value(dx)
    assert isinstance(lazy, da.Array) and lazy.shape == () and lazy.dtype == np.float64
    got = compute(lazy)
    # a sum of per-block float64 values: the in-memory one to float64 rounding
    assert got == pytest.approx(penalty.value(x), rel=1e-13, abs=1e-300)
    assert bits(compute(penalty.value(dx))) == bits(got)  # the same bits on every run
    assert bits(lazy.compute(scheduler="threads")) == bits(got)


def test_penalty_value_matches_numpy_on_a_large_chunked_array():
    w = np.random.default_rng(2).standard_normal((20000, 13))
    dw = da.from_array(w, chunks=(3001, 5))
    assert compute(lkreg.L1(0.5).value(dw)) == pytest.approx(0.5 * np.abs(w).sum(), rel=1e-13)
    assert compute(lkreg.L2(0.5, reduction="mean").value(dw)) == pytest.approx(
        0.5 * (w**2).mean(), rel=1e-13)


# ---- GroupL2 -----------------------------------------------------------------------------------

def group_cases(x, dx, lam, reduction, ids):
    """GroupL2 along every axis of x, and by the ids given."""
    pens = [lkreg.GroupL2(lam, axis=a, reduction=reduction) for a in range(-x.ndim, x.ndim)]
    return pens + [lkreg.GroupL2(lam, groups=ids, reduction=reduction)]


@settings(max_examples=40)
@given(chunked(), st.floats(0, 2), st.sampled_from(["sum", "mean"]), st.floats(0, 3),
       st.integers(0, 2**16))
def test_group_l2_along_an_axis_bit_for_bit(data, lam, reduction, step, seed):
    # the axis is rechunked whole into every block: every group is summed as in memory
    x, dx = data
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
    for a in range(-x.ndim, x.ndim):
        pen = lkreg.GroupL2(lam, axis=a, reduction=reduction)
        same(pen.grad(dx), pen.grad(x))
        same(pen.prox(dx, step), pen.prox(x, step))
        same(pen.add_grad(dx, g), pen.add_grad(x, g.copy()))
        same(pen.add_grad(dx, da.from_array(g, chunks=3)), pen.add_grad(x, g.copy()))
        value, grad = pen.value_and_grad(dx)
        same(grad, pen.grad(x))
        got = compute(value)
        assert got == pytest.approx(pen.value(x), rel=1e-13, abs=1e-300)
        assert bits(compute(pen.value(dx))) == bits(got)  # the same bits on every run


@settings(max_examples=40)
@given(chunked(), st.floats(0, 2), st.sampled_from(["sum", "mean"]), st.floats(0, 3),
       st.integers(0, 2**16), st.integers(1, 6))
def test_group_l2_by_ids(data, lam, reduction, step, seed, n_ids):
    # a group spanning blocks has its sum of squares added in another order: the in-memory
    # result to the rounding of the factor, the same bits on every run
    x, dx = data
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n_ids, x.shape) * 3  # ids renumbered, some unused
    pen = lkreg.GroupL2(lam, groups=ids.ravel(), reduction=reduction)
    tol = dict(rtol=4 * np.finfo(x.dtype).eps, atol=0)
    for lazy, expected in ((pen.grad(dx), pen.grad(x)), (pen.prox(dx, step), pen.prox(x, step)),
                           (pen.add_grad(dx, x), pen.add_grad(x, x.copy()))):
        assert isinstance(lazy, da.Array) and lazy.chunks == dx.chunks
        got = compute(lazy)
        assert got.dtype == x.dtype
        np.testing.assert_allclose(got, expected, **tol)
        np.testing.assert_array_equal(bits(compute(lazy)), bits(got))
    assert compute(pen.value(dx)) == pytest.approx(pen.value(x), rel=1e-13, abs=1e-300)


@settings(max_examples=40)
@given(chunked(), st.floats(0, 2), st.floats(0, 3), st.integers(0, 2**16))
def test_group_l2_ids_inside_blocks_bit_for_bit(data, lam, step, seed):
    # every group inside one block (several per block): the in-memory sums exactly
    x, dx = data
    block = np.zeros(x.shape, np.int64)
    for axis, sizes in enumerate(dx.chunks):
        index = np.repeat(np.arange(len(sizes)), sizes).reshape((-1,) + (1,) * (x.ndim - axis - 1))
        block = block * len(sizes) + index
    ids = block * 2 + np.random.default_rng(seed).integers(0, 2, x.shape)
    pen = lkreg.GroupL2(lam, groups=ids)
    same(pen.grad(dx), pen.grad(x))
    same(pen.prox(dx, step), pen.prox(x, step))
    assert bits(compute(pen.value(dx))) == bits(np.float64(pen.value(x)))


def test_group_l2_bad_dask_input_names_the_argument():
    dw = da.ones((4, 3), chunks=2)
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        lkreg.GroupL2(1.0, axis=2).grad(dw)
    with pytest.raises(ValueError, match="5 group ids for 12 elements"):
        lkreg.GroupL2(1.0, groups=[0, 1, 0, 1, 2]).value(dw)
    with pytest.raises(NotImplementedError, match="step"):
        lkreg.GroupL2(1.0, axis=0).prox(dw, np.ones((4, 3)))
    with pytest.raises(ValueError, match="out="):
        lkreg.GroupL2(1.0, axis=0).grad(dw, out=np.empty((4, 3)))
    with pytest.raises(ValueError, match="g must have w's shape"):
        lkreg.GroupL2(1.0, axis=0).add_grad(dw, np.ones(3))
    with pytest.raises(TypeError, match="w must be a float32 or float64"):
        lkreg.GroupL2(1.0, axis=0).value(da.ones(3, dtype=np.int64, chunks=2))


# ---- errors and laziness ---------------------------------------------------------------------

def test_out_is_an_error_with_dask_input():
    dx = da.ones(4, chunks=2)
    out = np.empty(4)
    for call in (lambda: lkreg.soft_threshold(dx, 1.0, out=out),
                 lambda: lkreg.weight_decay(dx, 0.1, out=out),
                 lambda: lkreg.dropout(dx, 0.5, seed=1, out=out),
                 lambda: lkreg.L1(1.0).grad(dx, out=out),
                 lambda: lkreg.L1(1.0).prox(dx, 1.0, out=out)):
        with pytest.raises(ValueError, match="out="):
            call()


def test_bad_input_names_the_argument():
    with pytest.raises(TypeError, match="x must be a float32 or float64"):
        lkreg.soft_threshold(da.ones(3, dtype=np.int64, chunks=2), 1.0)
    with pytest.raises(TypeError, match="w must be a float32 or float64"):
        lkreg.L1(1.0).value(da.ones(3, dtype=np.float16, chunks=2))
    with pytest.raises(ValueError, match="t must be >= 0"):
        lkreg.soft_threshold(da.ones(3, chunks=2), -1.0)
    with pytest.raises(ValueError, match="p must be in"):
        lkreg.dropout(da.ones(3, chunks=2), 1.0, seed=1)
    with pytest.raises(ValueError, match="step"):
        lkreg.L1(1.0).prox(da.ones(3, chunks=2), np.ones(4))
    # functions without dask support say so instead of computing the array into memory
    with pytest.raises(TypeError, match="grad_at_zero is a dask array"):
        lkreg.GroupL2(1.0, axis=0).alpha_max(da.ones((3, 2), chunks=2))
    with pytest.raises(TypeError, match="dask array"):
        lkreg.L1(1.0).alpha_max(da.ones(3, chunks=2))


def test_results_are_lazy_and_the_input_is_unchanged():
    x = np.linspace(-3, 3, 12)
    before = x.copy()
    lazy = lkreg.L1(1.0).prox(da.from_array(x, chunks=5), 0.5)
    assert isinstance(lazy, da.Array)
    compute(lazy)
    np.testing.assert_array_equal(x, before)


def test_graphs_pickle():
    # what a worker process receives: the block functions with their arguments
    import cloudpickle

    dx = da.from_array(np.linspace(-1, 1, 10), chunks=3)
    for lazy in (lkreg.soft_threshold(dx, 0.2), lkreg.dropout(dx, 0.5, seed=1),
                 lkreg.L1(1.0).value(dx), lkreg.Lk(0.5, 1.0).prox(dx, 1.0),
                 lkreg.GroupL2(1.0, groups=np.arange(10) % 3).prox(dx, 0.5),
                 lkreg.GroupL2(1.0, axis=0).value(dx.reshape(5, 2))):
        again = pickle.loads(cloudpickle.dumps(lazy))
        np.testing.assert_array_equal(compute(again), compute(lazy))


def test_import_lkreg_does_not_import_dask():
    code = ("import sys, numpy as np, lkreg; lkreg.soft_threshold(np.ones(3), 1.0); "
            "lkreg.L1(1.0).value(np.ones(3)); lkreg.dropout(np.ones(3), 0.5, seed=1); "
            "assert not any(m == 'dask' or m.startswith('dask.') for m in sys.modules), "
            "'dask was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
