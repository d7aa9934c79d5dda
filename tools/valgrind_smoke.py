#!/usr/bin/env python3
"""Call every public lkreg kernel family once or a few times on small arrays, for valgrind.

tools/valgrind runs this under memcheck. Arrays are fresh allocations of exactly n elements
(so a read or write past either end lands in memcheck's red zone) and views starting one
element into a fresh allocation (unaligned start, exact end), of both dtypes and odd sizes,
up to one size above the OpenMP and reduction-block thresholds. Every result is written to
/dev/null, because memcheck checks the bytes a write() sends: an uninitialised byte in any
output is reported even where nothing branches on it. A few results are also compared with
NumPy, so that a kernel that runs but computes garbage under valgrind's CPU is caught too.

    python tools/valgrind_smoke.py [--expect-simd LEVEL]

Exits 0 and prints a one-line summary when every call returned.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import lkreg
from lkreg import optim

SIZES = [0, 1, 7, 17, 33, 1001, 2**15 + 37]  # the last one runs the OpenMP and blocked paths
OPTIM_SHAPES = [(1,), (17,), (33, 5), (2**15 + 37,)]
DTYPES = [np.float32, np.float64]

_devnull = os.open(os.devnull, os.O_WRONLY)
_calls = 0


def sink(*values):
    """Hand every byte of the results to write(), where memcheck checks they are defined."""
    global _calls
    _calls += 1
    for value in values:
        a = np.ascontiguousarray(np.asarray(value))
        if a.nbytes:
            os.write(_devnull, a.tobytes())


def close(actual, expected, dtype):
    rtol = 1e-5 if np.dtype(dtype) == np.float32 else 1e-12
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol)


def inputs(n, dtype, seed):
    """(fresh array of exactly n elements, C-contiguous view starting one element in)."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(n) * np.exp(rng.uniform(-2, 2, n))
    values[rng.random(n) < 0.1] = 0.0
    fresh = np.empty(n, dtype)
    fresh[...] = values
    backing = np.empty(n + 1, dtype)
    shifted = backing[1:]
    shifted[...] = values[::-1]
    assert shifted.flags.c_contiguous
    return fresh, shifted


def penalties_1d():
    return [
        lkreg.L1(0.1),
        lkreg.L2(0.1),
        lkreg.Lk(0.5, 0.1),
        lkreg.Lk(2 / 3, 0.1),
        lkreg.Lk(0.7, 0.1),  # Newton prox, k < 1
        lkreg.Lk(1.5, 0.1),
        lkreg.Lk(3, 0.1),
        lkreg.Lk(2.5, 0.1),  # pow and Newton prox, k > 1
        lkreg.ElasticNet(0.1, 0.05),
        lkreg.L0(0.1),
        lkreg.L1(0.1, reduction="mean"),
    ]


def exercise_penalty(pen, x):
    sink(pen.value(x))
    sink(pen.grad(x))
    sink(pen.grad(x, out=np.empty_like(x)))
    v, g = pen.value_and_grad(x)
    sink(v, g)
    out = np.empty_like(x)
    v, g = pen.value_and_grad(x, out=out)
    assert g is out
    sink(v, g)
    g = np.ones_like(x)
    sink(pen.add_grad(x, g))
    sink(pen.prox(x, 0.3))
    sink(pen.prox(x, 0.3, out=np.empty_like(x)))
    y = x.copy()
    sink(pen.prox(y, 0.3, out=y))
    sink(pen.is_smooth, repr(pen).encode())


def check_penalty_values(x, dtype):
    a = x.astype(np.float64)
    close(lkreg.L1(0.1).value(x), 0.1 * np.abs(a).sum(), dtype)
    close(lkreg.L2(0.1).grad(x), (0.2 * a).astype(dtype), dtype)
    close(lkreg.Lk(1.5, 0.1).value(x), 0.1 * (np.abs(a) ** 1.5).sum(), dtype)
    close(lkreg.L1(0.1).prox(x, 0.5), np.sign(a) * np.maximum(np.abs(a) - 0.05, 0), dtype)


