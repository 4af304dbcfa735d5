"""First-party classical reference models, from scikit-learn, on the same features, splits and
seeds as the quantum models:

- ``logistic``: ``LogisticRegression`` (L2, C = 1, lbfgs), the linear baseline;
- ``svm``: ``SVC`` with an RBF kernel (C = 1, gamma ``"scale"``), the nonlinear one;
- ``mlp``: ``MLPClassifier`` with one hidden layer of 32 units (Adam, early stopping).

Out of the box, as Bowles, Ahmed and Schuld (2024) ran their classical baselines: no model
of a comparison, quantum or classical, has its hyper-parameters tuned. Options go through
``--classical-option NAME:KEY=VALUE`` (for example ``svm:C=10``).
"""

from __future__ import annotations

from qenc_bench import ClassicalSpec, hookimpl


def _logistic(seed: int = 0, C: float = 1.0, max_iter: int = 1000):  # noqa: N803 (scikit-learn's name)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=max_iter, random_state=seed)


def _svm(seed: int = 0, C: float = 1.0, gamma: str | float = "scale"):  # noqa: N803
    from sklearn.svm import SVC

    return SVC(C=C, kernel="rbf", gamma=gamma, random_state=seed)


def _mlp(seed: int = 0, hidden: int = 32, max_iter: int = 2000):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(int(hidden),), max_iter=max_iter, early_stopping=True,
                         random_state=seed)


@hookimpl
def qenc_bench_register_classical(register):
    register(ClassicalSpec(name="logistic", factory=_logistic,
                           description="scikit-learn LogisticRegression (L2, C=1): the linear reference"))
    register(ClassicalSpec(name="svm", factory=_svm,
                           description="scikit-learn SVC, RBF kernel (C=1, gamma='scale'): a nonlinear reference"))
    register(ClassicalSpec(name="mlp", factory=_mlp,
                           description="scikit-learn MLPClassifier, one hidden layer of 32 (early stopping)"))
