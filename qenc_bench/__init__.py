"""qenc-bench: a plugin-based benchmark of quantum data encodings.

The public surface: the hook marker, the spec types plugins register, the interfaces their
components implement, and the helpers and errors a plugin may use. A plugin imports from
here only (a test keeps ``plugins/`` and ``docs/examples/`` to these names).
"""

from ._version import __version__
from .attacks import Attack, GradientFn, project
from .backends import Backend, CostEstimate, Gradients, Workload
from .circuit import GATES, Circuit, Op, feature_op, weight_op
from .datasets import DATA_ENV, Dataset, RawDataset
from .encoders import Encoder, FitContext, TrainingPlan
from .errors import (
    ConfigError,
    DataError,
    IncompatibleComponentsError,
    MissingDependencyError,
    QencBenchError,
)
from .hookspecs import hookimpl
from .metrics import binary_entropy, von_neumann_entropy
from .model import Model, ReadoutModel
from .noise import Depolarizing
from .prepare import PreparedData, Split
from .specs import AttackSpec, AutoPolicy, BackendSpec, Capabilities, DatasetSpec, EncoderSpec, ModelSpec
from .training import TrainConfig, TrainResult

__all__ = [
    "DATA_ENV",
    "GATES",
    "Attack",
    "AttackSpec",
    "AutoPolicy",
    "Backend",
    "BackendSpec",
    "Capabilities",
    "Circuit",
    "ConfigError",
    "CostEstimate",
    "DataError",
    "Dataset",
    "DatasetSpec",
    "Depolarizing",
    "Encoder",
    "EncoderSpec",
    "FitContext",
    "GradientFn",
    "Gradients",
    "IncompatibleComponentsError",
    "MissingDependencyError",
    "Model",
    "ModelSpec",
    "Op",
    "PreparedData",
    "QencBenchError",
    "RawDataset",
    "ReadoutModel",
    "Split",
    "TrainConfig",
    "TrainResult",
    "TrainingPlan",
    "Workload",
    "__version__",
    "binary_entropy",
    "feature_op",
    "hookimpl",
    "project",
    "von_neumann_entropy",
    "weight_op",
]
