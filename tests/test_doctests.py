"""The numpydoc ``Examples`` in lkreg's docstrings run as doctests, against the lkreg that is
imported (the installed wheel in CI), and every public function and class has one."""

import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import lkreg

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(lkreg.__path__, prefix="lkreg.")
    if name != "lkreg._core"
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_the_modules_are_found():
    assert {"lkreg.prox", "lkreg.penalties", "lkreg._dropout", "lkreg._config"} <= set(MODULES)


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.0.0",
                    reason="the examples show NumPy 2's reprs (np.float64(1.0))")
@pytest.mark.parametrize("module_name", ["lkreg"] + MODULES)
def test_docstring_examples_run(module_name, restore_threads):
    if module_name.startswith(("lkreg.linear_model", "lkreg.neural_network")):
        pytest.importorskip("sklearn")  # these follow scikit-learn's API and need it
    if module_name.startswith("lkreg.dask"):
        pytest.importorskip("dask.array")  # optional: the wheel and sanitizer venvs lack it
        pytest.importorskip("sklearn")
    if module_name.startswith("lkreg.plot"):
        pytest.importorskip("matplotlib")  # the optional extra lkreg[plot]
    if module_name.startswith("lkreg._demo"):
        pytest.importorskip("sklearn")  # the demo's data and models
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    for test in finder.find(module, module_name):
        runner.run(test, out=report.append)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, "".join(report)


def public_objects():
    """(qualified name, object) for every public function and class lkreg exports."""
    seen = {}
    for module in (lkreg, lkreg.penalties, lkreg.optim):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                seen.setdefault(id(obj), (f"{module.__name__}.{name}", obj))
    return sorted(seen.values(), key=lambda item: item[0])


@pytest.mark.parametrize("name, obj", public_objects(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_function_and_class_has_examples(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert "\nExamples\n--------\n" in doc, f"{name} has no numpydoc Examples section"
    assert ">>> " in doc.split("\nExamples\n--------\n", 1)[1], f"{name}'s Examples has no example"


def test_dropouts_return_type_follows_return_mask_for_type_checkers():
    typing = pytest.importorskip("typing")
    if not hasattr(typing, "get_overloads"):
        pytest.skip("typing.get_overloads needs Python >= 3.11")
    from lkreg import _dropout

    hints = [typing.get_type_hints(f, vars(_dropout)) for f in typing.get_overloads(_dropout.dropout)]
    by_flag = {h["return_mask"]: h["return"] for h in hints}
    assert by_flag[typing.Literal[False]] is np.ndarray
    assert by_flag[typing.Literal[True]] == typing.Tuple[np.ndarray, np.ndarray]
