"""The ``lkreg`` command line (also ``python -m lkreg``)."""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lkreg", description="Fast regularization for NumPy code.")
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser(
        "bench", help="every kernel against NumPy, PyTorch and this machine's memory bandwidth"
    )
    bench.add_argument("--quick", action="store_true", help="small sizes, short runs (under 30 s)")
    bench.add_argument("--json", metavar="FILE", help="also write the full report as JSON")
    bench.add_argument("--threads", type=int, metavar="N", help="threads for lkreg (and torch)")
    bench.add_argument("--sizes", nargs="+", metavar="N", help="element counts, e.g. 2**16 2**24")
    bench.add_argument("--only", metavar="NAME", help="only kernels whose name contains NAME")
    bench.add_argument(
        "--threading",
        action="store_true",
        help="instead: default threads against 1 thread idle, between NumPy calls, beside busy processes",
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "bench":
        if args.threading:
            from . import _bench_threads  # noqa: PLC0415

            return _bench_threads.main(["--quick"] * args.quick + ["--threads", str(args.threads or 0)]
                                       + ["--json", args.json] * bool(args.json))
        from . import _bench  # noqa: PLC0415

        return _bench.main(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
