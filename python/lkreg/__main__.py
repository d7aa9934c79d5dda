"""The ``lkreg`` command line (also ``python -m lkreg``).

Bad arguments are one line on stderr naming the argument and exit status 2 (argparse's usage
error status), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn, Optional, Sequence

USAGE_ERROR = 2

EXAMPLES = """'lkreg COMMAND --help' gives a command's options.

examples:
  lkreg bench --quick
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
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    if args.command == "bench":
        if args.threading:
            from . import _bench_threads  # noqa: PLC0415

            return _bench_threads.main(["--quick"] * args.quick + ["--threads", str(args.threads or 0)]
                                       + ["--json", args.json] * bool(args.json))
        if args.models:
            from . import _bench_models  # noqa: PLC0415

            return _bench_models.main(["--quick"] * args.quick + ["--logistic"] * args.logistic
                                      + ["--json", args.json] * bool(args.json))
        from . import _bench  # noqa: PLC0415

        try:
            return _bench.main(args)
        except _bench.BadArgument as e:
            print(f"lkreg bench: error: {e}", file=sys.stderr)
            return USAGE_ERROR
        except KeyboardInterrupt:
            print("lkreg bench: interrupted", file=sys.stderr)
            return 130
    return USAGE_ERROR  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
