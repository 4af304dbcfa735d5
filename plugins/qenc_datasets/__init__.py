"""First-party datasets: ``digits`` (bundled with scikit-learn) and ``mnist`` (IDX files)."""

from __future__ import annotations

from qenc_bench import DatasetSpec, hookimpl

from .digits import DigitsDataset
from .idx import IdxDataset, mnist, read_idx

__all__ = ["DigitsDataset", "IdxDataset", "mnist", "read_idx"]


@hookimpl
def qenc_bench_register_datasets(register):
    register(
        DatasetSpec(
            name="digits",
            factory=DigitsDataset,
            description="scikit-learn's 1797 real 8x8 handwritten digits, 10 classes, bundled (no files)",
        )
    )
    register(
        DatasetSpec(
            name="mnist",
            factory=mnist,
            description="MNIST 28x28 handwritten digits, 60000 train / 10000 test, official IDX files",
        )
    )
