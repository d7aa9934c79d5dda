"""The ``lkreg`` command line (also ``python -m lkreg``).

Bad arguments are one line on stderr naming the argument and exit status 2 (argparse's usage
error status), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, NoReturn, Optional, Sequence

USAGE_ERROR = 2

EXAMPLES = """'lkreg COMMAND --help' gives a command's options.

examples:
  lkreg demo --quick
  lkreg bench --quick --plot bench.png
  lkreg bench --threads 1 --only prox --sizes 2**20 --json bench.json
"""


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line: 'lkreg bench: error: argument --sizes: ...'."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _size(text: str) -> int:
    from ._bench import parse_size  # noqa: PLC0415

    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _json_path(text: str) -> str:
    """A path ``--json`` can write, checked before minutes of timing (left as it was found)."""
    existed = os.path.exists(text)
    try:
        with open(text, "a"):
            pass
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: {e.strerror}") from None
    if not existed:
        os.remove(text)
    return text


def _plot_path(text: str) -> str:
    """A PNG path ``--plot`` can write, with matplotlib there, checked before any timing."""
    try:
        import matplotlib  # noqa: F401, PLC0415
    except ImportError:
        raise argparse.ArgumentTypeError("needs matplotlib: pip install 'lkreg[plot]'") from None
    return _json_path(text)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__  # noqa: PLC0415

    parser = _Parser(
        prog="lkreg",
        description="Fast regularization for NumPy code.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lkreg {__version__}")
    sub = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", parser_class=_Parser)
    bench = sub.add_parser(
        "bench",
        help="time every kernel against NumPy (and PyTorch when installed) and against this "
        "machine's measured memory bandwidth",
        description="Time every kernel against NumPy (and PyTorch when installed) and against "
        "this machine's measured memory bandwidth.",
    )
    bench.add_argument("--quick", action="store_true", help="small sizes, short runs (under 30 s)")
    bench.add_argument("--json", metavar="FILE", type=_json_path, help="also write the full report as JSON")
    bench.add_argument("--threads", type=_positive_int, metavar="N", help="threads for lkreg (and torch)")
    bench.add_argument(
        "--sizes", nargs="+", type=_size, metavar="N", help="element counts, e.g. 65536 2**16 2^24"
    )
    bench.add_argument("--plot", metavar="FILE", type=_plot_path,
                       help="also draw the run as a figure (PNG): kernels or --models")
    bench.add_argument("--only", metavar="NAME", help="only kernels whose name contains NAME")
    bench.add_argument(
        "--threading",
        action="store_true",
        help="instead: default threads against 1 thread idle, between NumPy calls, beside busy processes",
    )
    bench.add_argument(
        "--models",
        action="store_true",
        help="instead: Lasso, paths, Lk regression and logistic regression against scikit-learn, "
        "skglm and celer",
    )
    bench.add_argument("--logistic", action="store_true",
                       help="with --models: only the logistic regression rows")
    demo = sub.add_parser(
        "demo",
        help="the seed experiments on real data: overfitting, L1 vs L2, Lk, dropout, with figures",
        description="Run the experiments on data that ships with scikit-learn, print a table "
        "per experiment, and write every figure (PNG) and report.html into DIR.",
    )
    demo.add_argument("--out", metavar="DIR", default="lkreg-demo",
                      help="where the figures and report.html go (default ./lkreg-demo)")
    demo.add_argument("--quick", action="store_true", help="smaller runs (under 20 s)")
    return parser


def _bench_with_plot(args: Any, run: Any) -> int:
    """Run a benchmark; with ``--plot``, draw its JSON report (written to a temporary file if
    ``--json`` was not given)."""
    import json  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    if not args.plot:
        return run(args.json)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.json or os.path.join(tmp, "bench.json")
        status = run(path)
        if status == 0:
            from .plot import bench_figure  # noqa: PLC0415

            with open(path) as f:
                bench_figure(json.load(f)).savefig(args.plot, dpi=110)
            print(f"wrote {args.plot}", file=sys.stderr)
    return status


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    if args.command == "demo":
        from ._demo import main as demo_main  # noqa: PLC0415

        return demo_main(args.out, quick=args.quick)
    if args.command == "bench":
        if args.threading and args.plot:
            parser.exit(USAGE_ERROR, "lkreg bench: error: argument --plot: draws the kernel and "
                        "--models runs, not --threading (see 'lkreg bench --help')\n")
        if args.threading:
            from . import _bench_threads  # noqa: PLC0415

            return _bench_threads.main(["--quick"] * args.quick + ["--threads", str(args.threads or 0)]
                                       + ["--json", args.json] * bool(args.json))
        if args.models:
            from . import _bench_models  # noqa: PLC0415

            return _bench_with_plot(args, lambda out: _bench_models.main(
                ["--quick"] * args.quick + ["--logistic"] * args.logistic
                + ["--json", out] * bool(out)))
        from . import _bench  # noqa: PLC0415

        def kernels(out: Optional[str]) -> int:
            args.json = out
            return _bench.main(args)

        try:
            return _bench_with_plot(args, kernels)
        except _bench.BadArgument as e:
            print(f"lkreg bench: error: {e}", file=sys.stderr)
            return USAGE_ERROR
        except KeyboardInterrupt:
            print("lkreg bench: interrupted", file=sys.stderr)
            return 130
    return USAGE_ERROR  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
