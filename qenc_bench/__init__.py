"""qenc-bench: a plugin-based benchmark of quantum data encodings.

The public surface: the hook marker, the spec types plugins register, and the interfaces
their components implement.
"""

from .attacks import Attack
from .backends import Backend, Gradients
from .circuit import Circuit, Op
from .data import PreparedData, Split
from .datasets import Dataset, RawDataset
from .encoders import Encoder, FitContext
from .errors import QencBenchError
from .hookspecs import hookimpl
from .model import Model
from .specs import AttackSpec, BackendSpec, Capabilities, DatasetSpec, EncoderSpec, ModelSpec

__version__ = "0.1.0"

__all__ = [
    "Attack",
    "AttackSpec",
    "Backend",
    "BackendSpec",
    "Capabilities",
    "Circuit",
    "Dataset",
    "DatasetSpec",
    "Encoder",
    "EncoderSpec",
    "FitContext",
    "Gradients",
    "Model",
    "ModelSpec",
    "Op",
    "PreparedData",
    "QencBenchError",
    "RawDataset",
    "Split",
    "hookimpl",
]
