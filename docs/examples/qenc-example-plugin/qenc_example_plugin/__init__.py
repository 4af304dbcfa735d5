"""An example qenc-bench plugin: one encoder and one dataset.

- encoder ``phase-angle``: H then RZ(pi x_j) on qubit j, one qubit per feature;
- dataset ``iris-pair``: Fisher's iris as bundled with scikit-learn (tabular, 4 features, so
  4 data qubits), one ``train`` pool that preparation divides; ``--classes 0,1`` is the
  setosa / versicolor pair.

Heavy imports (scikit-learn) happen inside ``load``: every ``qenc-bench`` command imports
every plugin module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qenc_bench import (
    Dataset,
    DatasetSpec,
    Encoder,
    EncoderSpec,
    FitContext,
    MissingDependencyError,
    Op,
    RawDataset,
    Split,
    hookimpl,
)

__all__ = ["IrisPair", "PhaseAngleEncoder"]


class PhaseAngleEncoder(Encoder):
    """Feature x in [0, 1] becomes the phase of (|0> + e^{i pi x}|1>)/sqrt(2) (up to a global phase)."""

    name = "phase-angle"

    def fit(self, train: Split, validation: Split, context: FitContext) -> PhaseAngleEncoder:
        self.n_features_in_ = int(train.x.shape[1])
        self.n_qubits = self.n_features_in_
        return self

    def feature_map(self) -> tuple[Op, ...]:
        ops: list[Op] = []
        for j in range(self.n_qubits):
            ops += [Op("H", (j,)), Op("RZ", (j,), "feature", j)]
        return tuple(ops)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return np.pi * np.asarray(x, dtype=np.float64)

    def input_vjp(self, x: np.ndarray, grad_parameters: np.ndarray) -> np.ndarray:
        return np.pi * np.asarray(grad_parameters, dtype=np.float64)

    def info(self) -> dict:
        return {"n_qubits": self.n_qubits, "gates_per_qubit": ["H", "RZ"], "scale": "pi"}


class IrisPair(Dataset):
    """150 samples, 4 features (cm), 3 classes; one split that preparation divides."""

    files: tuple[str, ...] = ()

    def load(self, data_dir: Path | None = None) -> RawDataset:
        try:
            from sklearn.datasets import load_iris
        except ImportError:
            raise MissingDependencyError("scikit-learn", "dataset 'iris-pair'", "pip install scikit-learn") from None
        bunch = load_iris()
        return RawDataset(
            name="iris-pair",
            splits={"train": (np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64))},
            class_names=tuple(str(n) for n in bunch.target_names),
            max_value=None,
            modality="tabular",
            source="scikit-learn load_iris (bundled, no download)",
        )


@hookimpl
def qenc_bench_register_encoders(register):
    register(
        EncoderSpec(
            name="phase-angle",
            factory=PhaseAngleEncoder,
            description="H then RZ(pi x_j) on qubit j, one qubit per feature",
        )
    )


@hookimpl
def qenc_bench_register_datasets(register):
    register(
        DatasetSpec(
            name="iris-pair",
            factory=IrisPair,
            description="Fisher's iris, 4 features, 3 classes (pick a pair with --classes), bundled with scikit-learn",
            modality="tabular",
        )
    )
