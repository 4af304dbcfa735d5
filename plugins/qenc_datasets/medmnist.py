"""The 2D MedMNIST datasets (v2/v3, 28x28) from their official ``<flag>.npz`` files.

A MedMNIST npz holds six arrays: ``train_images``, ``train_labels``, ``val_images``,
``val_labels``, ``test_images``, ``test_labels``; images are uint8, ``(N, 28, 28)`` grey or
``(N, 28, 28, 3)`` RGB, labels ``(N, 1)``. It is read with numpy alone and
``allow_pickle=False``; the official splits are kept (``train``, ``val``, ``test``).

:data:`MEDMNIST_2D` lists the single-label 2D sets (multi-class or binary) with their class
names; the multi-label ChestMNIST and the ordinal RetinaMNIST are left out. Files are looked
for in ``DIR/<flag>/<flag>.npz`` and ``DIR/<flag>.npz``, then in the cache. A download needs
an address and an md5: from the optional ``medmnist`` package (``INFO``) when it is installed,
imported only then because importing it loads torch and creates ``~/.medmnist``; else from
this table, which has the md5s of PneumoniaMNIST and BreastMNIST only. For the others, without
the package, the error says which file to put where.
"""

from __future__ import annotations

import importlib.util
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qenc_bench import Dataset, RawDataset
from qenc_bench.errors import DataError

from .download import BASE_URLS, Download, RemoteFile, cached, checked_data_dir, ensure_cached

SPLITS = ("train", "val", "test")
KEYS = tuple(f"{split}_{kind}" for split in SPLITS for kind in ("images", "labels"))
RECORD_URL = "https://zenodo.org/records/10519652"

_ORGANS = ("bladder", "femur-left", "femur-right", "heart", "kidney-left", "kidney-right",
           "liver", "lung-left", "lung-right", "pancreas", "spleen")


@dataclass(frozen=True)
class MedMnistInfo:
    """One MedMNIST 2D dataset.

    :param flag: its name in MedMNIST (and in qenc-bench), also the npz file's stem.
    :param title: its name as published.
    :param about: what the images show, for the one-line description.
    :param class_names: name of each label value, as in MedMNIST's ``INFO``.
    :param rgb: colour images ``(N, H, W, 3)``, else grey ``(N, H, W)``.
    :param sizes: the official (train, val, test) sizes.
    :param md5: md5 of the official 28x28 npz on Zenodo, when built in.
    """

    flag: str
    title: str
    about: str
    class_names: tuple[str, ...]
    rgb: bool
    sizes: tuple[int, int, int]
    md5: str | None = None

    @property
    def description(self) -> str:
        train, val, test = self.sizes
        colour = "RGB" if self.rgb else "grey"
        return (f"{self.title} (MedMNIST): 28x28 {colour} {self.about}, {len(self.class_names)} classes, "
                f"official npz, train/val/test {train}/{val}/{test}")


MEDMNIST_2D: dict[str, MedMnistInfo] = {
    info.flag: info
    for info in (
        MedMnistInfo("pathmnist", "PathMNIST", "colon pathology patches",
                     ("adipose", "background", "debris", "lymphocytes", "mucus", "smooth muscle",
                      "normal colon mucosa", "cancer-associated stroma",
                      "colorectal adenocarcinoma epithelium"),
                     rgb=True, sizes=(89996, 10004, 7180)),
        MedMnistInfo("dermamnist", "DermaMNIST", "dermatoscopic images",
                     ("actinic keratoses and intraepithelial carcinoma", "basal cell carcinoma",
                      "benign keratosis-like lesions", "dermatofibroma", "melanoma",
                      "melanocytic nevi", "vascular lesions"),
                     rgb=True, sizes=(7007, 1003, 2005)),
        MedMnistInfo("octmnist", "OCTMNIST", "retinal OCT scans",
                     ("choroidal neovascularization", "diabetic macular edema", "drusen", "normal"),
                     rgb=False, sizes=(97477, 10832, 1000)),
        MedMnistInfo("pneumoniamnist", "PneumoniaMNIST", "paediatric chest X-rays",
                     ("normal", "pneumonia"),
                     rgb=False, sizes=(4708, 524, 624), md5="28209eda62fecd6e6a2d98b1501bb15f"),
        MedMnistInfo("breastmnist", "BreastMNIST", "breast ultrasound",
                     ("malignant", "normal, benign"),
                     rgb=False, sizes=(546, 78, 156), md5="750601b1f35ba3300ea97c75c52ff8f6"),
        MedMnistInfo("bloodmnist", "BloodMNIST", "blood cell microscopy",
                     ("basophil", "eosinophil", "erythroblast",
                      "immature granulocytes(myelocytes, metamyelocytes and promyelocytes)",
                      "lymphocyte", "monocyte", "neutrophil", "platelet"),
                     rgb=True, sizes=(11959, 1712, 3421)),
        MedMnistInfo("tissuemnist", "TissueMNIST", "kidney cortex cell microscopy",
                     ("Collecting Duct, Connecting Tubule", "Distal Convoluted Tubule",
                      "Glomerular endothelial cells", "Interstitial endothelial cells", "Leukocytes",
                      "Podocytes", "Proximal Tubule Segments", "Thick Ascending Limb"),
                     rgb=False, sizes=(165466, 23640, 47280)),
        MedMnistInfo("organamnist", "OrganAMNIST", "abdominal CT, axial", _ORGANS,
                     rgb=False, sizes=(34581, 6491, 17778)),
        MedMnistInfo("organcmnist", "OrganCMNIST", "abdominal CT, coronal", _ORGANS,
                     rgb=False, sizes=(13000, 2392, 8268)),
        MedMnistInfo("organsmnist", "OrganSMNIST", "abdominal CT, sagittal", _ORGANS,
                     rgb=False, sizes=(13940, 2452, 8829)),
    )
}


