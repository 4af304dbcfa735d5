"""The twelve 2D MedMNIST datasets (v2/v3, 28x28) from their official ``<flag>.npz`` files.

A MedMNIST npz holds six arrays: ``train_images``, ``train_labels``, ``val_images``,
``val_labels``, ``test_images``, ``test_labels``; images are uint8, ``(N, 28, 28)`` grey or
``(N, 28, 28, 3)`` RGB, labels ``(N, 1)`` (``(N, 14)`` 0/1 findings for the multi-label
ChestMNIST). It is read with numpy alone and ``allow_pickle=False``; the official splits are
kept (``train``, ``val``, ``test``).

:data:`MEDMNIST_2D` lists every 2D set with its class names, official split sizes, Zenodo
address and md5, as in the ``INFO`` table of the ``medmnist`` package (3.0.2), vendored here so
that no set needs that package (which needs torch, and creates ``~/.medmnist`` on import).
Files are looked for in ``DIR/<flag>/<flag>.npz`` and ``DIR/<flag>.npz``, then in the cache,
then downloaded into it (:mod:`qenc_datasets.download`).

ChestMNIST is multi-label (14 findings, any number per image): the benchmark classifies one
label per sample, so only the samples with exactly one finding are kept, labelled by it, and
the dataset's notes say how many. RetinaMNIST's five labels are ordinal grades, used as classes.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qenc_bench import DataError, Dataset, RawDataset

from .download import BASE_URLS, Download, RemoteFile, checked_data_dir, ensure_cached
from .subset import read_subset_manifest

SPLITS = ("train", "val", "test")
KEYS = tuple(f"{split}_{kind}" for split in SPLITS for kind in ("images", "labels"))
RECORD_URL = "https://zenodo.org/records/10519652"
MULTI_LABEL = "multi-label, binary-class"

_ORGANS = ("bladder", "femur-left", "femur-right", "heart", "kidney-left", "kidney-right",
           "liver", "lung-left", "lung-right", "pancreas", "spleen")


@dataclass(frozen=True)
class MedMnistInfo:
    """One MedMNIST 2D dataset, as in the ``medmnist`` package's ``INFO``.

    :param flag: its name in MedMNIST (and in qenc-bench), also the npz file's stem.
    :param title: its name as published.
    :param about: what the images show, for the one-line description.
    :param class_names: name of each label value (``INFO[flag]["label"]``).
    :param rgb: colour images ``(N, H, W, 3)``, else grey ``(N, H, W)``.
    :param sizes: the official (train, val, test) sizes.
    :param md5: md5 of the official 28x28 npz on Zenodo.
    :param task: MedMNIST's task: ``multi-class``, ``binary-class``, ``ordinal-regression`` or
        ``multi-label, binary-class``.
    :param licence: the licence of the data.
    """

    flag: str
    title: str
    about: str
    class_names: tuple[str, ...]
    rgb: bool
    sizes: tuple[int, int, int]
    md5: str
    task: str
    licence: str = "CC BY 4.0"

    @property
    def file(self) -> str:
        return f"{self.flag}.npz"

    @property
    def url(self) -> str:
        """The official 28x28 file on Zenodo."""
        return f"{BASE_URLS['medmnist']}{self.file}?download=1"

    @property
    def multi_label(self) -> bool:
        return self.task == MULTI_LABEL

    @property
    def description(self) -> str:
        train, val, test = self.sizes
        colour = "RGB" if self.rgb else "grey"
        n = len(self.class_names)
        kind = {
            MULTI_LABEL: f"{n} findings, multi-label: the samples with exactly one are kept",
            "ordinal-regression": f"{n} ordinal grades as classes",
        }.get(self.task, f"{n} classes")
        return (f"{self.title} (MedMNIST): 28x28 {colour} {self.about}, {kind}, official npz, "
                f"train/val/test {train}/{val}/{test}, {self.licence}")


MEDMNIST_2D: dict[str, MedMnistInfo] = {
    info.flag: info
    for info in (
        MedMnistInfo("pathmnist", "PathMNIST", "colon pathology patches",
                     ("adipose", "background", "debris", "lymphocytes", "mucus", "smooth muscle",
                      "normal colon mucosa", "cancer-associated stroma",
                      "colorectal adenocarcinoma epithelium"),
                     rgb=True, sizes=(89996, 10004, 7180), md5="a8b06965200029087d5bd730944a56c1",
                     task="multi-class"),
        MedMnistInfo("chestmnist", "ChestMNIST", "chest X-rays (NIH ChestX-ray14)",
                     ("atelectasis", "cardiomegaly", "effusion", "infiltration", "mass", "nodule",
                      "pneumonia", "pneumothorax", "consolidation", "edema", "emphysema", "fibrosis",
                      "pleural", "hernia"),
                     rgb=False, sizes=(78468, 11219, 22433), md5="02c8a6516a18b556561a56cbdd36c4a8",
                     task=MULTI_LABEL),
        MedMnistInfo("dermamnist", "DermaMNIST", "dermatoscopic images",
                     ("actinic keratoses and intraepithelial carcinoma", "basal cell carcinoma",
                      "benign keratosis-like lesions", "dermatofibroma", "melanoma",
                      "melanocytic nevi", "vascular lesions"),
                     rgb=True, sizes=(7007, 1003, 2005), md5="0744692d530f8e62ec473284d019b0c7",
                     task="multi-class", licence="CC BY-NC 4.0"),
        MedMnistInfo("octmnist", "OCTMNIST", "retinal OCT scans",
                     ("choroidal neovascularization", "diabetic macular edema", "drusen", "normal"),
                     rgb=False, sizes=(97477, 10832, 1000), md5="c68d92d5b585d8d81f7112f81e2d0842",
                     task="multi-class"),
        MedMnistInfo("pneumoniamnist", "PneumoniaMNIST", "paediatric chest X-rays",
                     ("normal", "pneumonia"),
                     rgb=False, sizes=(4708, 524, 624), md5="28209eda62fecd6e6a2d98b1501bb15f",
                     task="binary-class"),
        MedMnistInfo("retinamnist", "RetinaMNIST", "retinal fundus images",
                     ("0", "1", "2", "3", "4"),
                     rgb=True, sizes=(1080, 120, 400), md5="bd4c0672f1bba3e3a89f0e4e876791e4",
                     task="ordinal-regression"),
        MedMnistInfo("breastmnist", "BreastMNIST", "breast ultrasound",
                     ("malignant", "normal, benign"),
                     rgb=False, sizes=(546, 78, 156), md5="750601b1f35ba3300ea97c75c52ff8f6",
                     task="binary-class"),
        MedMnistInfo("bloodmnist", "BloodMNIST", "blood cell microscopy",
                     ("basophil", "eosinophil", "erythroblast",
                      "immature granulocytes(myelocytes, metamyelocytes and promyelocytes)",
                      "lymphocyte", "monocyte", "neutrophil", "platelet"),
                     rgb=True, sizes=(11959, 1712, 3421), md5="7053d0359d879ad8a5505303e11de1dc",
                     task="multi-class"),
        MedMnistInfo("tissuemnist", "TissueMNIST", "kidney cortex cell microscopy",
                     ("Collecting Duct, Connecting Tubule", "Distal Convoluted Tubule",
                      "Glomerular endothelial cells", "Interstitial endothelial cells", "Leukocytes",
                      "Podocytes", "Proximal Tubule Segments", "Thick Ascending Limb"),
                     rgb=False, sizes=(165466, 23640, 47280), md5="ebe78ee8b05294063de985d821c1c34b",
                     task="multi-class"),
        MedMnistInfo("organamnist", "OrganAMNIST", "abdominal CT, axial", _ORGANS,
                     rgb=False, sizes=(34561, 6491, 17778), md5="68e3f8846a6bd62f0c9bf841c0d9eacc",
                     task="multi-class"),
        MedMnistInfo("organcmnist", "OrganCMNIST", "abdominal CT, coronal", _ORGANS,
                     rgb=False, sizes=(12975, 2392, 8216), md5="b9ceb9546e10131b32923c5bbeaea2b1",
                     task="multi-class"),
        MedMnistInfo("organsmnist", "OrganSMNIST", "abdominal CT, sagittal", _ORGANS,
                     rgb=False, sizes=(13932, 2452, 8827), md5="9ab87b696fb54e2a387ebe992d6ed5f1",
                     task="multi-class"),
    )
}


def read_medmnist_npz(path: str | Path, info: MedMnistInfo) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The three official splits of a MedMNIST npz, labels flattened to (N,) int64; for a
    multi-label set, the samples with exactly one finding, labelled by it.

    :raises DataError: the file is missing, truncated or corrupt, lacks one of the six arrays,
        or holds arrays of the wrong dtype or shape, or labels out of range.
    """
    return _read_splits(Path(path), info)[0]


