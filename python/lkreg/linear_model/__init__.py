"""Linear models on lkreg's C++ coordinate-descent engine (scikit-learn's estimator API).

``Lasso``, ``ElasticNet`` and ``Ridge`` with scikit-learn's objectives and parameters;
``PenalizedRegression`` for any element-wise lkreg penalty (L1, L2, ElasticNet, Lk for any real
k > 0, L0); ``LassoCV``, ``ElasticNetCV``, ``PenalizedRegressionCV`` and
``regularization_path`` (strengths from alpha_max down, warm starts); ``LogisticRegression``
and ``LogisticRegressionCV`` (binary and multinomial, any element-wise penalty, by proximal
Newton; ``regularization_path(loss="log")``). Needs scikit-learn
(``pip install lkreg[sklearn]``); ``import lkreg`` itself does not.
"""

try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "lkreg.linear_model follows scikit-learn's estimator API and needs scikit-learn: "
        "pip install 'lkreg[sklearn]' (or pip install scikit-learn)"
    ) from exc

from ._coordinate_descent import ElasticNet, Lasso, PenalizedRegression
from ._logistic import LogisticRegression, LogisticRegressionCV
from ._path import ElasticNetCV, LassoCV, PenalizedRegressionCV, regularization_path
from ._ridge import Ridge

__all__ = ["Lasso", "ElasticNet", "Ridge", "PenalizedRegression", "LassoCV", "ElasticNetCV",
           "PenalizedRegressionCV", "LogisticRegression", "LogisticRegressionCV",
           "regularization_path"]
