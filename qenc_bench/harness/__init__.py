"""The comparison harness: configuration (:mod:`.config`), engine choice (:mod:`.engines`),
training (:mod:`.trainer`), evaluation (:mod:`.evaluate`), classical references
(:mod:`.classical`) and the run itself (:mod:`.runner`).

Data flow: ``CompareConfig`` -> :func:`plan` (checked components, loaded data) -> :func:`run`:
per seed, per encoder: fit on its view -> :class:`~.trainer.ModelTrainer` (restarts, one-vs-rest)
-> :func:`~.evaluate.evaluate` (per-sample outcomes) -> ``RunRecord``; per classical model:
:func:`~.classical.classical_record`; -> ``BenchmarkResult``.
"""

from .config import AUTO, DEFAULT_CLASSICAL, CompareConfig
from .engines import Engine, Engines
from .evaluate import Evaluation, evaluate
from .runner import Plan, compare, feature_map_resources, plan, run
from .trainer import ModelTrainer, outputs_of, predict_accuracy, predictions

__all__ = [
    "AUTO",
    "DEFAULT_CLASSICAL",
    "CompareConfig",
    "Engine",
    "Engines",
    "Evaluation",
    "ModelTrainer",
    "Plan",
    "compare",
    "evaluate",
    "feature_map_resources",
    "outputs_of",
    "plan",
    "predict_accuracy",
    "predictions",
    "run",
]
