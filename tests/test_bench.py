"""The benchmark instrument itself: it runs, reports every kernel and floor, and refuses to time
a kernel whose answer differs from the baseline's."""

import json
import subprocess
import sys

import numpy as np
import pytest

from lkreg import _bench
from lkreg.__main__ import main


def test_quick_json_has_every_kernel_and_the_floors(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(path), "--sizes", "1024", "2**12"]) == 0
    report = json.loads(path.read_text())
    assert report["sizes"] == [1024, 4096]
    for key in ("float32 n=1024", "float32 n=4096", "float64 n=4096"):
        floors = report["floors"][key]
        assert set(floors) == set(_bench.FLOORS) and all(v > 0 for v in floors.values())
    expected = {(c.name, np.dtype(d).name, n) for c in _bench.all_cases() for d in c.dtypes for n in (1024, 4096)}
    got = {(r["kernel"], r["dtype"], r["n"]) for r in report["results"]}
    assert got == expected
    for r in report["results"]:
        assert r["lkreg_s"] > 0 and r["gbps"] > 0 and r["vs_numpy"] > 0
        assert r["floor"] in _bench.FLOORS
    assert report["machine"]["lkreg"]["simd"]
    out = capsys.readouterr().out
    assert "grad L1" in out and "floor float32 n=1024" in out


def test_only_filters_kernels(tmp_path):
    path = tmp_path / "bench.json"
    main(["bench", "--quick", "--json", str(path), "--sizes", "512", "--only", "threshold"])
    kernels = {r["kernel"] for r in json.loads(path.read_text())["results"]}
    assert kernels == {"soft_threshold", "soft_threshold in place", "hard_threshold"}


def test_a_wrong_kernel_is_refused(monkeypatch):
    def make(n, dtype):
        x = np.ones(n, dtype)
        return _bench.Runners(lkreg=lambda: x * 2.0, numpy=lambda: x * 2.0 + 1e-3)

    monkeypatch.setattr(_bench, "all_cases", lambda: [_bench.Case("wrong", "copy", 2, make)])
    with pytest.raises(_bench.BenchmarkMismatch, match="wrong"):
        _bench.run(sizes=[256], quick=True)


def test_agreement_tolerances():
    close = _bench.Runners(lkreg=lambda: np.float64(1.0), numpy=lambda: np.float64(1.0 + 1e-9), rtol=1e-6)
    _bench.check_agreement("close", close)
    exact = _bench.Runners(lkreg=lambda: np.float64(1.0), numpy=lambda: np.float64(1.0 + 1e-9))
    with pytest.raises(_bench.BenchmarkMismatch):
        _bench.check_agreement("exact", exact)


@pytest.mark.parametrize("text, value", [("65536", 65536), ("2**16", 65536), ("2^10", 1024), (" 7 ", 7)])
def test_parse_size(text, value):
    assert _bench.parse_size(text) == value


@pytest.mark.parametrize("text", ["foo", "0", "-1", "2**", "2**99", "1e6", "2**-1", ""])
def test_parse_size_refuses_what_is_not_a_positive_count(text):
    with pytest.raises(ValueError, match="element count"):
        _bench.parse_size(text)


def test_measure_reports_spread():
    timing = _bench.measure(lambda: sum(range(100)), min_time=0.01)
    assert timing.repeats >= 5 and 0 < timing.p10 <= timing.median <= timing.p90


def test_command_line_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "lkreg", "bench", "--quick", "--sizes", "256", "--only", "weight_decay"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "weight_decay in place" in result.stdout and "x numpy" in result.stdout
