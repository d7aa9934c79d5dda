# Type stubs for lkreg._core, the private compiled module (the public API is lkreg's).
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

__version__: str

# configuration
def simd_level() -> str: ...
def simd_level_supported() -> str: ...
def simd_levels_compiled() -> list[str]: ...
def set_simd_level(level: str) -> None: ...
def native_build() -> bool: ...
def threading_runtime() -> str: ...
def get_num_threads() -> int: ...
def set_num_threads(n: int) -> None: ...

# penalties
class PenaltyKind:
    L1: PenaltyKind
    L2: PenaltyKind
    Lk: PenaltyKind
    ElasticNet: PenaltyKind
    L0: PenaltyKind

class PenaltyParams:
    def __init__(self, kind: PenaltyKind, lam: float, k: float = 2.0, l2: float = 0.0) -> None: ...
    @property
    def kind(self) -> PenaltyKind: ...
    @property
    def lam(self) -> float: ...
    @property
    def k(self) -> float: ...
    @property
    def l2(self) -> float: ...
    @property
    def is_smooth(self) -> bool: ...
    @property
    def is_convex(self) -> bool: ...
    def scaled(self, s: float) -> PenaltyParams: ...

def penalty_prox(
    p: PenaltyParams, w: np.ndarray, step: Union[float, np.ndarray],
    out: Optional[np.ndarray] = None,
) -> np.ndarray: ...
def penalty_subdiff_distance(p: PenaltyParams, w: np.ndarray, grad: np.ndarray) -> np.ndarray: ...

def penalty_value(p: PenaltyParams, w: np.ndarray) -> float: ...
def penalty_grad(
    p: PenaltyParams, w: np.ndarray, out: Optional[np.ndarray] = None, accumulate: bool = False
) -> np.ndarray: ...
def penalty_value_and_grad(
    p: PenaltyParams, w: np.ndarray, out: Optional[np.ndarray] = None, accumulate: bool = False
) -> tuple[float, np.ndarray]: ...

# proximal operators
# an array t is broadcast against x as (outer, mid, inner): t.size == mid, t[j] applies to
# x.flat[(o * mid + j) * inner + i]
def soft_threshold(
    x: np.ndarray,
    t: Union[float, np.ndarray],
    out: Optional[np.ndarray] = None,
    c: float = 1.0,
    mid: int = 0,
    inner: int = 1,
) -> np.ndarray: ...
def hard_threshold(
    x: np.ndarray,
    t: Union[float, np.ndarray],
    out: Optional[np.ndarray] = None,
    mid: int = 0,
    inner: int = 1,
) -> np.ndarray: ...
def scale(w: np.ndarray, c: float, out: Optional[np.ndarray] = None) -> np.ndarray: ...
def lk_prox(w: np.ndarray, k: float, tau: float, out: Optional[np.ndarray] = None) -> np.ndarray: ...
def group_sumsq_axis(w: np.ndarray, axis: int) -> np.ndarray: ...
def group_scale_axis(
    w: np.ndarray,
    axis: int,
    factor: np.ndarray,
    out: Optional[np.ndarray] = None,
    accumulate: bool = False,
) -> np.ndarray: ...
def group_sumsq_ids(w: np.ndarray, groups: np.ndarray) -> np.ndarray: ...
def group_scale_ids(
    w: np.ndarray,
    groups: np.ndarray,
    factor: np.ndarray,
    out: Optional[np.ndarray] = None,
    accumulate: bool = False,
) -> np.ndarray: ...

# memory-bandwidth floors
def stream_copy(x: np.ndarray, y: np.ndarray) -> None: ...
def stream_scale(x: np.ndarray, c: float) -> None: ...
def stream_sum(x: np.ndarray) -> float: ...

# optimizers: one fused in-place pass per param group (None where an option is off); index
# names the arrays in errors (the first one's index, or one per array)
class PenaltyUse:
    none: PenaltyUse
    gradient: PenaltyUse
    prox: PenaltyUse
    preconditioned_prox: PenaltyUse

_Arrays = List[np.ndarray]
_Index = Union[int, List[int]]

