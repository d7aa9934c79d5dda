"""lkreg.plot: every figure checked on its Figure object against the formula it draws."""

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from lkreg import plot  # noqa: E402


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_penalty_curves_draw_the_penalty_and_its_derivative():
    ks = (0.5, 1, 1.5, 2, 3, 10)
    fig = plot.penalty_curves(ks, zoom=0.25)
    value_ax, grad_ax, zoom_ax = fig.axes
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() == "weight w" and ax.get_ylabel()
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"L{k:g}" for k in ks]
    for k in ks:
        w, v = lines_by_label(value_ax)[f"L{k:g}"].get_data()
        np.testing.assert_allclose(v, np.abs(w) ** k, rtol=1e-12)
        w, d = lines_by_label(grad_ax)[f"L{k:g}"].get_data()
        ok = w != 0
        np.testing.assert_allclose(d[ok], k * np.sign(w[ok]) * np.abs(w[ok]) ** (k - 1), rtol=1e-12)
        w, _ = lines_by_label(zoom_ax)[f"L{k:g}"].get_data()
        assert w.min() == -0.25 and w.max() == 0.25
    # near 0, L10 lets small weights go (pull ~ 0) while L0.5 pulls hardest
    w, d10 = lines_by_label(zoom_ax)["L10"].get_data()
    _, d05 = lines_by_label(zoom_ax)["L0.5"].get_data()
    small = (w > 0) & (w < 0.1)
    assert np.all(d10[small] < 1e-8) and np.all(d05[small] > 1)


def test_one_colour_per_penalty_in_every_figure():
    curves = lines_by_label(plot.penalty_curves((1, 2, 3)).axes[0])
    balls = lines_by_label(plot.unit_balls((1, 2, 3)).axes[0])
    for label in ("L1", "L2", "L3"):
        assert curves[label].get_color() == balls[label].get_color() == plot.penalty_color(label)
    assert len({plot.penalty_color(k) for k in plot.PENALTY_COLORS}) == len(plot.PENALTY_COLORS)


def test_unit_balls_lie_on_the_unit_sphere_of_each_norm():
    ps = (0.5, 1, 1.5, 2, 3, math.inf)
    fig = plot.unit_balls(ps)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "w1" and ax.get_ylabel() == "w2" and ax.get_title()
    for p in ps:
        x, y = lines_by_label(ax)["Linf" if math.isinf(p) else f"L{p:g}"].get_data()
        norm = np.maximum(abs(x), abs(y)) if math.isinf(p) else (abs(x) ** p + abs(y) ** p) ** (1 / p)
        np.testing.assert_allclose(norm, 1.0, rtol=1e-9)
        assert x.max() == pytest.approx(1.0) and y.min() == pytest.approx(-1.0)  # reaches the axes


def test_l1_l2_geometry_marks_the_constrained_minimizers_found_by_brute_force():
    center, radius, rho = np.array([2.0, 0.6]), 1.0, 0.3
    fig = plot.l1_l2_geometry(tuple(center), radius=radius, correlation=rho)
    precision = np.linalg.inv([[1, rho], [rho, 1]])
    g = np.linspace(-1.0, 1.0, 1001)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    loss = np.einsum("ni,ij,nj->n", grid - center, precision, grid - center)
    for ax, p in zip(fig.axes, (1, 2)):
        marker = next(line for label, line in lines_by_label(ax).items() if label.startswith("solution"))
        w = np.array([d[0] for d in marker.get_data()])
        inside = (np.abs(grid) ** p).sum(1) ** (1 / p) <= radius
        best = grid[inside][np.argmin(loss[inside])]
        np.testing.assert_allclose(w, best, atol=3e-3)
        assert (np.abs(w) ** p).sum() ** (1 / p) == pytest.approx(radius, abs=1e-6)
    (l1, l2) = fig.axes
    assert "sparse" in l1.get_title() and "nonzero" in l2.get_title()
    with pytest.raises(ValueError, match="center"):
        plot.l1_l2_geometry((0.2, 0.1))
    with pytest.raises(ValueError, match="correlation"):
        plot.l1_l2_geometry(correlation=1.0)


