"""``lkreg bench``: every kernel against NumPy, PyTorch (when installed) and the memory floor.

The floors are this machine's streaming bandwidth for the access pattern of each kernel,
measured first with lkreg's own C++ loops on the same thread count: a copy ``y = x`` (read one
stream, write another), an in-place scale ``x *= c`` and a read-only sum. A kernel's fraction
of its floor is (bytes it must move / its time) / (floor bytes / floor time).

Before a kernel is timed its result is checked against the baseline's; a kernel whose answer
differs is not timed (``BenchmarkMismatch``).
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from . import _core
from ._config import get_num_threads, set_num_threads, show_config

DEFAULT_SIZES = (2**10, 2**16, 2**20, 2**24)
QUICK_SIZES = (2**16, 2**20)
FLOORS = ("copy", "scale", "sum")


class BenchmarkMismatch(AssertionError):
    """lkreg's result differs from the baseline's: the kernel is wrong, so it is not timed."""


@dataclass
class Runners:
    """What one case runs at one size: lkreg and its baselines, and how to compare results."""

    lkreg: Callable[[], Any]
    numpy: Callable[[], Any]
    torch: Optional[Callable[[], Any]] = None
    rtol: float = 0.0  # 0: results must be equal
    atol: float = 0.0
    # a separate pair of runs on fresh state for the agreement check (in-place kernels)
    check: Optional[Callable[[], tuple]] = None


@dataclass
class Case:
    name: str
    floor: str  # which floor the bytes are compared with
    bytes_per_element: float  # bytes that must move per element, as multiples of itemsize
    make: Callable[[int, Any], Runners]
    dtypes: tuple = (np.float32,)


@dataclass
class Timing:
    median: float
    p10: float
    p90: float
    repeats: int

    @property
    def spread(self) -> float:
        return self.p90 / self.p10 if self.p10 > 0 else float("inf")


@dataclass
class Result:
    kernel: str
    dtype: str
    n: int
    floor: str
    lkreg_s: float
    elements_per_s: float
    gbps: float
    floor_fraction: float
    vs_numpy: float
    vs_torch: Optional[float]
    spread: float
    thread_scaling: Optional[float] = None
    note: str = ""


def _torch():
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return None
    return torch


def measure(fn: Callable[[], Any], min_time: float, min_repeats: int = 5) -> Timing:
    """Median, 10th and 90th percentile of repeated calls after one warm-up call."""
    fn()
    times: List[float] = []
    start = time.perf_counter()
    while len(times) < min_repeats or (time.perf_counter() - start < min_time and len(times) < 10_000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    q = statistics.quantiles(times, n=10) if len(times) >= 2 else [times[0]] * 9
    return Timing(statistics.median(times), q[0], q[-1], len(times))


def _to_numpy(x: Any) -> Any:
    if hasattr(x, "detach"):
        return x.detach().numpy()
    if isinstance(x, tuple):
        return tuple(_to_numpy(v) for v in x)
    return x


def check_agreement(name: str, runners: Runners) -> None:
    """Raise BenchmarkMismatch unless lkreg's result equals the baseline's (to rtol/atol)."""
    if runners.check is not None:
        ours, theirs = runners.check()
    else:
        ours, theirs = runners.lkreg(), runners.numpy()
    ours, theirs = _to_numpy(ours), _to_numpy(theirs)
    pairs = zip(ours, theirs) if isinstance(ours, tuple) else [(ours, theirs)]
    for a, b in pairs:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape or not np.allclose(a, b, rtol=runners.rtol, atol=runners.atol, equal_nan=True):
            raise BenchmarkMismatch(f"{name}: lkreg's result differs from the baseline's")


# ---------------------------------------------------------------------------------------------
# Cases


def _weights(n: int, dtype: Any, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n).astype(dtype)


def _penalty_cases() -> List[Case]:
    from . import penalties as P  # noqa: PLC0415

    specs = {
        "L1": (P.L1(1e-3), lambda w: 1e-3 * np.sign(w), lambda w: 1e-3 * np.sum(np.abs(w))),
        "L2": (P.L2(1e-3), lambda w: 2e-3 * w, lambda w: 1e-3 * np.sum(w * w)),
        "Lk(0.5)": (P.Lk(0.5, 1e-3), lambda w: 5e-4 * np.abs(w) ** -0.5 * np.sign(w), lambda w: 1e-3 * np.sum(np.abs(w) ** 0.5)),
        "Lk(1.5)": (P.Lk(1.5, 1e-3), lambda w: 1.5e-3 * np.abs(w) ** 0.5 * np.sign(w), lambda w: 1e-3 * np.sum(np.abs(w) ** 1.5)),
        "Lk(3)": (P.Lk(3, 1e-3), lambda w: 3e-3 * np.abs(w) ** 2 * np.sign(w), lambda w: 1e-3 * np.sum(np.abs(w) ** 3)),
        "ElasticNet": (
            P.ElasticNet(1e-3, 2e-3),
            lambda w: 1e-3 * np.sign(w) + 4e-3 * w,
            lambda w: 1e-3 * np.sum(np.abs(w)) + 2e-3 * np.sum(w * w),
        ),
    }
    torch_grads = {
        "L1": lambda t, w: 1e-3 * t.sign(w),
        "L2": lambda t, w: 2e-3 * w,
        "Lk(0.5)": lambda t, w: 5e-4 * w.abs().pow(-0.5) * w.sign(),
        "Lk(1.5)": lambda t, w: 1.5e-3 * w.abs().pow(0.5) * w.sign(),
        "Lk(3)": lambda t, w: 3e-3 * w.abs().pow(2) * w.sign(),
        "ElasticNet": lambda t, w: 1e-3 * w.sign() + 4e-3 * w,
    }
    cases = []
    for name, (pen, numpy_grad, numpy_value) in specs.items():

        def make_grad(n, dtype, pen=pen, numpy_grad=numpy_grad, name=name):
            w = _weights(n, dtype)
            out = np.empty_like(w)
            torch = _torch()
            tw = torch.from_numpy(w) if torch else None
            return Runners(
                lkreg=lambda: pen.grad(w, out),
                numpy=lambda: numpy_grad(w),
                torch=(lambda: torch_grads[name](torch, tw)) if torch else None,
                rtol=1e-5,
                atol=1e-30,
            )

        def make_value(n, dtype, pen=pen, numpy_value=numpy_value):
            w = _weights(n, dtype)
            return Runners(lkreg=lambda: pen.value(w), numpy=lambda: numpy_value(w), rtol=1e-4)

        cases.append(Case(f"grad {name}", "copy", 2, make_grad, (np.float32, np.float64)))
        cases.append(Case(f"value {name}", "sum", 1, make_value))
    return cases


def _prox_cases() -> List[Case]:
    from . import penalties as P  # noqa: PLC0415
    from .prox import hard_threshold, soft_threshold, weight_decay  # noqa: PLC0415

    def numpy_soft(x, t):
        return np.sign(x) * np.maximum(np.abs(x) - t, 0)

    def make_soft(n, dtype):
        x = _weights(n, dtype)
        out = np.empty_like(x)
        torch = _torch()
        tx = torch.from_numpy(x) if torch else None
        return Runners(
            lkreg=lambda: soft_threshold(x, 0.5, out),
            numpy=lambda: numpy_soft(x, dtype(0.5)),
            torch=(lambda: torch.nn.functional.softshrink(tx, 0.5)) if torch else None,
        )

    def make_soft_inplace(n, dtype):
        x = _weights(n, dtype)
        torch = _torch()
        tx = torch.from_numpy(x.copy()) if torch else None
        # t = 0 keeps the data the same from one timed call to the next
        return Runners(
            lkreg=lambda: soft_threshold(x, 0.0, x),
            numpy=lambda: np.multiply(np.sign(x), np.maximum(np.abs(x) - 0, 0), out=x),
            torch=(lambda: tx.copy_(torch.nn.functional.softshrink(tx, 0.0))) if torch else None,
            check=lambda: (soft_threshold(x.copy(), 0.5), numpy_soft(x, dtype(0.5))),
        )

    def make_hard(n, dtype):
        x = _weights(n, dtype)
        out = np.empty_like(x)
        torch = _torch()
        tx = torch.from_numpy(x) if torch else None
        return Runners(
            lkreg=lambda: hard_threshold(x, 0.5, out),
            numpy=lambda: np.where(np.abs(x) > dtype(0.5), x, 0),
            torch=(lambda: torch.nn.functional.hardshrink(tx, 0.5)) if torch else None,
        )

    def make_decay(n, dtype):
        w = _weights(n, dtype)
        torch = _torch()
        tw = torch.from_numpy(w.copy()) if torch else None
        return Runners(
            lkreg=lambda: weight_decay(w, 0.0, w),
            numpy=lambda: np.multiply(w, dtype(1.0), out=w),
            torch=(lambda: tw.mul_(1.0)) if torch else None,
            check=lambda: (weight_decay(w, 0.1), w * dtype(0.9)),
        )

    def numpy_prox_half(v, tau):
        a = np.abs(v)
        with np.errstate(invalid="ignore", divide="ignore"):
            phi = np.arccos(np.clip(0.75 * tau * np.sqrt(3) / a**1.5, -1, 1))
            z = 4 * a / 3 * np.cos((np.pi - phi) / 3) ** 2
        return np.where(a > 1.5 * tau ** (2 / 3), np.sign(v) * z, 0)

    def numpy_prox_three_halves(v, tau):
        a = np.abs(v)
        s = 2 * a / (1.5 * tau + np.sqrt(2.25 * tau * tau + 4 * a))
        return np.sign(v) * s * s

    def make_lk_prox(k, reference):
        def make(n, dtype):
            x = _weights(n, dtype)
            out = np.empty_like(x)
            pen = P.Lk(k, 0.3)
            return Runners(lkreg=lambda: pen.prox(x, 1.0, out), numpy=lambda: reference(x, 0.3), rtol=1e-4, atol=1e-6)

        return make

    return [
        Case("soft_threshold", "copy", 2, make_soft, (np.float32, np.float64)),
        Case("soft_threshold in place", "scale", 2, make_soft_inplace),
        Case("hard_threshold", "copy", 2, make_hard),
        Case("weight_decay in place", "scale", 2, make_decay, (np.float32, np.float64)),
        Case("prox Lk(0.5)", "copy", 2, make_lk_prox(0.5, numpy_prox_half)),
        Case("prox Lk(1.5)", "copy", 2, make_lk_prox(1.5, numpy_prox_three_halves)),
    ]


def _dropout_cases() -> List[Case]:
    from ._dropout import dropout, dropout_mask  # noqa: PLC0415

    p = 0.5

    def make_forward(n, dtype):
        x = _weights(n, dtype)
        out = np.empty_like(x)
        rng = np.random.default_rng(1)
        torch = _torch()
        tx = torch.from_numpy(x) if torch else None

        def check():
            # the same mask through NumPy: the kernel's one pass equals x * mask / (1 - p)
            mask = dropout_mask(x.shape, p, seed=7)
            return dropout(x, p, seed=7), x * np.where(mask, dtype(1 / (1 - p)), dtype(0))

        return Runners(
            lkreg=lambda: dropout(x, p, seed=7, out=out),
            numpy=lambda: x * (rng.random(n) < 1 - p) / (1 - p),
            torch=(lambda: torch.nn.functional.dropout(tx, p, training=True)) if torch else None,
            check=check,
        )

    def make_packed_mask(n, dtype):
        rng = np.random.default_rng(1)

        def check():
            packed = dropout_mask(n, p, seed=7, packed=True)
            bools = dropout_mask(n, p, seed=7)
            return packed, np.packbits(bools, bitorder="little")

        return Runners(
            lkreg=lambda: dropout_mask(n, p, seed=7, packed=True),
            numpy=lambda: np.packbits(rng.random(n) < 1 - p, bitorder="little"),
            check=check,
        )

    return [
        Case("dropout", "copy", 2, make_forward, (np.float32, np.float64)),
        # writes 1/8 byte per element: its figure of merit is elements/s, not the floor
        Case("dropout_mask packed", "copy", 1 / 32, make_packed_mask),
    ]


# Optimizer steps: the hyper-parameters of the benchmarks, and the in-place NumPy steps a user
# would write (the fewest temporaries NumPy allows).
LR, BETAS, EPS, WD, MOMENTUM = 1e-3, (0.9, 0.999), 1e-8, 1e-2, 0.9


def numpy_adam_step(p, g, m, v, tmp, step, weight_decay=0.0, decoupled=False):
    """torch's Adam (coupled weight_decay) or AdamW (decoupled) step, in place."""
    dt = p.dtype.type
    bc1, bc2 = 1 - BETAS[0] ** step, 1 - BETAS[1] ** step
    if decoupled:
        p *= dt(1 - LR * weight_decay)
    elif weight_decay:
        g = g + dt(weight_decay) * p
    m *= dt(BETAS[0])
    np.multiply(g, dt(1 - BETAS[0]), out=tmp)
    m += tmp
    v *= dt(BETAS[1])
    np.multiply(g, g, out=tmp)
    tmp *= dt(1 - BETAS[1])
    v += tmp
    np.sqrt(v, out=tmp)
    tmp /= dt(math.sqrt(bc2))
    tmp += dt(EPS)
    np.divide(m, tmp, out=tmp)
    tmp *= dt(-LR / bc1)
    p += tmp


