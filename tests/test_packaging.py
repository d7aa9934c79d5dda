"""What a user's installer sees: the license and the metadata of the installed distribution."""

import importlib.metadata as metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lkreg
import lkreg.__main__

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def meta():
    return metadata.metadata("lkreg")


def test_the_license_file_is_mit_and_ships_in_the_distribution():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY OF ANY KIND" in text
    shipped = [f for f in metadata.files("lkreg") if f.name == "LICENSE"]
    assert shipped, "the installed distribution carries no LICENSE file"
    assert shipped[0].read_text() == text


def test_metadata_license_author_and_status(meta):
    assert meta["License"] == "MIT"
    classifiers = meta.get_all("Classifier")
    assert "License :: OSI Approved :: MIT License" in classifiers
    assert "Operating System :: POSIX :: Linux" in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert meta["Author-email"] and "@" in meta["Author-email"]
    assert meta["Version"] == lkreg.__version__


def test_python_version_classifiers_match_requires_python(meta):
    assert meta["Requires-Python"] == ">=3.9"
    versions = sorted(
        int(m.group(1))
        for c in meta.get_all("Classifier")
        if (m := re.fullmatch(r"Programming Language :: Python :: 3\.(\d+)", c))
    )
    assert versions == list(range(9, 14))
    assert sys.version_info[:2] >= (3, 9)


def test_the_console_script_is_declared(meta):
    (entry,) = [e for e in metadata.entry_points(group="console_scripts") if e.name == "lkreg"]
    assert entry.value == "lkreg.__main__:main"
    assert entry.load() is lkreg.__main__.main


@pytest.mark.skipif(not os.environ.get("LKREG_TEST_INSTALLED"),
                    reason="set by .ci/run when the suite runs against the installed wheel")
def test_the_lkreg_under_test_is_the_installed_wheel():
    wheel = Path(os.environ["LKREG_TEST_INSTALLED"])
    package = Path(lkreg.__file__).resolve().parent
    assert "site-packages" in package.parts, package
    assert not str(package).startswith(str(ROOT / "python")), package
    # the installed files are the wheel's: same version, and its RECORD lists the extension
    assert wheel.name.startswith(f"lkreg-{lkreg.__version__}-") and "manylinux" in wheel.name
    record = [str(f) for f in metadata.files("lkreg")]
    assert any(f.startswith("lkreg/_core") and f.endswith(".so") for f in record), record
    dist = metadata.distribution("lkreg")
    assert (dist.read_text("INSTALLER") or "").strip() == "pip"
    assert '"editable": true' not in (dist.read_text("direct_url.json") or "")
    assert wheel.name in (dist.read_text("direct_url.json") or wheel.name)


def test_the_cibuildwheel_section_builds_cpython_39_to_313_manylinux2014():
    if sys.version_info < (3, 11):
        pytest.skip("reading pyproject.toml needs tomllib")
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        config = tomllib.load(f)["tool"]["cibuildwheel"]
    assert config["build"] == [f"cp3{minor}-*" for minor in range(9, 14)]
    assert config["manylinux-x86_64-image"] == "manylinux2014"
    assert "pytest" in config["test-command"] and config["test-extras"] == ["test"]


def test_tools_build_wheel_is_an_executable_script_that_refuses_no_argument():
    script = ROOT / "tools" / "build-wheel"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    result = subprocess.run([str(script)], capture_output=True, text=True)
    assert result.returncode == 2 and "usage: tools/build-wheel OUTDIR" in result.stderr


def test_cibuildwheel_reads_the_section_as_meant():
    pytest.importorskip("cibuildwheel")
    result = subprocess.run(
        [sys.executable, "-m", "cibuildwheel", "--print-build-identifiers", "--platform", "linux"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"cp3{minor}-manylinux_x86_64" for minor in range(9, 14)]
    assert "warning" not in result.stderr.lower(), result.stderr