def test_coef_path_draws_one_line_per_feature_on_a_log_axis():
    pytest.importorskip("sklearn")
    import lkreg
    from lkreg.linear_model import regularization_path

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4))
    y = X @ [1.0, 0, -2, 0.5] + 0.1 * rng.standard_normal(50)
    paths = {"L1": regularization_path(X, y, lkreg.L1(), n_alphas=8),
             "L2": regularization_path(X, y, lkreg.L2(), n_alphas=8)}
    fig = plot.coef_path(paths, feature_names=list("abcd"))
    assert [ax.get_title() for ax in fig.axes] == ["L1 path", "L2 path"]
    for ax, (alphas, coefs, _) in zip(fig.axes, paths.values()):
        assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("alpha")
        drawn = [line for line in ax.get_lines() if line.get_label() in "abcd"]
        assert len(drawn) == 4
        for j, line in enumerate(drawn):
            np.testing.assert_array_equal(line.get_ydata(), coefs[j])
            np.testing.assert_array_equal(line.get_xdata(), alphas)
    with pytest.raises(ValueError, match="feature_names"):
        plot.coef_path(paths, feature_names=["a"])
    with pytest.raises(TypeError, match="paths"):
        plot.coef_path([1, 2])


def test_learning_curves_solid_train_dashed_validation_in_one_colour():
    fig = plot.learning_curves({"none": ([3, 2, 1], [3, 2.5, 2.4]), "L2": ([3, 2.2, 1.5], [3, 2.4, 2.0])})
    ax = fig.axes[0]
    lines = lines_by_label(ax)
    assert set(lines) == {"none: train", "none: validation", "L2: train", "L2: validation"}
    for label in ("none", "L2"):
        train, valid = lines[f"{label}: train"], lines[f"{label}: validation"]
        assert train.get_color() == valid.get_color() == plot.penalty_color(label)
        assert train.get_linestyle() == "-" and valid.get_linestyle() == "--"
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    with pytest.raises(ValueError, match="one length"):
        plot.learning_curves({"x": ([1, 2], [1])})


def test_weight_histograms_count_every_weight_and_the_exact_zeros():
    rng = np.random.default_rng(1)
    l1 = np.where(rng.random(500) < 0.7, 0.0, rng.standard_normal(500))
    l2 = 0.3 * rng.standard_normal(500)

    class Model:  # an MLP's weights are a list of matrices
        coefs_ = [rng.standard_normal((4, 3)), rng.standard_normal((3, 2))]

    weights = {"L1": l1, "L2": l2, "dropout": np.r_[Model.coefs_[0].ravel(), Model.coefs_[1].ravel()]}
    fig = plot.weight_histograms({"L1": l1, "L2": l2, "dropout": Model()}, bins=40)
    for ax, (label, w) in zip(fig.axes, weights.items()):
        heights = [patch.get_height() for patch in ax.patches]
        assert len(heights) == 40 and sum(heights) == w.size
        assert ax.get_title() == f"{label}: {np.count_nonzero(w == 0)} of {w.size} exactly 0"
        assert ax.get_xlabel() == "weight" and ax.get_ylabel() == "count"


def test_bench_figure_draws_a_kernel_report_and_model_rows():
    from lkreg import _bench

    report = _bench.run([2**10, 2**12], threads=1, only="grad L1", quick=True)
    fig = plot.bench_figure(report)
    floor_ax = fig.axes[0]
    assert floor_ax.get_xscale() == "log" and "floor" in floor_ax.get_title()
    f32 = [r for r in report["results"] if r["dtype"] == "float32"]
    drawn = [line for line in floor_ax.get_lines() if line.get_label() == "grad L1"]
    assert len(drawn) == 1
    np.testing.assert_allclose(drawn[0].get_ydata(), [r["floor_fraction"] for r in f32])
    rows = [{"problem": "Lasso", "times": {"lkreg": 0.01, "sklearn": 0.03}},
            {"problem": "path", "times": {"lkreg": 0.2, "skglm": 0.1}}]
    fig = plot.bench_figure(rows)
    widths = sorted(p.get_width() for p in fig.axes[0].patches)
    assert widths == [0.01, 0.03, 0.1, 0.2]
    with pytest.raises(ValueError, match="report"):
        plot.bench_figure({"nothing": 1})


@pytest.mark.parametrize("call, match", [
    (lambda: plot.penalty_curves(()), "ks"),
    (lambda: plot.penalty_curves((1, -2)), "ks"),
    (lambda: plot.penalty_curves((1, math.inf)), "ks"),
    (lambda: plot.penalty_curves(zoom=0), "zoom"),
    (lambda: plot.unit_balls(("a",)), "ps"),
    (lambda: plot.weight_histograms({}), "models"),
    (lambda: plot.weight_histograms({"a": [1.0]}, bins=0), "bins"),
    (lambda: plot.learning_curves([1, 2]), "curves"),
])
def test_bad_arguments_name_the_argument(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()
