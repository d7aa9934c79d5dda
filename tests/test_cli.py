"""The command line as a user meets it: --version, usage, and bad arguments as one line.

Every bad argument runs ``python -m lkreg`` in a subprocess (what a user types), and must give
exit status 2 and one line on stderr naming the argument, never a traceback.
"""

import os
import subprocess
import sys

import pytest

import lkreg


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lkreg", *args], capture_output=True, text=True, cwd=cwd)


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"lkreg {lkreg.__version__}"
    assert lkreg.__version__ == "0.1.0"  # the metadata's version, not a placeholder


def test_no_command_prints_the_usage_with_the_commands_explained():
    result = run_cli()
    assert result.returncode == 2
    assert result.stdout.startswith("usage: lkreg")
    assert "bench" in result.stdout and "memory bandwidth" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_help_explains_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "commands:" in result.stdout and "lkreg bench --quick" in result.stdout


def _unwritable_path(tmp_path):
    return str(tmp_path / "no" / "such" / "dir" / "bench.json")


@pytest.mark.parametrize(
    "args, argument",
    [
        (["bench", "--sizes", "foo"], "--sizes"),
        (["bench", "--sizes", "0"], "--sizes"),
        (["bench", "--sizes", "-5"], "--sizes"),
        (["bench", "--sizes", "2**99"], "--sizes"),
        (["bench", "--sizes", "2**x"], "--sizes"),
        (["bench", "--threads", "0"], "--threads"),
        (["bench", "--threads", "two"], "--threads"),
        (["bench", "--json", "UNWRITABLE", "--sizes", "256"], "--json"),
        (["bench", "--threading", "--json", "UNWRITABLE"], "--json"),
        (["bench", "--only", "no-such-kernel", "--sizes", "256"], "--only"),
        (["bench", "--frobnicate"], "--frobnicate"),
        (["frobnicate"], "frobnicate"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_a_bad_argument_is_one_line_naming_it_and_exit_status_2(tmp_path, args, argument):
    args = [_unwritable_path(tmp_path) if a == "UNWRITABLE" else a for a in args]
    result = run_cli(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert argument in lines[0] and "error" in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_good_json_path_is_left_as_it_was_when_another_argument_is_bad(tmp_path):
    path = tmp_path / "bench.json"
    assert run_cli("bench", "--json", str(path), "--threads", "0").returncode == 2
    assert not path.exists()


def test_json_into_a_directory_is_refused(tmp_path):
    result = run_cli("bench", "--json", str(tmp_path), "--sizes", "256")
    assert result.returncode == 2 and "--json" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_only_that_matches_nothing_says_so_before_any_timing():
    result = run_cli("bench", "--only", "zzz")
    assert result.returncode == 2
    assert "no kernel name contains 'zzz'" in result.stderr
    assert "floor" not in result.stdout  # nothing was measured


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_json_to_a_read_only_directory_is_refused(tmp_path):
    tmp_path.chmod(0o500)
    try:
        result = run_cli("bench", "--json", str(tmp_path / "b.json"), "--sizes", "256")
    finally:
        tmp_path.chmod(0o700)
    assert result.returncode == 2 and "--json" in result.stderr


def test_the_console_script_is_installed():
    import shutil

    exe = shutil.which("lkreg", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if exe is None:
        pytest.skip("the lkreg console script is not on PATH (not installed by pip)")
    result = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"lkreg {lkreg.__version__}"
