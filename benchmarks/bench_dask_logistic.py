"""LogisticRegression on Dask against dask-ml, side by side in one run (not part of the tests).

    python benchmarks/bench_dask_logistic.py [--rows 1000000] [--cols 50] [--chunk 100000]

A tall float32 dask array X and labels y = (X beta + noise > 0), generated on a LocalCluster of
2 worker processes of 1 thread each and persisted there. L1 logistic regression at C:
lkreg (proximal Newton, one distributed pass per step), dask-ml's
``LogisticRegression(penalty="l1", solver="proximal_grad")`` on the same persisted blocks
(its objective is ``sum log-loss + ||w||_1 / C``, the same up to the factor C) when dask-ml
is importable, and lkreg in memory on the same data. Each objective
``C sum log-loss + ||w||_1`` (intercept unpenalized) is computed by one float64 dask pass.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def objective(X, y, coef, intercept, C):
    """C * sum log-loss + ||w||_1 in float64, one dask pass."""
    import dask.array as da

    w = np.asarray(coef, dtype=np.float64).ravel()
    eta = X.astype(np.float64) @ w + float(np.ravel(intercept)[0])
    loss = da.logaddexp(0.0, da.where(y > 0, -eta, eta)).sum().compute()
    return C * float(loss) + float(np.abs(w).sum())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--chunk", type=int, default=100_000)
    ap.add_argument("--C", type=float, default=1e-4)
    ap.add_argument("--dask-ml-max-iter", type=int, default=100)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import dask.array as da
    import distributed

    from lkreg.linear_model import LogisticRegression

    n, p, C = args.rows, args.cols, args.C
    out = {"rows": n, "cols": p, "chunk": args.chunk, "C": C}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        rng = da.random.default_rng(0)
        beta = np.random.default_rng(0).standard_normal(p).astype(np.float32)
        beta[::2] = 0.0
        X = rng.standard_normal((n, p), chunks=(args.chunk, p), dtype=np.float32)
        y = ((X @ beta + rng.standard_normal(n, chunks=args.chunk, dtype=np.float32)) > 0)
        y = y.astype(np.int64)
        X, y = client.persist([X, y])
        distributed.wait([X, y])
        t0 = time.perf_counter()
        ours = LogisticRegression(penalty="l1", C=C, tol=1e-6).fit(X, y)
        out["lkreg_s"] = time.perf_counter() - t0
        out["lkreg_objective"] = objective(X, y, ours.coef_, ours.intercept_, C)
        out["lkreg_n_iter"] = int(ours.n_iter_[0])
        print(f"lkreg dask: {out['lkreg_s']:.2f} s, {out['lkreg_n_iter']} Newton steps, "
              f"objective {out['lkreg_objective']:.10f}, nnz {int(np.sum(ours.coef_ != 0))}",
              flush=True)
        try:
            from dask_ml.linear_model import LogisticRegression as DaskMLLogistic
        except ImportError:
            DaskMLLogistic = None
        if DaskMLLogistic is not None:
            t0 = time.perf_counter()
            theirs = DaskMLLogistic(penalty="l1", C=C, solver="proximal_grad",
                                    max_iter=args.dask_ml_max_iter).fit(X, y)
            out["dask_ml_s"] = time.perf_counter() - t0
            out["dask_ml_objective"] = objective(X, y, theirs.coef_, theirs.intercept_, C)
            print(f"dask-ml proximal_grad: {out['dask_ml_s']:.2f} s "
                  f"({out['dask_ml_s'] / out['lkreg_s']:.1f}x lkreg's), objective "
                  f"{out['dask_ml_objective']:.10f} (lkreg's "
                  f"{(out['dask_ml_objective'] - out['lkreg_objective']) / out['lkreg_objective']:+.1e} relative)",
                  flush=True)
        Xm, ym = X.compute(), y.compute()
    t0 = time.perf_counter()
    mem = LogisticRegression(penalty="l1", C=C, tol=1e-6).fit(Xm, ym)
    out["in_memory_s"] = time.perf_counter() - t0
    out["in_memory_objective"] = float(mem.objective_)
    rel = (ours.objective_ - mem.objective_) / mem.objective_
    print(f"lkreg in memory: {out['in_memory_s']:.2f} s, objective {mem.objective_:.10f} "
          f"(the dask fit's {rel:+.1e} relative)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