def read_medmnist_npz(path: str | Path, info: MedMnistInfo) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The three official splits of a MedMNIST npz, labels flattened to (N,) int64.

    :raises DataError: the file is missing, truncated or corrupt, lacks one of the six arrays,
        or holds arrays of the wrong dtype or shape, or labels out of range.
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:  # np.load leaks its own handle when the zip is corrupt
            arrays = _read_arrays(path, stream)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{path}: truncated or corrupt npz file ({exc}); re-download it") from None
    splits = {split: _check_split(path, info, split, arrays) for split in SPLITS}
    shapes = {x.shape[1:] for x, _ in splits.values()}
    if len(shapes) > 1:
        raise DataError(f"{path}: the splits have images of different shapes {sorted(shapes)}")
    return splits


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
    if labels.ndim not in (1, 2) or (labels.ndim == 2 and labels.shape[1] != 1):
        raise DataError(
            f"{path}: {split}_labels has shape {labels.shape}, expected (N, 1) single labels "
            f"(multi-label MedMNIST sets are not supported)"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: {split}_labels has dtype {labels.dtype}, expected integers")
    labels = labels.reshape(-1).astype(np.int64)
    if len(labels) != len(images):
        raise DataError(f"{path}: {len(images)} {split}_images but {len(labels)} {split}_labels")
    n = len(info.class_names)
    if len(labels) and (labels.min() < 0 or labels.max() >= n):
        raise DataError(
            f"{path}: {split}_labels has values {labels.min()}..{labels.max()}, "
            f"{info.flag} has classes 0..{n - 1}"
        )
    return images, labels


def _medmnist_package_info(flag: str) -> dict | None:
    """The ``medmnist`` package's ``INFO[flag]`` when the package is installed, else None."""
    if importlib.util.find_spec("medmnist") is None:
        return None
    try:
        from medmnist.info import INFO
    except ImportError:
        return None
    return INFO.get(flag)


class MedMnistDataset(Dataset):
    """One MedMNIST 2D dataset of :data:`MEDMNIST_2D`, with its official splits.

    :param flag: the dataset's MedMNIST name, e.g. ``"pneumoniamnist"``.
    """

    def __init__(self, flag: str) -> None:
        if flag not in MEDMNIST_2D:
            raise ValueError(f"{flag!r} is not a MedMNIST 2D dataset; known: {', '.join(MEDMNIST_2D)}")
        self.info = MEDMNIST_2D[flag]
        self.file = f"{flag}.npz"
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
        folder = cached(Download(flag, flag, (self.file,))) or ensure_cached(self.download(), searched)
        return self._read(folder / self.file)

    def download(self) -> Download:
        """Where the file comes from: the ``medmnist`` package's address and md5, else the
        built-in md5 and Zenodo, else nowhere (the error then says where to put the file)."""
        flag = self.info.flag
        package = _medmnist_package_info(flag)
        if package is not None and package.get("url") and package.get("MD5"):
            remote = (RemoteFile(self.file, package["url"], md5=package["MD5"]),)
        elif self.info.md5 is not None:
            remote = (RemoteFile(self.file, f"{BASE_URLS['medmnist']}{self.file}?download=1", md5=self.info.md5),)
        else:
            remote = ()
        unavailable = (
            f"it is not downloaded: without the medmnist package (pip install 'qenc-bench[medmnist]') "
            f"no md5 for {self.file} is known; the file is at {RECORD_URL}"
        )
        return Download(flag, flag, (self.file,), remote=remote, unavailable=unavailable)

    def _read(self, path: Path) -> RawDataset:
        splits = read_medmnist_npz(path, self.info)
        notes = {}
        differ = [
            f"{split} has {len(splits[split][1])} samples, the official release {official}"
            for split, official in zip(SPLITS, self.info.sizes)
            if len(splits[split][1]) != official
        ]
        if differ:
            notes["splits"] = "; ".join(differ) + ": not the official split"
        return RawDataset(
            name=self.info.flag,
            splits=splits,
            class_names=self.info.class_names,
            max_value=255.0,
            modality="image",
            source=str(path),
            notes=notes,
        )
