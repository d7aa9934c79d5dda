"""lkreg: fast regularization for NumPy code.

Penalties (L1, L2, any Lk, elastic net, L0) with values and gradients computed by SIMD
C++ kernels on lkreg's own thread pool. See ``lkreg.show_config()`` for how this build runs.
"""

from . import _core
from ._config import (
    _apply_simd_environment,
    _register_threadpoolctl,
    get_num_threads,
    set_num_threads,
    show_config,
)
from ._dropout import (
    Dropout,
    alpha_dropout,
    drop_connect,
    dropout,
    dropout_backward,
    dropout_mask,
    philox4x32_10,
)
from .penalties import L0, L1, L2, ElasticNet, GroupL2, Lk, Penalty
from .prox import hard_threshold, soft_threshold, weight_decay
from . import optim

__version__: str = _core.__version__

_apply_simd_environment()
_register_threadpoolctl()
del _apply_simd_environment, _register_threadpoolctl

__all__ = [
    "__version__",
    "show_config",
    "set_num_threads",
    "get_num_threads",
    "Penalty",
    "L1",
    "L2",
    "Lk",
    "ElasticNet",
    "L0",
    "GroupL2",
    "soft_threshold",
    "hard_threshold",
    "weight_decay",
    "philox4x32_10",
    "dropout_mask",
    "dropout",
    "dropout_backward",
    "alpha_dropout",
    "drop_connect",
    "Dropout",
]
