import os
import subprocess
import sys

import pytest

import lkreg
from lkreg import _core


def test_show_config_describes_the_build():
    cfg = lkreg.show_config()
    assert cfg["version"] == lkreg.__version__
    assert cfg["simd"] in cfg["simd_compiled"]
    assert cfg["simd_supported"] in cfg["simd_compiled"]
    assert cfg["threading"] == "lkreg-pool"
    assert cfg["threads"] == lkreg.get_num_threads() >= 1


def _config_in_subprocess(simd):
    env = dict(os.environ, LKREG_SIMD=simd)
    code = "import lkreg; print(lkreg.show_config()['simd'])"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_lkreg_simd_environment_forces_a_lower_level():
    result = _config_in_subprocess("baseline")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "baseline"


def test_lkreg_simd_environment_rejects_unknown_levels():
    result = _config_in_subprocess("sse9")
    assert result.returncode != 0
    assert "LKREG_SIMD" in result.stderr


def test_set_simd_level_refuses_levels_the_cpu_lacks():
    with pytest.raises(ValueError, match="level"):
        _core.set_simd_level("avx1024")
