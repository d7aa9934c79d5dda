"""``lkreg bench --plot``: a benchmark report drawn as one figure."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from ._style import new_figure


def _kernel_figure(report: Dict[str, Any]) -> Any:
    results = report["results"]
    fig, axes = new_figure(1, 3, width=4.6, height=4.0)
    panels = [("floor_fraction", "fraction of the memory floor"), ("vs_numpy", "speed-up over NumPy"),
              ("vs_torch", "speed-up over torch")]
    kernels = sorted({r["kernel"] for r in results})
    colors = {k: f"C{i % 10}" for i, k in enumerate(kernels)}
    styles = {"float32": "-", "float64": "--"}
    for ax, (key, title) in zip(axes[0], panels):
        for kernel in kernels:
            for dtype, ls in styles.items():
                rows = sorted((r for r in results if r["kernel"] == kernel and r["dtype"] == dtype
                               and r.get(key) is not None), key=lambda r: r["n"])
                if rows:
                    ax.plot([r["n"] for r in rows], [r[key] for r in rows], ls=ls, marker=".",
                            color=colors[kernel], label=kernel if dtype == "float32" else None)
        ax.set_xscale("log", base=2)
        if key != "floor_fraction":
            ax.set_yscale("log")
        ax.axhline(1.0, color="0.6", lw=0.8, zorder=0)
        ax.set(title=title, xlabel="elements", ylabel=title)
    axes[0, 0].legend(fontsize="xx-small", ncol=2)
    fig.suptitle(f"lkreg bench, {report.get('threads', '?')} threads "
                 "(solid float32, dashed float64)")
    return fig


def _models_figure(rows: List[Dict[str, Any]]) -> Any:
    fig, axes = new_figure(1, 1, width=7.5, height=0.55 * max(4, 2 * len(rows)) + 1.0)
    ax = axes[0, 0]
    libraries = sorted({lib for r in rows for lib in r["times"]}, key=lambda s: (s != "lkreg", s))
    height = 0.8 / max(1, len(libraries))
    for i, lib in enumerate(libraries):
        ys = [j + i * height for j, r in enumerate(rows) if lib in r["times"]]
        ts = [r["times"][lib] for r in rows if lib in r["times"]]
        ax.barh(ys, ts, height=height, color=f"C{i % 10}", label=lib)
    ax.set_yticks(np.arange(len(rows)) + 0.4 - height / 2, [r["problem"] for r in rows],
                  fontsize="small")
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set(title="lkreg bench --models: time to the same objective", xlabel="seconds (log)")
    ax.legend(fontsize="small")
    return fig


def bench_figure(report: Any) -> Any:
    """The figure of a ``lkreg bench`` report (kernels) or of ``--models`` rows.

    Parameters
    ----------
    report : dict or list of dict
        What ``lkreg bench --json`` writes: the kernel report (a dict with ``results``) or the
        models' rows (a list of dicts with ``problem`` and ``times``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from lkreg.plot import bench_figure
    >>> fig = bench_figure([{"problem": "Lasso", "times": {"lkreg": 0.01, "sklearn": 0.03}}])
    >>> fig.axes[0].get_xlabel()
    'seconds (log)'
    """
    if isinstance(report, dict) and isinstance(report.get("results"), list):
        return _kernel_figure(report)
    if isinstance(report, list) and all(isinstance(r, dict) and "times" in r for r in report):
        return _models_figure(report)
    raise ValueError("report must be a lkreg bench report (a dict with 'results') "
                     "or the --models rows (dicts with 'problem' and 'times')")
