"""First-party datasets: scikit-learn's bundled ``digits`` and ``breast-cancer``, MNIST and
Fashion-MNIST (IDX files), CIFAR-10 (binary batches) and the twelve 2D MedMNIST sets (npz files).

File-based datasets are read from the data directory, else from the user cache, downloading
into it through pooch when possible (:mod:`qenc_datasets.download`). A folder with a
``SUBSET.json`` manifest holds a declared subset (:mod:`qenc_datasets.subset`).
"""

from __future__ import annotations

from functools import partial

from qenc_bench import DatasetSpec, hookimpl

from .cifar import Cifar10Dataset, read_cifar_batch
from .digits import DigitsDataset
from .download import RemoteFile, cache_dir
from .idx import IdxDataset, fashion_mnist, mnist, read_idx
from .medmnist import MEDMNIST_2D, MedMnistDataset, read_medmnist_npz
from .subset import SubsetManifest, read_subset_manifest
from .tabular import BreastCancerDataset

__all__ = [
    "MEDMNIST_2D",
    "BreastCancerDataset",
    "Cifar10Dataset",
    "DigitsDataset",
    "IdxDataset",
    "MedMnistDataset",
    "RemoteFile",
    "SubsetManifest",
    "cache_dir",
    "fashion_mnist",
    "mnist",
    "read_cifar_batch",
    "read_idx",
    "read_medmnist_npz",
    "read_subset_manifest",
]


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
    register(
        DatasetSpec(
            name="fashion-mnist",
            factory=fashion_mnist,
            description="Fashion-MNIST 28x28 clothing images, 10 classes, 60000 train / 10000 test, IDX files",
        )
    )
    register(
        DatasetSpec(
            name="cifar10",
            factory=Cifar10Dataset,
            description="CIFAR-10 32x32 RGB photos, 10 classes, 50000 train / 10000 test, binary batches",
        )
    )
    for info in MEDMNIST_2D.values():
        register(DatasetSpec(name=info.flag, factory=partial(MedMnistDataset, info.flag), description=info.description))
    register(
        DatasetSpec(
            name="breast-cancer",
            factory=BreastCancerDataset,
            description="scikit-learn's Wisconsin breast cancer table, 569 x 30 features, 2 classes, bundled",
            modality="tabular",
        )
    )
