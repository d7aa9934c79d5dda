"""Where lkreg behaves as NumPy's ufuncs do: scalar results, broadcast and cast thresholds,
negative threshold entries, masked arrays and ndarray subclasses.

References are NumPy's own expressions (``np.where``, ``np.broadcast_to``, ``np.multiply``).
"""

import math

import numpy as np
import pytest

import lkreg

from helpers import DTYPES, bits


def numpy_soft(x, t):
    """sign(x) * max(|x| - t, 0) with the sign of x kept on zeros, in x's dtype."""
    x, t = np.broadcast_arrays(x, np.asarray(t, x.dtype))
    a = np.abs(x) - t
    return np.copysign(np.where(a <= 0, 0, a), x).astype(x.dtype)


def numpy_hard(x, t):
    x, t = np.broadcast_arrays(x, np.asarray(t, x.dtype))
    return np.where(np.abs(x) <= t, np.zeros((), x.dtype), x)


THRESHOLDS = [(lkreg.soft_threshold, numpy_soft), (lkreg.hard_threshold, numpy_hard)]
THRESHOLD_IDS = ["soft", "hard"]


# ---------------------------------------------------------------------------------------------
# Scalar or 0-d input gives a NumPy scalar, as a ufunc does


ELEMENTWISE = {
    "soft_threshold": lambda x, out=None: lkreg.soft_threshold(x, 0.25, out=out),
    "soft_threshold(0-d t)": lambda x, out=None: lkreg.soft_threshold(x, np.array(0.25), out=out),
    "hard_threshold": lambda x, out=None: lkreg.hard_threshold(x, 0.25, out=out),
    "weight_decay": lambda x, out=None: lkreg.weight_decay(x, 0.5, out=out),
    "L1.grad": lambda x, out=None: lkreg.L1(0.5).grad(x, out=out),
    "Lk(1.5).grad": lambda x, out=None: lkreg.Lk(1.5, 0.5).grad(x, out=out),
    "ElasticNet.value_and_grad": lambda x, out=None: lkreg.ElasticNet(0.5, 0.1).value_and_grad(x, out=out)[1],
    "L1.prox": lambda x, out=None: lkreg.L1(0.5).prox(x, 0.5, out=out),
    "Lk(0.5).prox": lambda x, out=None: lkreg.Lk(0.5, 0.5).prox(x, 0.1, out=out),
    "L0.prox": lambda x, out=None: lkreg.L0(0.5).prox(x, 0.1, out=out),
    "dropout": lambda x, out=None: lkreg.dropout(x, 0.5, seed=4, out=out),
    "alpha_dropout": lambda x, out=None: lkreg.alpha_dropout(x, 0.5, seed=4, out=out),
    "drop_connect": lambda x, out=None: lkreg.drop_connect(x, 0.5, seed=4, out=out),
    "dropout_backward": lambda x, out=None: lkreg.dropout_backward(x, np.ones(np.shape(x), bool), 0.5, out=out),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_scalar_and_0d_input_give_a_numpy_scalar_equal_to_the_1d_result(name):
    fn = ELEMENTWISE[name]
    for x, scalar_type in [(1.5, np.float64), (np.float32(-1.5), np.float32),
                           (np.array(1.5), np.float64), (np.array(-1.5, np.float32), np.float32)]:
        got = fn(x)
        assert type(got) is scalar_type, (name, x, type(got))
        one = fn(np.asarray(x).reshape(1))
        assert bits(np.asarray(got).reshape(1)) == bits(one), name
    # as np.multiply(np.float64(2), 3) is a scalar: the same type a ufunc gives
    assert type(np.multiply(np.array(1.5, np.float32), np.float32(2))) is np.float32


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_a_0d_out_is_returned_as_the_array_it_is(name):
    out = np.zeros((), np.float64)
    got = ELEMENTWISE[name](np.array(1.5), out=out)
    assert got is out


def test_dropout_with_its_mask_gives_two_scalars_for_a_scalar():
    y, mask = lkreg.dropout(2.0, 0.5, seed=3, return_mask=True)
    assert type(y) is np.float64 and type(mask) is np.bool_
    assert y == (4.0 if mask else 0.0)
    assert bool(mask) == bool(lkreg.dropout_mask(1, 0.5, seed=3)[0])


def test_arrays_stay_arrays():
    assert isinstance(lkreg.soft_threshold(np.array([1.5]), 0.5), np.ndarray)
    assert lkreg.L1(1.0).grad(np.ones((2, 0))).shape == (2, 0)


# ---------------------------------------------------------------------------------------------
# A threshold array broadcasts against x and is cast to x's dtype


BROADCASTS = [
    ((3, 4), (4,)),  # one threshold per column
    ((3, 4), (3, 1)),  # one per row
    ((3, 4), (1, 4)),
    ((3, 4), (1, 1)),
    ((3, 4), (1,)),
    ((3, 4), (3, 4)),
    ((2, 3, 4), (3, 1)),  # per middle axis: runs of 4 sharing one threshold
    ((2, 3, 4), (2, 1, 4)),  # repeated along an interior axis
    ((2, 3, 4), (2, 1, 1)),
    ((2, 3, 4), (3, 4)),
    ((5, 7, 300), (7, 1)),  # runs of 300
    ((5, 7, 300), (5, 7, 1)),
    ((1000, 37), (37,)),  # a short period, tiled
    ((1000, 37), (1000, 1)),  # runs of 37, t spread out once
    ((50000, 3), (50000, 1)),  # runs of 3, too many to spread out at once: block by block
    ((3, 20000, 5), (20000, 1)),
    ((70000, 3), (3,)),  # large enough to be split over threads
    ((3, 70000), (3, 1)),
    ((4, 50000), (4, 50000)),
    ((0, 4), (4,)),
    ((4,), (3, 4)),  # x broadcast to the result's shape, as a ufunc's output
    ((), (5,)),
]


@pytest.mark.parametrize("fn, reference", THRESHOLDS, ids=THRESHOLD_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, t_shape", BROADCASTS, ids=str)
def test_a_threshold_array_broadcasts_by_numpys_rules(fn, reference, dtype, x_shape, t_shape, simd_level, restore_threads):
    rng = np.random.default_rng(len(x_shape) * 100 + len(t_shape))
    x = rng.standard_normal(x_shape).astype(dtype)
    t = np.abs(rng.standard_normal(t_shape)).astype(dtype) * 0.8
    want = reference(x, t)
    for threads in (1, 2, 3):
        lkreg.set_num_threads(threads)
        got = fn(x, t)
        assert got.shape == np.broadcast_shapes(x_shape, t_shape) and got.dtype == dtype
        np.testing.assert_array_equal(bits(got), bits(want))
    out = np.empty(want.shape, dtype)
    assert fn(x, t, out=out) is out
    np.testing.assert_array_equal(bits(out), bits(want))


@pytest.mark.parametrize("fn, reference", THRESHOLDS, ids=THRESHOLD_IDS)
def test_broadcast_threshold_in_place(fn, reference):
    x = np.random.default_rng(0).standard_normal((300, 5))
    t = np.array([0.1, 0.5, 1.0, 0.0, 2.0])
    want = reference(x, t)
    assert fn(x, t, out=x) is x
    np.testing.assert_array_equal(bits(x), bits(want))


@pytest.mark.parametrize("fn, reference", THRESHOLDS, ids=THRESHOLD_IDS)
def test_a_threshold_array_is_cast_to_xs_dtype(fn, reference):
    x = np.linspace(-2, 2, 24, dtype=np.float32).reshape(4, 6)
    t = np.full(6, 0.1)  # float64; 0.1 rounds differently in float32
    got = fn(x, t)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(bits(got), bits(reference(x, t.astype(np.float32))))
    x64 = x.astype(np.float64)
    got64 = fn(x64, t.astype(np.float32))
    assert got64.dtype == np.float64
    np.testing.assert_array_equal(bits(got64), bits(reference(x64, t.astype(np.float32).astype(np.float64))))
    # a list of floats is an array of float64, cast the same way
    np.testing.assert_array_equal(bits(fn(x, [0.1] * 6)), bits(got))


def test_the_cast_is_of_t_never_of_x_or_out():
    x = np.ones(4, np.float32)
    with pytest.raises(ValueError, match=r"\bout\b"):
        lkreg.soft_threshold(x, np.full(4, 0.5), out=np.empty(4, np.float64))
    with pytest.raises(TypeError, match=r"\bt\b"):  # integers are not thresholds: no silent cast
        lkreg.soft_threshold(x, np.ones(4, np.int64))


@pytest.mark.parametrize("fn", [lkreg.soft_threshold, lkreg.hard_threshold], ids=THRESHOLD_IDS)
@pytest.mark.parametrize("x_shape, t_shape", [((3, 4), (3,)), ((3, 4), (2, 4)), ((9,), (9, 2))], ids=str)
def test_a_threshold_that_does_not_broadcast_is_a_value_error_naming_t(fn, x_shape, t_shape):
    x, t = np.ones(x_shape), np.ones(t_shape)
    with pytest.raises(ValueError, match=r"\bt with shape"):
        fn(x, t)


def test_out_of_the_broadcast_shape_is_required():
    x, t = np.ones(4), np.ones((3, 4))
    with pytest.raises(ValueError, match=r"\bout\b"):
        lkreg.soft_threshold(x, t, out=x)  # x is (4,), the result (3, 4): never a silent temporary


# ---------------------------------------------------------------------------------------------
# A negative threshold entry is a ValueError, found in the kernel's pass


@pytest.mark.parametrize("fn", [lkreg.soft_threshold, lkreg.hard_threshold], ids=THRESHOLD_IDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "x_shape, t_shape, where",
    [((2,), (2,), 0), ((2,), (2,), 1), ((3, 4), (4,), 3), ((3, 4), (3, 1), 2), ((3, 4), (1,), 0),
     ((200_001,), (200_001,), 150_000), ((1000, 37), (37,), 36), ((3, 70000), (3, 1), 1),
     ((50000, 3), (50000, 1), 40000),
     ((2, 3, 4), (2, 1, 4), 5)],
    ids=str,
)
def test_a_negative_threshold_entry_is_a_value_error_and_arrays_stay_unchanged(
        fn, dtype, x_shape, t_shape, where, simd_level, restore_threads):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape).astype(dtype)
    t = np.full(t_shape, 0.5, dtype)
    t.flat[where] = -0.1
    x0, t0 = x.copy(), t.copy()
    for threads in (1, 2):
        lkreg.set_num_threads(threads)
        with pytest.raises(ValueError, match=r"^t must be >= 0"):
            fn(x, t)
        if t.shape == x.shape:
            for out in (x, t):  # in place over either input: nothing changes
                with pytest.raises(ValueError, match=r"^t must be >= 0"):
                    fn(x, t, out=out)
        else:
            with pytest.raises(ValueError, match=r"^t must be >= 0"):
                fn(x, t, out=x)
        np.testing.assert_array_equal(bits(x), bits(x0))
        np.testing.assert_array_equal(bits(t), bits(t0))


def test_the_issues_example():
    with pytest.raises(ValueError, match="t must be >= 0"):
        lkreg.soft_threshold([-0.5, 0.5], np.array([-0.1, -0.1]))


def test_negative_zero_and_nan_entries_are_thresholds():
    x = np.array([-1.0, 2.0, 3.0])
    t = np.array([-0.0, math.nan, 1.0])
    np.testing.assert_array_equal(bits(lkreg.hard_threshold(x, t)), bits(numpy_hard(x, t)))
    got = lkreg.soft_threshold(x, t)
    assert got[0] == -1.0 and math.isnan(got[1]) and got[2] == 2.0


# ---------------------------------------------------------------------------------------------
# Masked arrays and other ndarray subclasses


MASKED_CALLS = {
    "soft_threshold x": lambda m: lkreg.soft_threshold(m, 0.1),
    "soft_threshold t": lambda m: lkreg.soft_threshold(np.ones(3), m),
    "hard_threshold x": lambda m: lkreg.hard_threshold(m, 0.1),
    "weight_decay w": lambda m: lkreg.weight_decay(m, 0.1),
    "L1.value w": lambda m: lkreg.L1(1.0).value(m),
    "L2.grad w": lambda m: lkreg.L2(1.0).grad(m),
    "Lk.prox w": lambda m: lkreg.Lk(0.5).prox(m, 0.1),
    "GroupL2.value w": lambda m: lkreg.GroupL2(1.0, axis=0).value(m),
    "dropout x": lambda m: lkreg.dropout(m, 0.5, seed=1),
    "dropout_backward grad": lambda m: lkreg.dropout_backward(m, np.ones(3, bool), 0.5),
    "Dropout.forward x": lambda m: lkreg.Dropout(0.5, seed=1).forward(m),
}


@pytest.mark.parametrize("name", list(MASKED_CALLS))
def test_a_masked_array_is_a_type_error_naming_the_argument(name):
    masked = np.ma.masked_array([1.0, -2.0, 3.0], mask=[False, True, False])
    argument = name.split()[-1]
    with pytest.raises(TypeError, match=rf"^{argument} must not be a masked array"):
        MASKED_CALLS[name](masked)
    assert masked.mask.tolist() == [False, True, False]


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
def test_other_ndarray_subclasses_come_back_as_plain_ndarrays():
    class Tagged(np.ndarray):
        pass

    x = np.array([[-2.0, 0.5], [1.0, 3.0]]).view(Tagged)
    m = np.asmatrix([[-2.0, 0.5], [1.0, 3.0]])
    for arg in (x, m):
        for got in (lkreg.soft_threshold(arg, 0.5), lkreg.L2(1.0).grad(arg),
                    lkreg.dropout(arg, 0.5, seed=2), lkreg.weight_decay(arg, 0.5)):
            assert type(got) is np.ndarray
        np.testing.assert_array_equal(lkreg.soft_threshold(arg, 0.5), numpy_soft(np.asarray(arg), 0.5))
