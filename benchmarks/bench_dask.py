"""lkreg on Dask against dask-ml, side by side in one run (not part of the test suite).

    python benchmarks/bench_dask.py [--rows 4000000] [--chunk 200000] [--streamed-only]
                                    [--json FILE]

A tall float32 dask array X (rows x 100, chunks of ``--chunk`` rows) and y = X beta + noise,
generated on the workers of a LocalCluster with 2 worker processes of 1 thread each:

1. lkreg Lasso at alpha = 0.01 * alpha_max on X streamed from its generating graph (never held
   in memory): time, and the peak RSS of every process (the workers; this one, which holds
   the client, the scheduler and the nannies), also after the setup pass that finds alpha
   (lkreg's ``sufficient_statistics``), so a peak can be told apart from the fit's.
   ``--streamed-only`` stops here.
2. The same fit on X persisted in the workers' memory, and dask-ml's
   ``LinearRegression(penalty="l1")`` on the same persisted X (its objective is
   ``||y - X w - b||^2 + ||(w, b)||_1 / C``, so C = 1 / (2 n alpha); it also penalizes its
   intercept, near 0 here): times, and each one's objective
   ``1/(2n) ||y - X w - b||^2 + alpha ||w||_1`` from one float64 dask pass.
3. Dropout and ``L1.prox`` on the persisted X (one tiny result per block), against the
   in-memory kernels on the whole array in this process (lkreg's default threads).
4. An in-memory lkreg Lasso fit of the same data: the objective the dask fit must equal.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def settle(client, keep):
    """Wait until the scheduler holds no more than ``keep`` keys (released results gone)."""
    for _ in range(600):
        if client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) <= keep:
            return
        time.sleep(0.05)


def make_data(da, rows, cols, chunk, seed=0):
    # float32 straight from the generator: no float64 temporary per block
    rng = da.random.default_rng(seed)
    beta = np.random.default_rng(seed).standard_normal(cols).astype(np.float32)
    beta[::3] = 0.0
    X = rng.standard_normal((rows, cols), chunks=(chunk, cols), dtype=np.float32)
    y = X @ beta + rng.standard_normal(rows, chunks=chunk, dtype=np.float32)
    return X, y


def objective(da, X, y, coef, intercept, alpha):
    """1/(2n) ||y - X w - b||^2 + alpha ||w||_1 in float64, one dask pass."""
    w = np.asarray(coef, dtype=np.float64)
    r = y.astype(np.float64) - X.astype(np.float64) @ w - float(intercept)
    return float((r * r).sum().compute()) / (2 * X.shape[0]) + alpha * float(np.abs(w).sum())


def throughput(fn, X, repeat=2):
    """Seconds of the best of ``repeat`` runs of fn on every block of X (tiny results)."""
    import dask

    best = np.inf
    for _ in range(repeat):
        lazy = fn(X).map_blocks(lambda b: np.asarray(b[:1, :1]), chunks=(1, 1))
        t0 = time.perf_counter()
        dask.compute(lazy.sum())
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=4_000_000)
    ap.add_argument("--cols", type=int, default=100)
    ap.add_argument("--chunk", type=int, default=200_000)
    ap.add_argument("--dask-ml-max-iter", type=int, default=100)
    ap.add_argument("--dask-ml-solvers", default="proximal_grad",
                    help="comma-separated dask-ml solvers (its default is admm: slow and far "
                         "from the optimum here); empty to skip dask-ml")
    ap.add_argument("--worker-saturation", type=float, default=None,
                    help="dask's distributed.scheduler.worker-saturation (its default 1.1 keeps "
                         "2 blocks in flight per 1-thread worker; 1.0 keeps 1: less memory)")
    ap.add_argument("--streamed-only", action="store_true",
                    help="stop after the streamed fit and its peak memory (part 1)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import dask
    import dask.array as da
    import distributed
    from dask.core import flatten

    import lkreg
    from lkreg.dask import sufficient_statistics
    from lkreg.linear_model import Lasso

    n, p = args.rows, args.cols
    gb = n * p * 4 / 1e9
    out = {"rows": n, "cols": p, "chunk": args.chunk, "array_GB": gb,
           "load_before": os.getloadavg(), "cpus": os.cpu_count()}
    print(f"X: {n} x {p} float32 ({gb:.2f} GB) in chunks of {args.chunk} rows; load "
          f"{out['load_before'][0]:.2f} on {os.cpu_count()} CPUs", flush=True)

    if args.worker_saturation is not None:
        dask.config.set({"distributed.scheduler.worker-saturation": args.worker_saturation})
    out["worker_saturation"] = dask.config.get("distributed.scheduler.worker-saturation")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  memory_limit="8GiB") as cluster, \
            distributed.Client(cluster) as client:
        out["rss_workers_MB_idle"] = sorted(client.run(peak_rss_mb).values())
        X, y = make_data(da, n, p, args.chunk)
        # alpha_max = max |X_c' y_c| / n (setup, not timed) from lkreg's own pass of sufficient
        # statistics: dask's float32 X.T @ y graph here took a worker to 433 MB, above the fit's
        # own peak (the results are released before the fit, which recomputes them)
        m = sufficient_statistics(X, y)
        alpha = 0.01 * float(np.max(np.abs(m.xty[0] - m.y_sum[0] * m.x_sum / n)) / n)
        out["alpha"] = alpha
        settle(client, 0)
        out["peak_rss_workers_MB_after_setup"] = sorted(client.run(peak_rss_mb).values())

        # 1. streamed: the array exists only block by block
        t0 = time.perf_counter()
        streamed = Lasso(alpha=alpha, tol=1e-8).fit(X, y)
        out["lkreg_streamed_s"] = time.perf_counter() - t0
        out["peak_rss_workers_MB"] = sorted(client.run(peak_rss_mb).values())
        out["peak_rss_client_MB_after_streamed_fit"] = peak_rss_mb()
        print(f"lkreg Lasso, X streamed: {out['lkreg_streamed_s']:.2f} s; peak RSS workers "
              f"{out['peak_rss_workers_MB']} MB (idle after start-up: "
              f"{out['rss_workers_MB_idle']} MB); this process (client, scheduler, nannies) "
              f"{out['peak_rss_client_MB_after_streamed_fit']:.0f} MB; workers' peak after the "
              f"setup pass alone {out['peak_rss_workers_MB_after_setup']} MB", flush=True)
        if args.streamed_only:
            return save(out, args.json)

        # 2. persisted in the workers' memory: lkreg and dask-ml on the same blocks
        X, y = client.persist([X, y])
        distributed.wait([X, y])
        persisted = len(list(flatten([X.__dask_keys__(), y.__dask_keys__()])))
        settle(client, persisted)
        t0 = time.perf_counter()
        ours = Lasso(alpha=alpha, tol=1e-8).fit(X, y)
        out["lkreg_persisted_s"] = time.perf_counter() - t0
        out["lkreg_objective"] = objective(da, X, y, ours.coef_, ours.intercept_, alpha)
        np.testing.assert_array_equal(ours.coef_, streamed.coef_)
        print(f"lkreg Lasso, X persisted: {out['lkreg_persisted_s']:.2f} s, objective "
              f"{out['lkreg_objective']:.10g}", flush=True)
        for solver in filter(None, args.dask_ml_solvers.split(",")):
            from dask_ml.linear_model import LinearRegression

            settle(client, persisted)
            peer = LinearRegression(penalty="l1", C=1.0 / (2 * n * alpha), solver=solver,
                                    max_iter=args.dask_ml_max_iter)
            t0 = time.perf_counter()
            peer.fit(X, y)
            res = {"s": time.perf_counter() - t0,
                   "objective": objective(da, X, y, peer.coef_, peer.intercept_, alpha),
                   "nan_coefs": int(np.isnan(peer.coef_).sum())}
            out[f"dask_ml_{solver}"] = res
            print(f"dask-ml LinearRegression(penalty='l1', solver={solver!r}, max_iter="
                  f"{args.dask_ml_max_iter}): {res['s']:.2f} s, objective "
                  f"{res['objective']:.10g} (NaN coefs: {res['nan_coefs']}); lkreg "
                  f"{res['s'] / out['lkreg_persisted_s']:.1f}x faster, objective lkreg - "
                  f"dask-ml = {out['lkreg_objective'] - res['objective']:.3e}", flush=True)

        # 3. kernels on the persisted blocks
        settle(client, persisted)
        out["dropout_dask_s"] = throughput(lambda a: lkreg.dropout(a, 0.5, seed=1), X)
        out["l1_prox_dask_s"] = throughput(lambda a: lkreg.L1(0.1).prox(a, 1.0), X)
        Xm = X.compute()
        ym = y.compute()
    # in memory, this process, lkreg's default thread count
    best_d = best_p = np.inf
    for _ in range(2):
        t0 = time.perf_counter()
        lkreg.dropout(Xm, 0.5, seed=1)
        best_d = min(best_d, time.perf_counter() - t0)
        t0 = time.perf_counter()
        lkreg.L1(0.1).prox(Xm, 1.0)
        best_p = min(best_p, time.perf_counter() - t0)
    out["dropout_memory_s"], out["l1_prox_memory_s"] = best_d, best_p
    for k in ("dropout", "l1_prox"):
        print(f"{k}: dask (2 workers x 1 thread) {gb / out[k + '_dask_s']:.2f} GB/s, in memory "
              f"({lkreg.get_num_threads()} threads) {gb / out[k + '_memory_s']:.2f} GB/s",
              flush=True)

    # 4. the in-memory fit of the same data
    t0 = time.perf_counter()
    memory = Lasso(alpha=alpha, tol=1e-8, precompute=True).fit(Xm, ym)
    out["lkreg_memory_s"] = time.perf_counter() - t0
    r = ym.astype(np.float64) - Xm @ memory.coef_.astype(np.float64) - float(memory.intercept_)
    out["memory_objective"] = float(r @ r) / (2 * n) + alpha * float(
        np.abs(memory.coef_.astype(np.float64)).sum())
    out["objective_rel_diff_vs_memory"] = (
        abs(out["lkreg_objective"] - out["memory_objective"]) / out["memory_objective"])
    out["load_after"] = os.getloadavg()
    print(f"lkreg in memory: {out['lkreg_memory_s']:.2f} s, objective "
          f"{out['memory_objective']:.10g}; dask fit's relative difference "
          f"{out['objective_rel_diff_vs_memory']:.2e}", flush=True)
    return save(out, args.json)


def save(out, path):
    if path:
        with open(path, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
