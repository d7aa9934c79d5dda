"""``lkreg demo``: the seed documents' experiments on data that ships with scikit-learn.

Runs each experiment of :mod:`._experiments`, prints its table and conclusion as it goes,
then writes every figure as PNG and a self-contained ``report.html`` into the output folder.
Without matplotlib the tables are still printed, with a line on how to get the figures.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, List, Optional, TextIO

from ._experiments import EXPERIMENTS, Experiment
from ._report import format_table, write_report

INSTALL_HINT = "pip install 'lkreg[demo]'"


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def run(out_dir: str, quick: bool = False, stream: TextIO = sys.stdout) -> List[Experiment]:
    """Run every experiment, print the tables, write the figures and report; returns the results."""
    say: Callable[[str], None] = lambda s: print(s, file=stream, flush=True)  # noqa: E731
    plotting = _has_matplotlib()
    results: List[Experiment] = []
    start = time.perf_counter()
    say(f"lkreg demo{' --quick' if quick else ''}: {len(EXPERIMENTS)} experiments")
    for experiment in EXPERIMENTS:
        t0 = time.perf_counter()
        say(f"running {experiment.__name__} ...")
        kwargs: dict = {"progress": say} if experiment.__name__ == "mlp" else {}
        try:
            result = experiment(quick, **kwargs)
        except ImportError as e:
            result = Experiment(title=experiment.__doc__ or experiment.__name__, headers=[], rows=[],
                                conclusion="", skipped=f"{e} ({INSTALL_HINT})")
        results.append(result)
        say("")
        say(result.title)
        if result.skipped:
            say(f"  skipped: {result.skipped}")
        else:
            say(format_table(result.headers, result.rows))
            say(f"=> {result.conclusion}")
        say(f"({time.perf_counter() - t0:.1f} s)")
        say("")
    os.makedirs(out_dir, exist_ok=True)
    if plotting:
        say(f"writing figures to {out_dir} ...")
    report = write_report(results, out_dir, draw=plotting)
    say(f"done in {time.perf_counter() - start:.1f} s.")
    if plotting:
        n = sum(len(r.figures) for r in results if not r.skipped)
        say(f"{n} figures and the report are in {os.path.abspath(out_dir)}: open {report}")
    else:
        say(f"the report (tables only) is {report}; for the figures: {INSTALL_HINT}")
    return results


def main(out_dir: Optional[str] = None, quick: bool = False) -> int:
    """The command ``lkreg demo [--out DIR] [--quick]``."""
    run(out_dir or "lkreg-demo", quick=quick)
    return 0
