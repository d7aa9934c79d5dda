"""``lkreg bench --threading``: does parallelism ever hurt? Three scenarios, one ratio each.

Each point is the time of a call with lkreg's default thread count over its time with
``set_num_threads(1)``, measured side by side: the two settings alternate round by round in
the same loop, so drift on a noisy machine hits both. A ratio at or below 1 means the threads
cost nothing; the target is at most 1.1 where the machine is shared (scenarios 2 and 3) and
a speed-up for large arrays where it is idle (scenario 1).

1. ``idle``: kernels alone on arrays of 2**10 .. 2**24 elements.
2. ``numpy-loop``: lkreg between NumPy BLAS calls. A small MLP training step (two matmuls
   forward, three backward, ReLU, ``lkreg.dropout`` forward and backward, ``AdamW.step`` on
   both weights), and kernels on 2**12 .. 2**18 elements each after a 128x128 matmul.
3. ``busy``: the idle kernels while one busy process per core but one spins beside them.

Written against lkreg's public API only, so the same file measures any installed lkreg
(``python -m lkreg._bench_threads``, or this file run as a script against an older build).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Sequence

import numpy as np

import lkreg

IDLE_SIZES = tuple(2**k for k in range(10, 25, 2))
QUICK_IDLE_SIZES = (2**10, 2**16, 2**20, 2**22)
LOOP_SIZES = tuple(2**k for k in range(12, 19, 2))


def _kernels(n: int) -> Dict[str, Callable[[], Any]]:
    """The calls each scenario times: a streaming kernel, a reduction, a pow kernel, dropout."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32)
    y = np.empty_like(x)
    l1, lk = lkreg.L1(0.1), lkreg.Lk(1.5, 0.1)
    return {
        "soft_threshold": lambda: lkreg.soft_threshold(x, 0.5, out=y),
        "L1.grad": lambda: l1.grad(x, out=y),
        "Lk(1.5).value": lambda: lk.value(x),
        "dropout": lambda: lkreg.dropout(x, 0.5, seed=1, out=y),
    }


def _per_call(fn: Callable[[], Any], calls: int) -> float:
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def side_by_side(fn: Callable[[], Any], threads: int, budget: float) -> Dict[str, float]:
    """Median time per call with `threads` and with 1 thread, alternating in one loop."""
    lkreg.set_num_threads(1)
    fn()
    one = _per_call(fn, 1)
    calls = max(1, int(2e-3 / max(one, 1e-7)))  # batches of about 2 ms
    times: Dict[int, List[float]] = {threads: [], 1: []}
    start = time.perf_counter()
    while time.perf_counter() - start < budget or len(times[1]) < 5:
        for t in (threads, 1):
            lkreg.set_num_threads(t)
            times[t].append(_per_call(fn, calls))
    lkreg.set_num_threads(threads)
    default, single = statistics.median(times[threads]), statistics.median(times[1])
    return {"default_s": default, "one_thread_s": single, "ratio": default / single}


def _mlp_step() -> Callable[[], Any]:
    """The training step of the issue that found the problem: 256x784 @ 784x256 and back."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 784)).astype(np.float32)
    W1 = (rng.standard_normal((784, 256)) * 0.05).astype(np.float32)
    W2 = (rng.standard_normal((256, 10)) * 0.05).astype(np.float32)
    G = rng.standard_normal((256, 10)).astype(np.float32)
    opt = lkreg.optim.AdamW([W1, W2], lr=1e-4)
    step = [0]

    def run() -> None:
        step[0] += 1
        H = X @ W1
        np.maximum(H, 0, out=H)
        D = lkreg.dropout(H, 0.5, seed=3, offset=step[0] * H.size)
        dW2 = D.T @ G
        dD = G @ W2.T
        dH = lkreg.dropout(dD, 0.5, seed=3, offset=step[0] * H.size)
        dH *= H > 0
        dW1 = X.T @ dH
        opt.step([dW1, dW2])

    return run


def _after_matmul(call: Callable[[], Any]) -> Callable[[], Any]:
    rng = np.random.default_rng(1)
    A = rng.standard_normal((128, 128)).astype(np.float32)
    B = rng.standard_normal((128, 128)).astype(np.float32)

    def run() -> None:
        A @ B
        call()

    return run


class BusyProcesses:
    """`count` processes that spin until the block ends."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.procs: List[subprocess.Popen] = []

    def __enter__(self) -> "BusyProcesses":
        for _ in range(self.count):
            self.procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
        time.sleep(0.3)  # let them reach their loop
        return self

    def __exit__(self, *exc: Any) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


SCENARIOS = ("idle", "numpy-loop", "busy")


def run(quick: bool = False, threads: int = 0, budget: float = 0.4,
        scenarios: Sequence[str] = SCENARIOS) -> List[Dict[str, Any]]:
    """The scenarios asked for; one row per (scenario, call, size)."""
    threads = threads or lkreg.get_num_threads()
    before = lkreg.get_num_threads()
    rows: List[Dict[str, Any]] = []
    sizes = QUICK_IDLE_SIZES if quick else IDLE_SIZES
    loop_sizes = LOOP_SIZES[::2] if quick else LOOP_SIZES

    def add(scenario: str, name: str, n: int, fn: Callable[[], Any]) -> None:
        row = {"scenario": scenario, "call": name, "n": n, "threads": threads}
        row.update(side_by_side(fn, threads, budget))
        rows.append(row)
        print(format_row(row), flush=True)

    try:
        if "idle" in scenarios:
            for n in sizes:
                for name, fn in _kernels(n).items():
                    add("idle", name, n, fn)
        if "numpy-loop" in scenarios:
            add("numpy-loop", "MLP step (256x784)", 256 * 256, _mlp_step())
            for n in loop_sizes:
                for name, fn in _kernels(n).items():
                    add("numpy-loop", f"matmul + {name}", n, _after_matmul(fn))
        if "busy" in scenarios:
            cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            with BusyProcesses(max(1, cpus - 1)):
                for n in sizes:
                    for name, fn in _kernels(n).items():
                        add("busy", name, n, fn)
    finally:
        lkreg.set_num_threads(before)
    return rows


def format_row(row: Dict[str, Any]) -> str:
    return (f"{row['scenario']:<11} {row['call']:<26} n={row['n']:<9} "
            f"{row['threads']}T {row['default_s'] * 1e6:10.1f} us  1T {row['one_thread_s'] * 1e6:10.1f} us"
            f"  ratio {row['ratio']:5.2f}")


def summarize(rows: Sequence[Dict[str, Any]]) -> Dict[str, float]:
    """Worst ratio per scenario (small arrays only for idle: large ones should be below 1)."""
    out: Dict[str, float] = {}
    for scenario in ("idle", "numpy-loop", "busy"):
        ratios = [r["ratio"] for r in rows if r["scenario"] == scenario]
        if ratios:
            out[f"{scenario} worst"] = max(ratios)
    big = [r["ratio"] for r in rows if r["scenario"] == "idle" and r["n"] >= 2**22]
    if big:
        out["idle large best"] = min(big)
    return out


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="python -m lkreg._bench_threads")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--budget", type=float, default=0.4, help="seconds per point")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    args = parser.parse_args(list(argv))
    rows = run(quick=args.quick, threads=args.threads, budget=args.budget, scenarios=args.scenarios)
    for key, value in summarize(rows).items():
        print(f"{key}: {value:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"lkreg": lkreg.__version__, "config": lkreg.show_config(), "rows": rows}, f,
                      indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
