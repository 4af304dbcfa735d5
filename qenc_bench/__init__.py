"""qenc-bench: a plugin-based benchmark of quantum data encodings.

The public surface: the hook marker, the spec types plugins register, the interfaces their
components implement, the helpers and errors a plugin may use, and the calls a script makes
(``compare(CompareConfig(...))``, ``leaderboard(paths)``). A plugin imports from
here only (a test keeps ``plugins/`` and ``docs/examples/`` to these names).
"""

from ._version import __version__
from .attacks import Attack, GradientFn, project
from .backends import Backend, CostEstimate, Gradients, Workload
from .cache import CACHE_ENV, cache_dir
from .circuit import GATES, Circuit, Op, feature_op, weight_op
from .datasets import DATA_ENV, Dataset, RawDataset
from .encoders import Encoder, FitContext, PlannedRun, TrainingPlan
from .encoding_metrics import EncodingMetric, MetricContext, MetricUnavailable, MetricValue
from .errors import (
    ConfigError,
    DataError,
    IncompatibleComponentsError,
    MissingDependencyError,
    QencBenchError,
)
from .harness import CompareConfig, compare
from .hookspecs import hookimpl
from .leaderboard import leaderboard, leaderboard_of
from .metrics import binary_entropy, partial_trace, von_neumann_entropy
from .model import Model, ReadoutModel
from .noise import Depolarizing
from .prepare import PreparedData, Split
from .reporters import Plot, Reporter
from .results import BenchmarkResult, RunRecord
from .specs import (
    AttackSpec,
    AutoPolicy,
    BackendSpec,
    Capabilities,
    ClassicalSpec,
    CommandSpec,
    DatasetSpec,
    EncoderSpec,
    MetricSpec,
    ModelSpec,
    ReporterSpec,
)
from .training import (
    Adam,
    JointRun,
    TrainConfig,
    TrainResult,
    best_restart,
    keep_best_restart,
    stack_models,
    train_jointly,
)

__all__ = [
    "CACHE_ENV",
    "DATA_ENV",
    "GATES",
    "Adam",
    "Attack",
    "AttackSpec",
    "AutoPolicy",
    "Backend",
    "BackendSpec",
    "BenchmarkResult",
    "Capabilities",
    "ClassicalSpec",
    "CommandSpec",
    "CompareConfig",
    "Circuit",
    "ConfigError",
    "CostEstimate",
    "DataError",
    "Dataset",
    "DatasetSpec",
    "Depolarizing",
    "Encoder",
    "EncoderSpec",
    "EncodingMetric",
    "FitContext",
    "GradientFn",
    "Gradients",
    "IncompatibleComponentsError",
    "JointRun",
    "MetricContext",
    "MetricSpec",
    "MetricUnavailable",
    "MetricValue",
    "MissingDependencyError",
    "Model",
    "ModelSpec",
    "Op",
    "PlannedRun",
    "Plot",
    "PreparedData",
    "QencBenchError",
    "RawDataset",
    "ReadoutModel",
    "Reporter",
    "ReporterSpec",
    "RunRecord",
    "Split",
    "TrainConfig",
    "TrainResult",
    "TrainingPlan",
    "Workload",
    "__version__",
    "best_restart",
    "binary_entropy",
    "cache_dir",
    "compare",
    "feature_op",
    "keep_best_restart",
    "hookimpl",
    "leaderboard",
    "leaderboard_of",
    "partial_trace",
    "project",
    "stack_models",
    "train_jointly",
    "von_neumann_entropy",
    "weight_op",
]
