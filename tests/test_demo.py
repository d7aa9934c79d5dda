"""`lkreg demo --quick` end to end: its files, its figures, and the claims of the seed documents."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from lkreg import _demo  # noqa: E402
from lkreg._demo import _experiments  # noqa: E402

FIGURES = {"penalty_curves.png", "unit_balls.png", "l1_l2_geometry.png", "overfitting.png",
           "coef_path.png", "logistic_sparsity.png", "learning_curves.png", "weight_histograms.png"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    results = _demo.run(str(out), quick=True, stream=printed)
    return {r.title.split(".")[0]: r for r in results}, out, printed.getvalue()


def test_every_figure_and_the_report_are_written(demo):
    results, out, printed = demo
    expected = set().union(*(r.figures for r in results.values() if not r.skipped))
    assert expected <= FIGURES and {"penalty_curves.png", "learning_curves.png"} <= expected
    for name in expected:
        data = (out / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, name
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") == len(expected)  # self-contained
    for result in results.values():
        assert result.title in report.replace("&#x27;", "'")
    assert str(out) in printed and "report.html" in printed


def test_each_experiment_prints_a_table_and_a_conclusion(demo):
    results, _, printed = demo
    for result in results.values():
        assert result.title in printed
        if result.skipped:
            assert f"skipped: {result.skipped}" in printed
            continue
        assert result.rows and all(len(row) == len(result.headers) for row in result.rows)
        assert f"=> {result.conclusion}" in printed
        table = _demo.format_table(result.headers, result.rows)
        assert table in printed
        widths = {len(line) for line in table.splitlines()[:2]}
        assert len(widths) == 1  # the header and its rule are aligned


def test_every_figure_has_titled_labelled_axes_and_legends(demo):
    results, _, _ = demo
    for result in results.values():
        for name, make in result.figures.items():
            fig = make()
            assert fig.axes, name
            for ax in fig.axes:
                assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), name
                assert ax.get_lines() or ax.patches or ax.collections, name
            assert any(ax.get_legend() for ax in fig.axes) or name == "weight_histograms.png", name


def test_overfitting_the_unregularized_fit_has_the_largest_gap_and_l1_zeros(demo):
    facts = demo[0]["1"].facts
    gap = facts["gap"]
    assert max(gap, key=gap.get) == "none"
    assert facts["train_mse"]["none"] == min(facts["train_mse"].values())  # it fits the noise
    assert facts["zeros"]["L1"] > facts["zeros"]["L2"] == 0
    assert facts["zeros"]["L0.5"] > facts["zeros"]["L2"]


def test_overfitting_fits_match_an_independent_least_squares(demo):
    # The "none" row is the least-squares polynomial: refit it with NumPy's polyfit-free normal
    # equations on the same data and compare the train error.
    rng = np.random.default_rng(_experiments.SEED)
    x = np.sort(rng.uniform(0, 1, 20))
    y = np.sin(2 * np.pi * x) + rng.normal(0, 0.25, 20)
    A = np.vander((x - x.mean()) / x.std(), 16)
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    train = np.mean((A @ coef - y) ** 2)
    assert demo[0]["1"].facts["train_mse"]["none"] == pytest.approx(train, rel=0.05)


def test_diabetes_l1_keeps_fewer_features_than_l2(demo):
    kept = demo[0]["2"].facts["kept"]
    assert len(kept["L1"]) < len(kept["L2"]) == 10
    assert set(kept["L1"]) <= set(kept["L2"])


def test_logistic_l1_uses_fewer_features_than_l2(demo):
    result = demo[0]["3"]
    if result.skipped:
        pytest.skip(result.skipped)
    curves = result.facts["curves"]
    assert all(used == result.facts["n_features"] for used, _ in curves["L2"])
    assert min(used for used, _ in curves["L1"]) < 10
    assert max(acc for used, acc in curves["L1"] if used <= 10) > 0.9


def test_dropout_narrows_the_mlp_generalization_gap(demo):
    facts = demo[0]["4"].facts
    assert facts["loss_gap"]["dropout"] < facts["loss_gap"]["none"]
    # (accuracy gaps on digits are a few test images either way: the log-loss, the cost J the
    # seeds speak of, is where the memorizing shows)
    assert facts["loss_gap"]["L2 + dropout"] < facts["loss_gap"]["none"]
    assert facts["dropout_off_monotone"]  # the seed's check: J decreases with dropout off


def test_without_matplotlib_the_tables_print_and_say_how_to_get_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(_demo, "_has_matplotlib", lambda: False)
    monkeypatch.setattr(_demo, "EXPERIMENTS", [_experiments.penalties, _experiments.overfitting])
    printed = io.StringIO()
    _demo.run(str(tmp_path), quick=True, stream=printed)
    text = printed.getvalue()
    assert "pip install 'lkreg[demo]'" in text and "=> " in text
    assert not list(tmp_path.glob("*.png"))
    assert "<table>" in (tmp_path / "report.html").read_text()


def test_the_command_line_runs_the_demo(tmp_path, monkeypatch):
    # `lkreg demo` reaches _demo.main with its arguments (the experiments themselves ran above).
    calls = []
    monkeypatch.setattr(_demo, "main", lambda out, quick: calls.append((out, quick)) or 0)
    from lkreg.__main__ import main

    assert main(["demo", "--quick", "--out", str(tmp_path)]) == 0
    assert main(["demo"]) == 0
    assert calls == [(str(tmp_path), True), ("lkreg-demo", False)]
    result = subprocess.run([sys.executable, "-m", "lkreg", "demo", "--help"], capture_output=True,
                            text=True)
    assert result.returncode == 0 and "--quick" in result.stdout and "--out" in result.stdout


def test_bench_plot_writes_a_png(tmp_path):
    out = tmp_path / "bench.png"
    result = subprocess.run([sys.executable, "-m", "lkreg", "bench", "--quick", "--only", "grad L1",
                             "--sizes", "2**10", "--threads", "1", "--plot", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:4] == b"\x89PNG"
    bad = subprocess.run([sys.executable, "-m", "lkreg", "bench", "--threading", "--plot", str(out)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--plot" in bad.stderr and "Traceback" not in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "lkreg", "bench", "--plot",
                              str(tmp_path / "no" / "dir.png")], capture_output=True, text=True)
    assert missing.returncode == 2 and "--plot" in missing.stderr
    assert not os.path.exists(tmp_path / "no")
