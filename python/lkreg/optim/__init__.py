"""Optimizers and learning-rate schedulers for NumPy arrays (``torch.optim``'s names and rules).

``lkreg.optim.SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad`` and ``FTRL`` update lists of
arrays in place with one C++ call per param group; ``lkreg.optim.lr_scheduler`` holds
torch's schedulers (also importable from here, as in torch).
"""

from . import lr_scheduler
from .lr_scheduler import (
    ChainedScheduler,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from .optimizer import FTRL, SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "FTRL",
    "lr_scheduler",
    *lr_scheduler.__all__,  # the schedulers, importable from here as in torch
]
