"""Tabular datasets bundled with scikit-learn (no download): ``breast-cancer``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qenc_bench import Dataset, MissingDependencyError, RawDataset


class BreastCancerDataset(Dataset):
    """The Wisconsin diagnostic breast cancer data as bundled with scikit-learn: 569 samples
    of 30 real-valued features, classes ``malignant`` (0) and ``benign`` (1), in scikit-learn's
    order.

    One split, ``train``; :func:`qenc_bench.data.prepare` carves test and validation out of it
    and scales each feature by its training min and max (``max_value`` is None).
    """

    files: tuple[str, ...] = ()

    def load(self, data_dir: Path | None = None) -> RawDataset:
        """The (569, 30) features and their labels; ``data_dir`` is not used."""
        try:
            from sklearn.datasets import load_breast_cancer
        except ImportError:
            raise MissingDependencyError(
                "scikit-learn", "dataset 'breast-cancer'", "pip install scikit-learn"
            ) from None
        bunch = load_breast_cancer()
        return RawDataset(
            name="breast-cancer",
            splits={"train": (np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64))},
            class_names=tuple(str(n) for n in bunch.target_names),
            max_value=None,
            modality="tabular",
            source="scikit-learn load_breast_cancer (bundled, no download)",
        )