def sgd_step(
    params: _Arrays, grads: List[Any], momentum_buffers: Optional[_Arrays],
    steps: Optional[List[int]], lr: float, momentum: float, dampening: float,
    weight_decay: float, nesterov: bool, description: Optional[PenaltyParams] = None,
    use: PenaltyUse = ..., per_array_mean: bool = False, index: _Index = 0,
    check_only: bool = False,
) -> None: ...
def adam_step(
    params: _Arrays, grads: List[Any], exp_avgs: _Arrays, exp_avg_sqs: _Arrays,
    max_exp_avg_sqs: Optional[_Arrays], steps: List[int], lr: float, beta1: float, beta2: float,
    eps: float, weight_decay: float, decoupled_weight_decay: bool,
    description: Optional[PenaltyParams] = None, use: PenaltyUse = ...,
    per_array_mean: bool = False, index: _Index = 0, check_only: bool = False,
) -> None: ...
def rmsprop_step(
    params: _Arrays, grads: List[Any], square_avgs: _Arrays, grad_avgs: Optional[_Arrays],
    momentum_buffers: Optional[_Arrays], lr: float, alpha: float, eps: float,
    weight_decay: float, momentum: float, description: Optional[PenaltyParams] = None,
    use: PenaltyUse = ..., per_array_mean: bool = False, index: _Index = 0,
    check_only: bool = False,
) -> None: ...
def adagrad_step(
    params: _Arrays, grads: List[Any], sums: _Arrays, steps: List[int], lr: float,
    lr_decay: float, weight_decay: float, eps: float,
    description: Optional[PenaltyParams] = None, use: PenaltyUse = ...,
    per_array_mean: bool = False, index: _Index = 0, check_only: bool = False,
) -> None: ...
def ftrl_step(
    params: _Arrays, grads: List[Any], zs: _Arrays, ns: _Arrays, alpha: float, beta: float,
    l1: float, l2: float, description: Optional[PenaltyParams] = None, use: PenaltyUse = ...,
    per_array_mean: bool = False, index: _Index = 0, check_only: bool = False,
) -> None: ...

# dropout
def philox4x32_10(counter: np.ndarray, key: np.ndarray) -> np.ndarray: ...
def dropout_mask(
    n: int, p: float, seed: int, stream: int, offset: int, packed: bool
) -> np.ndarray: ...
def dropout(
    x: np.ndarray, p: float, seed: int, stream: int, offset: int,
    out: Optional[np.ndarray] = None, return_mask: bool = False,
) -> Union[np.ndarray, tuple[np.ndarray, np.ndarray]]: ...
def alpha_dropout(
    x: np.ndarray, p: float, seed: int, stream: int, offset: int, out: Optional[np.ndarray] = None
) -> np.ndarray: ...
def dropout_backward(
    grad: np.ndarray, mask: np.ndarray, p: float, out: Optional[np.ndarray] = None
) -> np.ndarray: ...
# block versions (lkreg.dask): x is the block of a C-order array of `shape` starting at `start`
def dropout_mask_block(
    block_shape: Sequence[int], p: float, seed: int, stream: int, offset: int,
    shape: Sequence[int], start: Sequence[int],
) -> np.ndarray: ...
def dropout_block(
    x: np.ndarray, p: float, seed: int, stream: int, offset: int, shape: Sequence[int],
    start: Sequence[int], out: Optional[np.ndarray] = None, return_mask: bool = False,
) -> Union[np.ndarray, tuple[np.ndarray, np.ndarray]]: ...
def alpha_dropout_block(
    x: np.ndarray, p: float, seed: int, stream: int, offset: int, shape: Sequence[int],
    start: Sequence[int], out: Optional[np.ndarray] = None,
) -> np.ndarray: ...
def _pool_stats() -> dict[str, int]: ...

# coordinate-descent engine (bind_solver.cpp): lkreg.linear_model's solver
class SolverOptions:
    def __init__(
        self, penalty: PenaltyParams, max_iter: int = 1000, tol: float = 1e-4,
        positive: bool = False, random_selection: bool = False, seed: int = 0,
        working_sets: bool = True, screening: bool = True, tol_abs: float = 0.0,
        kkt_stopping: bool = False,
    ) -> None: ...

def coordinate_descent(
    options: SolverOptions, w: np.ndarray, X: Optional[np.ndarray] = None,
    data: Optional[np.ndarray] = None, indices: Optional[np.ndarray] = None,
    indptr: Optional[np.ndarray] = None, n_samples: int = 0, y: Optional[np.ndarray] = None,
    sample_weight: Optional[np.ndarray] = None, x_mean: Optional[np.ndarray] = None,
    y_mean: float = 0.0, weight_sum: float = 1.0, group_ptr: Optional[np.ndarray] = None,
    group_features: Optional[np.ndarray] = None, group_lipschitz: Optional[np.ndarray] = None,
    group_lam: float = 0.0,
) -> Dict[str, Any]: ...
def coordinate_descent_gram(
    options: SolverOptions, w: np.ndarray, gram: np.ndarray, xty: np.ndarray, yty: float,
    group_ptr: Optional[np.ndarray] = None, group_features: Optional[np.ndarray] = None,
    group_lipschitz: Optional[np.ndarray] = None, group_lam: float = 0.0,
) -> Dict[str, Any]: ...
# proximal Newton logistic regression (bind_solver.cpp): LogisticRegression's solver
def logistic_regression(
    penalty: PenaltyParams, W: np.ndarray, b: np.ndarray, X: Optional[np.ndarray] = None,
    data: Optional[np.ndarray] = None, indices: Optional[np.ndarray] = None,
    indptr: Optional[np.ndarray] = None, n_samples: int = 0, *, labels: np.ndarray,
    weight: np.ndarray, n_classes: int = 2, fit_intercept: bool = True, max_iter: int = 100,
    tol: float = 1e-4, max_epochs: int = 20,
) -> Dict[str, Any]: ...
