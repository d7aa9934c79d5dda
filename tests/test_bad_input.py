"""Bad arguments end in a TypeError or ValueError naming the argument, and change nothing."""

import numpy as np
import pytest

from lkreg import L0, L1, L2, ElasticNet, Lk

PENALTY = Lk(1.5, 0.1)


@pytest.mark.parametrize(
    "w",
    [
        np.arange(5),
        np.ones(5, dtype=np.complex128),
        np.ones(5, dtype=np.float16),
        np.array([1.0, "a"], dtype=object),
        np.ones(5, dtype=bool),
        np.ones(5, dtype=">f8"),
        np.array(["1.0", "2.0"]),
    ],
    ids=["int", "complex", "float16", "object", "bool", "big-endian", "str"],
)
@pytest.mark.parametrize("method", ["value", "grad", "value_and_grad"])
def test_wrong_dtype_is_type_error_naming_w(w, method):
    with pytest.raises(TypeError, match=r"\bw must be a float32 or float64 array"):
        getattr(PENALTY, method)(w)


def _outs(w):
    return {
        "dtype": np.empty(w.shape, np.float32),
        "shape": np.empty(w.size + 1),
        "strided": np.empty(2 * w.size)[::2],
        "readonly": np.frombuffer(np.zeros(w.size).tobytes()),
        "overlap": np.concatenate([w, w])[1 : w.size + 1],
    }


@pytest.mark.parametrize("case", ["dtype", "shape", "strided", "readonly"])
def test_bad_out_is_value_error_naming_out(case):
    w = np.linspace(-1, 1, 16)
    out = _outs(w)[case]
    before = out.copy()
    with pytest.raises(ValueError, match=r"\bout\b"):
        PENALTY.grad(w, out=out)
    with pytest.raises(ValueError, match=r"\bout\b"):
        PENALTY.value_and_grad(w, out=out)
    np.testing.assert_array_equal(out, before)


@pytest.mark.parametrize("case", ["dtype", "shape", "strided", "readonly"])
def test_bad_g_in_add_grad_is_value_error_naming_g(case):
    w = np.linspace(-1, 1, 16)
    g = _outs(w)[case]
    before = g.copy()
    with pytest.raises(ValueError, match=r"\bg\b"):
        PENALTY.add_grad(w, g)
    np.testing.assert_array_equal(g, before)


def test_out_partially_overlapping_w_is_rejected():
    buf = np.linspace(-1, 1, 33)
    w, out = buf[:32], buf[1:33]
    before = buf.copy()
    with pytest.raises(ValueError, match="overlaps"):
        PENALTY.grad(w, out=out)
    np.testing.assert_array_equal(buf, before)


def test_out_that_is_not_an_array_is_type_error():
    with pytest.raises(TypeError, match=r"\bout\b"):
        PENALTY.grad(np.ones(3), out=[0.0, 0.0, 0.0])
    with pytest.raises(TypeError, match=r"\bg\b"):
        PENALTY.add_grad(np.ones(3), None)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: L1(-0.1), "lam"),
        (lambda: L2(float("nan")), "lam"),
        (lambda: L2(float("inf")), "lam"),
        (lambda: Lk(0, 1.0), "k"),
        (lambda: Lk(-1.5, 1.0), "k"),
        (lambda: Lk(float("nan"), 1.0), "k"),
        (lambda: Lk(1.5, -1.0), "lam"),
        (lambda: ElasticNet(-1, 1), "l1"),
        (lambda: ElasticNet(1, float("nan")), "l2"),
        (lambda: L0(-2), "lam"),
        (lambda: L1(0.1, reduction="max"), "reduction"),
    ],
)
def test_bad_hyper_parameters_are_value_errors(make, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        make()


@pytest.mark.parametrize("value", ["0.1", None, [0.1], True])
def test_non_numeric_hyper_parameters_are_type_errors(value):
    with pytest.raises(TypeError, match=r"\blam\b"):
        L1(value)