def _read_splits(path: Path, info: MedMnistInfo) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, int]]:
    """The splits, and the number of samples each had in the file (before a multi-label set
    is reduced to its single-label samples)."""
    try:
        with path.open("rb") as stream:  # np.load leaks its own handle when the zip is corrupt
            arrays = _read_arrays(path, stream)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{path}: truncated or corrupt npz file ({exc}); re-download it") from None
    in_file = {split: len(arrays[f"{split}_labels"]) for split in SPLITS}
    splits = {split: _check_split(path, info, split, arrays) for split in SPLITS}
    shapes = {x.shape[1:] for x, _ in splits.values()}
    if len(shapes) > 1:
        raise DataError(f"{path}: the splits have images of different shapes {sorted(shapes)}")
    return splits, in_file


def _read_arrays(path: Path, stream) -> dict[str, np.ndarray]:
    """The six arrays of an open npz file; no pickles."""
    loaded = np.load(stream, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        raise DataError(f"{path}: a single .npy array, not a MedMNIST npz archive with {', '.join(KEYS)}")
    with loaded:
        missing = [k for k in KEYS if k not in loaded.files]
        if missing:
            raise DataError(
                f"{path}: no {', '.join(missing)} in the archive; a MedMNIST npz has {', '.join(KEYS)}"
            )
        return {k: loaded[k] for k in KEYS}


def _check_split(path: Path, info: MedMnistInfo, split: str, arrays: dict) -> tuple[np.ndarray, np.ndarray]:
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if images.dtype != np.uint8:
        raise DataError(f"{path}: {split}_images has dtype {images.dtype}, expected uint8")
    grey_ok = not info.rgb and images.ndim == 3
    rgb_ok = info.rgb and images.ndim == 4 and images.shape[-1] == 3
    if not (grey_ok or rgb_ok):
        expected = "(N, H, W, 3) RGB" if info.rgb else "(N, H, W) grey"
        raise DataError(f"{path}: {split}_images has shape {images.shape}, expected {expected} 2D images")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: {split}_labels has dtype {labels.dtype}, expected integers")
    if len(labels) != len(images):
        raise DataError(f"{path}: {len(images)} {split}_images but {len(labels)} {split}_labels")
    n = len(info.class_names)
    if info.multi_label:
        return _single_finding(path, info, split, images, labels)
    if labels.ndim not in (1, 2) or (labels.ndim == 2 and labels.shape[1] != 1):
        raise DataError(
            f"{path}: {split}_labels has shape {labels.shape}, expected (N, 1) single labels "
            f"({info.flag} is not multi-label)"
        )
    labels = labels.reshape(-1).astype(np.int64)
    if len(labels) and (labels.min() < 0 or labels.max() >= n):
        raise DataError(
            f"{path}: {split}_labels has values {labels.min()}..{labels.max()}, "
            f"{info.flag} has classes 0..{n - 1}"
        )
    return images, labels


def _single_finding(path: Path, info: MedMnistInfo, split: str, images: np.ndarray,
                    labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples of a multi-label split with exactly one finding, labelled by it."""
    n = len(info.class_names)
    if labels.ndim != 2 or labels.shape[1] != n:
        raise DataError(
            f"{path}: {split}_labels has shape {labels.shape}, expected (N, {n}): one 0/1 column per finding"
        )
    if len(labels) and (labels.min() < 0 or labels.max() > 1):
        raise DataError(f"{path}: {split}_labels has values {labels.min()}..{labels.max()}, expected 0 or 1")
    single = labels.sum(axis=1) == 1
    return images[single], np.argmax(labels[single], axis=1).astype(np.int64)


class MedMnistDataset(Dataset):
    """One MedMNIST 2D dataset of :data:`MEDMNIST_2D`, with its official splits.

    A folder with a ``SUBSET.json`` manifest that lists the npz (:mod:`qenc_datasets.subset`)
    holds a declared subset: the file must have the manifest's md5, and the dataset's
    ``notes["subset"]`` says that the samples are a subset.

    :param flag: the dataset's MedMNIST name, e.g. ``"pneumoniamnist"``.
    """

    def __init__(self, flag: str) -> None:
        if flag not in MEDMNIST_2D:
            raise ValueError(f"{flag!r} is not a MedMNIST 2D dataset; known: {', '.join(MEDMNIST_2D)}")
        self.info = MEDMNIST_2D[flag]
        self.file = self.info.file
        self.files = (f"{flag}/{self.file}",)

    def __repr__(self) -> str:
        return f"MedMnistDataset({self.info.flag!r})"

    def load(self, data_dir: Path | None) -> RawDataset:
        """Read ``<flag>.npz`` from the data directory, else the cache (downloaded if possible).

        :raises DataError: the file is nowhere and cannot be downloaded, or it is corrupt.
        """
        flag = self.info.flag
        searched: tuple[Path, ...] = ()
        if data_dir is not None:
            data_dir = checked_data_dir(data_dir, f"{flag}/{self.file}")
            searched = (data_dir / flag, data_dir)
            for folder in searched:
                if (folder / self.file).is_file():
                    return self._read(folder / self.file)
        return self._read(ensure_cached(self.download, searched) / self.file)

    @property
    def download(self) -> Download:
        """The official file on Zenodo, with its md5."""
        remote = (RemoteFile(self.file, self.info.url, md5=self.info.md5),)
        return Download(self.info.flag, self.info.flag, (self.file,), remote=remote)

    def _read(self, path: Path) -> RawDataset:
        notes = {}
        manifest = read_subset_manifest(path.parent)
        if manifest is not None and self.file in manifest.md5:
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            if digest != manifest.md5[self.file]:
                raise DataError(
                    f"{path}: checksum mismatch (md5 is {digest}, {manifest.path} declares "
                    f"{manifest.md5[self.file]}); the file is corrupt or not the subset the manifest describes"
                )
        splits, in_file = _read_splits(path, self.info)
        if manifest is not None and self.file in manifest.md5:
            notes["subset"] = manifest.note({split: len(y) for split, (_, y) in splits.items()})
        differ = [
            f"{split} has {in_file[split]} samples, the official release {official}"
            for split, official in zip(SPLITS, self.info.sizes, strict=True)
            if in_file[split] != official
        ]
        if differ:
            notes["splits"] = "; ".join(differ) + ": not the official split"
        if self.info.multi_label:
            kept = ", ".join(f"{split} {len(splits[split][1])} of {in_file[split]}" for split in SPLITS)
            notes["single_label"] = (
                f"{self.info.flag} is multi-label: only the samples with exactly one finding are kept ({kept}), "
                f"labelled by it; not MedMNIST's multi-label task"
            )
        return RawDataset(
            name=self.info.flag,
            splits=splits,
            class_names=self.info.class_names,
            max_value=255.0,
            modality="image",
            source=str(path),
            notes=notes,
        )