def numpy_sgd_momentum_step(p, g, buf, tmp):
    """torch's SGD with momentum (no dampening, buffer already started), in place."""
    dt = p.dtype.type
    buf *= dt(MOMENTUM)
    buf += g
    np.multiply(buf, dt(LR), out=tmp)
    p -= tmp


def _optim_cases() -> List[Case]:
    from . import optim  # noqa: PLC0415

    def torch_step(kind, p, g, **flags):
        torch = _torch()
        if torch is None:
            return None
        tp = torch.from_numpy(p)
        tp.grad = torch.from_numpy(g)
        if kind == "SGD":
            opt = torch.optim.SGD([tp], lr=LR, momentum=MOMENTUM, **flags)
        else:
            opt = getattr(torch.optim, kind)([tp], lr=LR, betas=BETAS, eps=EPS, weight_decay=WD, **flags)
        opt.step()  # the state is allocated outside the timing
        return opt.step

    def make_adam(kind):
        decoupled = kind == "AdamW"

        def make(n, dtype):
            p, g = _weights(n, dtype), _weights(n, dtype, seed=1)
            opt = getattr(optim, kind)([p], lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
            m, v, tmp = np.zeros_like(p), np.zeros_like(p), np.empty_like(p)
            pn = p.copy()

            def check():  # the first step from the same state
                p1, pn1 = p.copy(), p.copy()
                getattr(optim, kind)([p1], lr=LR, betas=BETAS, eps=EPS, weight_decay=WD).step([g])
                numpy_adam_step(pn1, g, np.zeros_like(p), np.zeros_like(p), np.empty_like(p), 1, WD, decoupled)
                return p1, pn1

            return Runners(
                lkreg=lambda: opt.step([g]),
                numpy=lambda: numpy_adam_step(pn, g, m, v, tmp, 10, WD, decoupled),
                torch=torch_step(kind, p.copy(), g, foreach=True),
                rtol=1e-5,
                atol=1e-7,
                check=check,
            )

        return make

    def make_sgd(n, dtype):
        p, g = _weights(n, dtype), _weights(n, dtype, seed=1)
        opt = optim.SGD([p], lr=LR, momentum=MOMENTUM)
        opt.step([g])
        buf, tmp, pn = g.copy(), np.empty_like(p), p.copy()

        def check():  # the second step (momentum buffer started) from the same state
            p1 = p.copy()
            o = optim.SGD([p1], lr=LR, momentum=MOMENTUM)
            o.step([g])
            pn1 = p1.copy()
            o.step([g])
            numpy_sgd_momentum_step(pn1, g, g.copy(), np.empty_like(p))
            return p1, pn1

        return Runners(
            lkreg=lambda: opt.step([g]),
            numpy=lambda: numpy_sgd_momentum_step(pn, g, buf, tmp),
            torch=torch_step("SGD", p.copy(), g, foreach=True),
            rtol=1e-6,
            atol=1e-7,
            check=check,
        )

    def make_fused(kind, make):
        """The same step against torch's fused=True (a one-pass CPU kernel) as the torch column."""

        def fused(n, dtype):
            runners = make(n, dtype)
            p, g = _weights(n, dtype), _weights(n, dtype, seed=1)
            try:
                runners.torch = torch_step(kind, p, g, fused=True)
            except RuntimeError:  # a torch without fused CPU kernels
                runners.torch = None
            return runners

        return fused

    return [
        # bytes: SGD-momentum reads p, g, buf and writes p, buf; Adam(W) reads p, g, m, v and
        # writes p, m, v
        Case("SGD-momentum step", "copy", 5, make_sgd),
        Case("SGD-momentum vs fused", "copy", 5, make_fused("SGD", make_sgd)),
        Case("Adam step", "copy", 7, make_adam("Adam")),
        Case("AdamW step", "copy", 7, make_adam("AdamW")),
        Case("AdamW vs fused", "copy", 7, make_fused("AdamW", make_adam("AdamW"))),
    ]


# ---------------------------------------------------------------------------------------------
# Param groups: one AdamW step over a whole list of arrays (how models call an optimizer)


def param_lists() -> Dict[str, List[tuple]]:
    """Shapes of three parameter lists: ResNet-50-like (its 49 convolution weights, each with a
    channel vector), 400 small arrays, and an MLP 784-512-256-10."""
    resnet: List[tuple] = [(64, 3, 7, 7), (64,)]
    inplanes = 64
    for width, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for _ in range(blocks):
            for shape in ((width, inplanes, 1, 1), (width, width, 3, 3), (4 * width, width, 1, 1)):
                resnet += [shape, (shape[0],)]
            inplanes = 4 * width
    small = [(64, 64), (64,)] * 200
    mlp = [(512, 784), (512,), (256, 512), (256,), (10, 256), (10,)]
    return {
        f"ResNet-50-like, {len(resnet)} arrays": resnet,
        f"{len(small)} small arrays (64x64 and 64)": small,
        f"MLP 784-512-256-10, {len(mlp)} arrays": mlp,
    }


def measure_param_lists(min_time: float = 0.2, log: Callable[[str], None] = lambda line: None,
                        quick: bool = False) -> List[Dict[str, Any]]:
    """AdamW (float32) over each list: lkreg's one call per group against torch's fused and
    foreach steps, timed round-robin in one run, and the memory floor: the 7 streams a step
    moves (read p, g, m, v; write p, m, v) over the copy bandwidth at the list's total size.
    ``quick`` leaves out the ResNet-like list (about 1 GB with torch's copies)."""
    from . import optim  # noqa: PLC0415

    torch = _torch()
    rows = []
    for name, shapes in param_lists().items():
        if quick and name.startswith("ResNet"):
            continue
        rng = np.random.default_rng(0)
        params = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        total = sum(p.size for p in params)
        opt = optim.AdamW(params, lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
        runners: Dict[str, Callable[[], Any]] = {"lkreg": lambda opt=opt, grads=grads: opt.step(grads)}
        if torch is not None:
            for impl in ("fused", "foreach"):
                tensors = [torch.from_numpy(p.copy()) for p in params]
                for t, g in zip(tensors, grads):
                    t.grad = torch.from_numpy(g)
                try:
                    topt = torch.optim.AdamW(tensors, lr=LR, betas=BETAS, eps=EPS,
                                             weight_decay=WD, **{impl: True})
                    topt.step()
                except RuntimeError:  # a torch without fused CPU kernels
                    continue
                runners[f"torch {impl}"] = topt.step
        runners["lkreg"]()
        x, y = np.ones(total, np.float32), np.empty(total, np.float32)
        runners["floor"] = lambda x=x, y=y: _core.stream_copy(x, y)
        times: Dict[str, List[float]] = {k: [] for k in runners}
        spent, rounds = 0.0, 0
        while spent < min_time * len(runners) or rounds < 5:  # round-robin: the same load
            for key, fn in runners.items():
                start = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - start
                times[key].append(elapsed)
                spent += elapsed
            rounds += 1
        median = {k: statistics.median(v) for k, v in times.items()}
        copy_gbps = 2 * total * 4 / median.pop("floor") / 1e9
        floor_s = 7 * total * 4 / (copy_gbps * 1e9)
        row = {
            "list": name, "arrays": len(params), "params": total, "lkreg_s": median["lkreg"],
            "torch_fused_s": median.get("torch fused"), "torch_foreach_s": median.get("torch foreach"),
            "floor_s": floor_s, "copy_gbps": copy_gbps,
        }
        rows.append(row)
        log(format_param_row(row))
    return rows


PARAM_HEADER = (f"{'AdamW float32 over a param list':<42}{'params':>8}{'lkreg':>10}{'fused':>10}"
                f"{'foreach':>10}{'x fused':>9}{'x foreach':>10}{'floor':>10}{'lkreg/floor':>12}")


def format_param_row(r: Dict[str, Any]) -> str:
    def t(s: Optional[float]) -> str:
        return "-" if s is None else f"{s * 1e3:.2f} ms"

    def x(s: Optional[float]) -> str:
        return "-" if s is None else f"{s / r['lkreg_s']:.2f}"

    return (f"{r['list']:<42}{r['params'] / 1e6:>7.2f}M{t(r['lkreg_s']):>10}{t(r['torch_fused_s']):>10}"
            f"{t(r['torch_foreach_s']):>10}{x(r['torch_fused_s']):>9}{x(r['torch_foreach_s']):>10}"
            f"{t(r['floor_s']):>10}{r['lkreg_s'] / r['floor_s']:>12.2f}")


def all_cases() -> List[Case]:
    """Every benchmarked kernel, family by family."""
    return _penalty_cases() + _prox_cases() + _dropout_cases() + _optim_cases()


# ---------------------------------------------------------------------------------------------
# Running


def measure_floors(n: int, dtype: Any, min_time: float) -> Dict[str, float]:
    """GB/s of the copy, in-place scale and sum loops at this size, dtype and thread count."""
    x = _weights(n, dtype)
    y = np.empty_like(x)
    nbytes = x.nbytes
    return {
        "copy": 2 * nbytes / measure(lambda: _core.stream_copy(x, y), min_time).median / 1e9,
        "scale": 2 * nbytes / measure(lambda: _core.stream_scale(x, 1.0), min_time).median / 1e9,
        "sum": nbytes / measure(lambda: _core.stream_sum(x), min_time).median / 1e9,
    }


def machine_info() -> Dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    torch = _torch()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": getattr(torch, "__version__", None),
        "lkreg": show_config(),
    }


def run(
    sizes: Sequence[int] = DEFAULT_SIZES,
    threads: Optional[int] = None,
    only: Optional[str] = None,
    quick: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> Dict[str, Any]:
    """Run the benchmarks; returns the report (what ``--json`` writes)."""
    before = get_num_threads()
    if threads is not None:
        set_num_threads(threads)
    nthreads = get_num_threads()
    min_time = 0.02 if quick else 0.2
    torch = _torch()
    if torch is not None:
        torch.set_num_threads(nthreads)
    cases = [c for c in all_cases() if only is None or only.lower() in c.name.lower()]
    floors: Dict[str, Dict[str, float]] = {}
    results: List[Result] = []
    try:
        for dtype in (np.float32, np.float64):
            dname = np.dtype(dtype).name
            for n in sizes:
                if not any(dtype in c.dtypes for c in cases):
                    continue
                floors[f"{dname} n={n}"] = fl = measure_floors(n, dtype, min_time)
                log(f"floor {dname} n={n}: " + ", ".join(f"{k} {v:.1f} GB/s" for k, v in fl.items()))
                for case in cases:
                    if dtype not in case.dtypes:
                        continue
                    runners = case.make(n, dtype)
                    check_agreement(case.name, runners)
                    ours = measure(runners.lkreg, min_time)
                    numpy_t = measure(runners.numpy, min_time)
                    torch_t = measure(runners.torch, min_time) if runners.torch else None
                    gbps = case.bytes_per_element * n * np.dtype(dtype).itemsize / ours.median / 1e9
                    scaling = None
                    if n == max(sizes) and nthreads > 1:
                        set_num_threads(1)
                        one = measure(runners.lkreg, min_time)
                        set_num_threads(nthreads)
                        scaling = one.median / ours.median
                    result = Result(
                        kernel=case.name,
                        dtype=dname,
                        n=n,
                        floor=case.floor,
                        lkreg_s=ours.median,
                        elements_per_s=n / ours.median,
                        gbps=gbps,
                        floor_fraction=gbps / fl[case.floor],
                        vs_numpy=numpy_t.median / ours.median,
                        vs_torch=torch_t.median / ours.median if torch_t else None,
                        spread=ours.spread,
                        thread_scaling=scaling,
                        note="wide spread" if ours.spread > 1.5 else "",
                    )
                    results.append(result)
                    log(format_row(result))
        groups: List[Dict[str, Any]] = []
        if only is None or only.lower() in "param lists adamw":
            if torch is not None:
                torch.set_num_threads(nthreads)
            log(PARAM_HEADER)
            groups = measure_param_lists(min_time, log, quick=quick)
    finally:
        set_num_threads(before)
    return {
        "machine": machine_info(),
        "threads": nthreads,
        "sizes": list(sizes),
        "floors": floors,
        "results": [asdict(r) for r in results],
        "param_lists": groups,
    }


HEADER = f"{'kernel':<26}{'dtype':>8}{'n':>10}{'lkreg':>11}{'Gel/s':>7}{'GB/s':>8}{'floor':>7}{'x numpy':>9}{'x torch':>9}{'N/1 thr':>9}  note"


def format_row(r: Result) -> str:
    def t(s: float) -> str:
        return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"

    torch = f"{r.vs_torch:.1f}" if r.vs_torch is not None else "-"
    scaling = f"{r.thread_scaling:.2f}" if r.thread_scaling is not None else ""
    return (
        f"{r.kernel:<26}{r.dtype:>8}{r.n:>10}{t(r.lkreg_s):>11}{r.elements_per_s / 1e9:>7.2f}{r.gbps:>8.1f}{r.floor_fraction:>6.0%} "
        f"{r.vs_numpy:>8.1f}{torch:>9}{scaling:>9}  {r.note}"
    )


MAX_SIZE = 2**34  # 64 GB of float32 per array: beyond it a typo, not a benchmark


class BadArgument(ValueError):
    """A command-line argument ``lkreg bench`` cannot use; the message names it."""


def parse_size(text: str) -> int:
    """'65536', '2**16' or '2^16': a positive element count, else ValueError."""
    t = text.strip().replace("^", "**")
    try:
        if "**" in t:
            base, exp = t.split("**", 1)
            value = int(base) ** int(exp) if 0 <= int(exp) <= 64 else -1
        else:
            value = int(t)
    except ValueError:
        raise ValueError(f"expected an element count such as 65536 or 2**16, got {text!r}") from None
    if not 1 <= value <= MAX_SIZE:
        raise ValueError(f"an element count must be between 1 and 2**34, got {text!r}")
    return value


def main(args: Any) -> int:
    """``lkreg bench``; raises BadArgument before any timing when an argument cannot be used."""
    sizes = list(args.sizes) if args.sizes else list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if args.only is not None and not any(args.only.lower() in c.name.lower() for c in all_cases()):
        names = ", ".join(sorted({c.name.split()[0] for c in all_cases()}))
        raise BadArgument(f"argument --only: no kernel name contains {args.only!r} (names start with: {names})")
    print(f"lkreg bench: {machine_info()['cpu']}, {os.cpu_count()} cores", flush=True)
    print(HEADER, flush=True)
    report = run(sizes, threads=args.threads, only=args.only, quick=args.quick, log=lambda s: print(s, flush=True))
    if args.json:  # the command line checked it is writable
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
