"""README.md stays true: every code block in it runs as written.

Python blocks run for real, in order, in one namespace (as a reader pastes them into one
session). Shell blocks are command lines; each command is checked by what it is: `python -c`
runs for real, `lkreg ...` goes through the real argument parser (the bench itself takes
minutes), `python -m pytest ...` is collected with the same arguments, `pip install` targets
must be the project or its declared extras, and `tools/...` scripts must exist, be executable
and parse. A command of any other kind fails the test until a rule for it is added here.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def code_blocks(language):
    return [body for lang, body in FENCE.findall(README.read_text()) if lang == language]


def shell_commands():
    """(line, command as argv) for every command of every shell block; `&&` splits commands."""
    commands = []
    for block in code_blocks("bash"):
        for line in block.splitlines():
            argv = shlex.split(line, comments=True)
            while argv:
                cut = argv.index("&&") if "&&" in argv else len(argv)
                commands.append((line, argv[:cut]))
                argv = argv[cut + 1 :]
    return commands


def declared_extras():
    import tomllib  # noqa: PLC0415  (Python >= 3.11; skipped below otherwise)

    with open(ROOT / "pyproject.toml", "rb") as f:
        return set(tomllib.load(f)["project"]["optional-dependencies"])


def test_the_readme_has_python_and_shell_blocks():
    assert len(code_blocks("python")) >= 2 and len(shell_commands()) >= 8
    assert not [lang for lang, _ in FENCE.findall(README.read_text()) if lang not in ("python", "bash")]


def test_every_python_block_runs_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    try:
        import sklearn  # noqa: F401, PLC0415
    except ImportError:
        have_sklearn = False
    else:
        have_sklearn = True
    try:
        import dask.array  # noqa: F401, PLC0415
        import distributed  # noqa: F401, PLC0415
    except ImportError:
        have_dask = False
    else:
        have_dask = True
    ran = 0
    for i, block in enumerate(code_blocks("python")):
        # the estimator examples need scikit-learn (an optional extra); the others must not
        if not have_sklearn and ("sklearn" in block or "linear_model" in block or "neural_network" in block):
            continue
        if not have_dask and "dask" in block:  # lkreg.dask's example needs the dask extra
            continue
        exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
        ran += 1
    assert ran >= 2
    # what the blocks promise in their comments
    import numpy as np  # noqa: PLC0415

    assert namespace["grad"].dtype == np.float32 and namespace["grad"].shape == (10**6,)
    w = namespace["w"]
    assert w.shape == (10, 5) and namespace["b"].shape == (10,)
    assert not np.array_equal(namespace["b"], np.zeros(10, np.float32))  # updated in place


@pytest.mark.parametrize("line, argv", shell_commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_every_shell_command_is_valid(line, argv, tmp_path):
    program, args = argv[0], argv[1:]
    if program == "pip":
        assert args[0] == "install" and len(args) == 2, line
        spec = args[1]
        if spec.startswith("wheelhouse/"):  # what the tools/build-wheel line above makes
            assert "tools/build-wheel wheelhouse/" in README.read_text() and spec == "wheelhouse/lkreg-*.whl", line
            return
        m = re.fullmatch(r"\.(?:\[([\w,]+)\])?", spec)
        assert m, f"{line}: installs something other than this project"
        if m.group(1):
            if sys.version_info < (3, 11):
                pytest.skip("reading pyproject.toml needs tomllib")
            assert set(m.group(1).split(",")) <= declared_extras(), line
    elif program == "python" and args[:1] == ["-c"]:
        result = subprocess.run([sys.executable, "-c", args[1]], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    elif program == "python" and args[:2] == ["-m", "pytest"]:
        if any(a.startswith("--benchmark-") for a in args):
            pytest.importorskip("pytest_benchmark")
        # saving and comparing runs need stored runs, not collection: the rest is checked as is
        pytest_args = [a for a in args[2:] if a not in ("--benchmark-autosave", "--benchmark-compare")]
        if "--benchmark-json" in pytest_args:  # writes its file: into tmp_path
            i = pytest_args.index("--benchmark-json")
            pytest_args[i + 1] = str(tmp_path / pytest_args[i + 1])
        result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *pytest_args],
                                capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert re.search(r"\d+ tests? collected", result.stdout), result.stdout[-500:]
    elif program == "lkreg":
        from lkreg.__main__ import build_parser  # noqa: PLC0415

        if "--help" in args or "--version" in args:
            result = subprocess.run([sys.executable, "-m", "lkreg", *args], capture_output=True, text=True)
            assert result.returncode == 0 and result.stdout, line
        else:
            if "--plot" in args:
                pytest.importorskip("matplotlib")  # --plot refuses to start without it
            parsed = build_parser().parse_args(args)  # SystemExit on anything the CLI refuses
            assert parsed.command in ("bench", "demo")
            if parsed.command == "demo":  # tests/test_demo.py runs it end to end
                return
            if parsed.only is not None:
                from lkreg import _bench  # noqa: PLC0415

                assert any(parsed.only in c.name for c in _bench.all_cases()), line
    elif program.startswith("tools/"):
        path = ROOT / program
        assert path.is_file() and os.access(path, os.X_OK), f"{program} is missing or not executable"
        first = path.read_text().splitlines()[0]
        if "bash" in first or first.endswith("sh"):
            assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
        else:
            compile(path.read_text(), str(path), "exec")
    else:
        pytest.fail(f"README.md runs {program!r}: add a rule for it to tests/test_readme.py")


def test_the_docs_the_repository_cites_exist_and_nothing_cites_an_outside_design_file():
    assert (ROOT / "docs" / "architecture.md").is_file()
    architecture = (ROOT / "docs" / "architecture.md").read_text()
    for heading in ("## Three layers", "## The kernel contract", "## Threading runtime",
                    "## The random-number scheme", "### A kernel family", "### A penalty",
                    "### An optimizer", "### A solver"):
        assert heading in architecture, heading
    offenders = []
    for path in [ROOT / "README.md", *sorted((ROOT / "tests").glob("*.py")),
                 *sorted((ROOT / "python").rglob("*.py")), *sorted((ROOT / "docs").rglob("*.md"))]:
        if "DESIGN" + ".md" in path.read_text():
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