def run_penalties():
    for dtype in DTYPES:
        for n in SIZES:
            for x in inputs(n, dtype, seed=n):
                check_penalty_values(x, dtype)
                for pen in penalties_1d():
                    exercise_penalty(pen, x)
            # GroupL2 on rows, on columns, and with group ids
            w = inputs(3 * n, dtype, seed=n + 1)[0].reshape(n, 3)
            ids = np.arange(w.size) % 5
            for pen in (lkreg.GroupL2(0.1, axis=1), lkreg.GroupL2(0.1, axis=0),
                        lkreg.GroupL2(0.1, groups=ids)):
                exercise_penalty(pen, w)
            close(lkreg.GroupL2(0.1, axis=1).value(w),
                  0.1 * np.linalg.norm(w.astype(np.float64), axis=1).sum(), dtype)


def run_elementwise():
    for dtype in DTYPES:
        for n in SIZES:
            for x in inputs(n, dtype, seed=2 * n):
                t = np.abs(inputs(n, dtype, seed=3 * n)[0]) * 0.5
                for fn in (lkreg.soft_threshold, lkreg.hard_threshold):
                    sink(fn(x, 0.2))
                    sink(fn(x, t))
                    sink(fn(x, 0.2, out=np.empty_like(x)))
                    sink(fn(x, t, out=np.empty_like(x)))
                    y = x.copy()
                    sink(fn(y, t, out=y))
                    y = x.copy()
                    sink(fn(y, 0.2, out=y))
                a = x.astype(np.float64)
                close(lkreg.soft_threshold(x, t), np.sign(a) * np.maximum(np.abs(a) - t, 0), dtype)
                close(lkreg.hard_threshold(x, 0.2), np.where(np.abs(a) > 0.2, a, 0), dtype)
                sink(lkreg.weight_decay(x, 0.01))
                sink(lkreg.weight_decay(x, 0.01, out=np.empty_like(x)))
                y = x.copy()
                sink(lkreg.weight_decay(y, 0.01, out=y))
                close(y, a * (1 - 0.01), dtype)
            # special values propagate without a crash
            s = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0] * (n % 7 + 1), dtype)
            for fn in (lkreg.soft_threshold, lkreg.hard_threshold):
                sink(fn(s, 0.5))
            sink(lkreg.Lk(0.5, 0.1).prox(s, 0.3), lkreg.Lk(2.5, 0.1).grad(s))


def run_dropout():
    kw = dict(seed=2**40 + 3, stream=5, offset=2**33 + 7)  # offset not a multiple of 4 or 8
    for dtype in DTYPES:
        for n in SIZES:
            for x in inputs(n, dtype, seed=4 * n):
                for p in (0.0, 0.3):
                    y, mask = lkreg.dropout(x, p, return_mask=True, **kw)
                    sink(y, mask)
                    sink(lkreg.dropout(x, p, out=np.empty_like(x), **kw))
                    z = x.copy()
                    sink(lkreg.dropout(z, p, out=z, **kw))
                    m = lkreg.dropout_mask(n, p, **kw)
                    packed = lkreg.dropout_mask(n, p, packed=True, **kw)
                    sink(m, packed)
                    assert np.array_equal(m, mask)
                    assert np.array_equal(packed, np.packbits(m, bitorder="little"))
                    sink(lkreg.dropout_backward(x, mask, p))
                    sink(lkreg.dropout_backward(x, packed, p))
                    sink(lkreg.dropout_backward(x, packed, p, out=np.empty_like(x)))
                    z = x.copy()
                    sink(lkreg.dropout_backward(z, mask, p, out=z))
                    sink(lkreg.alpha_dropout(x, p, **kw))
                    sink(lkreg.alpha_dropout(x, p, out=np.empty_like(x), **kw))
                    sink(lkreg.drop_connect(x, p, **kw))
                    sink(lkreg.drop_connect(x, p, out=np.empty_like(x), **kw))
                    close(y, np.where(mask, x.astype(np.float64) / (1 - p), 0), dtype)
            sink(lkreg.dropout_mask((n, 3), 0.5, seed=1, packed=True))
            layer = lkreg.Dropout(0.25, seed=7)
            h = inputs(n, dtype, seed=5 * n)[0].reshape(-1, 1)
            for _ in range(2):
                sink(layer.forward(h))
                sink(layer.backward(np.ones_like(h)))
            layer.eval()
            sink(layer.forward(h))
            layer.train()
            sink(layer.forward(h))
    rng = np.random.default_rng(0)
    for m in (0, 1, 3, 17, 257):
        counters = rng.integers(0, 2**32, size=(m, 4), dtype=np.uint32)
        key = rng.integers(0, 2**32, size=2, dtype=np.uint32)
        sink(lkreg.philox4x32_10(counters, key))
    first = lkreg.philox4x32_10(np.zeros(4, np.uint32), np.zeros(2, np.uint32))
    assert [hex(v) for v in first] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c", "0x9b00dbd8"]


