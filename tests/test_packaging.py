"""What a user's installer sees: the license and the metadata of the installed distribution."""

import importlib.metadata as metadata
import re
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
