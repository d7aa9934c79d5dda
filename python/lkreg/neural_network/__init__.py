"""Multi-layer perceptrons with per-layer dropout and any lkreg weight penalty.

``MLPClassifier`` and ``MLPRegressor`` follow scikit-learn's estimator API (``fit``,
``partial_fit``, ``predict``, ``predict_proba``, ``score``, ``get_params``/``set_params``), so
they work in pipelines, grid searches and ``clone``. This subpackage needs scikit-learn
(``pip install 'lkreg[sklearn]'``); ``import lkreg`` itself does not.
"""

try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "lkreg.neural_network needs scikit-learn: pip install 'lkreg[sklearn]' "
        "(import lkreg alone needs only NumPy)"
    ) from exc

from ._multilayer_perceptron import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