OPTIMIZERS = [
    (optim.SGD, dict(lr=0.1)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.Adam, dict(lr=1e-2)),
    (optim.Adam, dict(lr=1e-2, weight_decay=0.01, amsgrad=True)),
    (optim.Adam, dict(lr=1e-2, weight_decay=0.01, decoupled_weight_decay=True)),
    (optim.AdamW, dict(lr=1e-2)),
    (optim.AdamW, dict(lr=1e-2, amsgrad=True)),
    (optim.RMSprop, dict(lr=1e-2)),
    (optim.RMSprop, dict(lr=1e-2, weight_decay=0.01, momentum=0.9, centered=True)),
    (optim.Adagrad, dict(lr=0.1)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
    (optim.FTRL, dict(alpha=0.1)),
    (optim.FTRL, dict(alpha=0.1, beta=0.5, l1=0.01, l2=0.01)),
]
OPTIM_PENALTIES = [
    None,
    lkreg.L2(1e-3),  # smooth: gradient fused into the pass
    lkreg.Lk(1.5, 1e-3),
    lkreg.L1(1e-3),  # soft-threshold fused into the pass
    lkreg.ElasticNet(1e-3, 1e-3),
    lkreg.L0(1e-4),  # hard-threshold fused
    lkreg.Lk(0.5, 1e-3),  # prox after the update
    lkreg.GroupL2(1e-3, axis=-1),
]


def run_optimizers():
    for dtype in DTYPES:
        for cls, options in OPTIMIZERS:
            for penalty in OPTIM_PENALTIES:
                params = [inputs(int(np.prod(s)), dtype, seed=i)[0].reshape(s)
                          for i, s in enumerate(OPTIM_SHAPES)]
                try:
                    opt = cls(params, penalty=penalty, **options)
                except ValueError:
                    if cls is optim.FTRL:  # takes smooth penalties, L1 and ElasticNet only
                        continue
                    raise
                for step in range(3):
                    grads = [inputs(p.size, dtype, seed=10 * step + i)[1].reshape(p.shape)
                             for i, p in enumerate(params)]
                    opt.step(grads)
                    sink(*params)
                state = opt.state_dict()
                sink(*(v for s in state["state"].values() for v in s.values()
                       if isinstance(v, np.ndarray)))
                opt.load_state_dict(state)
                opt.step([None] + [np.ones_like(p) for p in params[1:]])
                sink(*params)
                for p in params:
                    assert np.isfinite(p).all(), (cls.__name__, options, penalty)
    # param groups with their own settings
    w, b = np.zeros((10, 5), np.float32), np.zeros(10, np.float32)
    opt = optim.AdamW([{"params": [w], "penalty": lkreg.L1(1e-4)},
                       {"params": [b], "weight_decay": 0.0}], lr=1e-3)
    opt.step([np.ones_like(w), np.ones_like(b)])
    sink(w, b)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expect-simd", choices=["baseline", "avx2", "avx512"],
                        help="fail unless lkreg runs at this SIMD level")
    args = parser.parse_args(argv)
    config = lkreg.show_config()
    print("lkreg", config, flush=True)
    if args.expect_simd and config["simd"] != args.expect_simd:
        print(f"expected SIMD level {args.expect_simd}, lkreg runs {config['simd']}", file=sys.stderr)
        return 2
    run_penalties()
    run_elementwise()
    run_dropout()
    run_optimizers()
    print(f"valgrind_smoke: {_calls} checked calls at SIMD level {config['simd']}, "
          f"{config['threads']} threads: ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
