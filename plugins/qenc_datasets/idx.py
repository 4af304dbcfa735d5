"""The IDX file format of MNIST and Fashion-MNIST, and the datasets made of four IDX files.

Layout (http://yann.lecun.com/exdb/mnist/): a big-endian header of a 4-byte magic number
(two zero bytes, a type code, the number of dimensions) and one big-endian uint32 per
dimension, then the data, row-major. Only unsigned-byte data (type 0x08) is read.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from qenc_bench import DATA_ENV, DataError, Dataset, RawDataset

from .download import BASE_URLS, Download, RemoteFile, checked_data_dir, ensure_cached
from .subset import SubsetManifest, read_subset_manifest

UBYTE_IMAGES = 0x00000803  # unsigned bytes, 3 dimensions (N, rows, cols)
UBYTE_LABELS = 0x00000801  # unsigned bytes, 1 dimension (N,)
_KINDS = {UBYTE_IMAGES: "ubyte images, 3 dims", UBYTE_LABELS: "ubyte labels, 1 dim"}

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
IDX_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

DIGIT_NAMES = tuple(str(d) for d in range(10))

#: md5 of the decompressed official MNIST files
MNIST_MD5 = {
    TRAIN_IMAGES: "6bbc9ace898e44ae57da46a324031adb",
    TRAIN_LABELS: "a25bea736e30d166cdddb491f175f624",
    TEST_IMAGES: "2646ac647ad5339dbf082846283269ea",
    TEST_LABELS: "27ae3e4e09519cfbb04c329615203637",
}

#: md5 of the gzipped MNIST files on the mirror torchvision uses (BASE_URLS["mnist"])
MNIST_GZ_MD5 = {
    TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    TRAIN_LABELS: "d53e105ee54ea40749a09fcbcd1e9432",
    TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
    TEST_LABELS: "ec29112dd5afa0611ce80d1b7f02629c",
}

FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

#: md5 of the gzipped official Fashion-MNIST files (BASE_URLS["fashion-mnist"]); the
#: decompressed bytes are not checked at load time
FASHION_GZ_MD5 = {
    TRAIN_IMAGES: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    TRAIN_LABELS: "25c81989df183df01b3e8a0aad5dffbe",
    TEST_IMAGES: "bef4ecab320f06d8554ea6380940ec79",
    TEST_LABELS: "bb300cfdad3c16e7a12a480ee83cd310",
}


def _describe(magic: int) -> str:
    return f"0x{magic:08x} ({_KINDS[magic]})"


def read_bytes(path: Path) -> bytes:
    """The file's contents, decompressed when its name ends in ``.gz``.

    :raises DataError: the file does not exist, cannot be read, or is not a complete gzip stream.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if path.suffix != ".gz":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(
            f"{path}: truncated or corrupt gzip stream ({exc}); re-download the file"
        ) from None


def _parse_header(data: bytes, path: Path, magic: int | None) -> tuple[int, tuple[int, ...]]:
    """The magic number and the dimensions; the magic must be ``magic`` (or a known one)."""
    if len(data) < 4:
        raise DataError(
            f"{path}: {len(data)} bytes, too short for an IDX header; re-download the file"
        )
    found = int.from_bytes(data[:4], "big")
    accepted = (magic,) if magic is not None else tuple(_KINDS)
    if found not in accepted:
        wanted = " or ".join(_describe(m) for m in accepted)
        raise DataError(
            f"{path}: not an IDX file of the expected kind: magic 0x{found:08x}, expected {wanted}"
        )
    ndim = found & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(
            f"{path}: truncated IDX header ({len(data)} bytes, expected {header}); "
            f"re-download the file"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    return found, dims


def read_idx(
    path: str | Path, *, magic: int | None = None, md5: str | Sequence[str] | None = None
) -> np.ndarray:
    """An unsigned-byte IDX file (gzipped if its name ends in ``.gz``) as a uint8 array.

    :param magic: the magic number required (:data:`UBYTE_IMAGES` or :data:`UBYTE_LABELS`);
        default either.
    :param md5: the expected md5 (hex) of the decompressed bytes, or the accepted ones (the
        official one and a subset's); default not checked.
    :raises DataError: the file is missing, truncated, has trailing bytes, has another magic
        number or another checksum. Nothing is returned unless the whole file is valid.
    """
    path = Path(path)
    data = read_bytes(path)
    _, dims = _parse_header(data, path, magic)
    offset = 4 + 4 * len(dims)
    expected, found = int(np.prod(dims, dtype=np.int64)), len(data) - offset
    shape = "x".join(map(str, dims))
    if found < expected:
        raise DataError(
            f"{path}: truncated: the header declares {shape} = {expected} bytes of data, "
            f"the file has {found}; re-download the file"
        )
    if found > expected:
        raise DataError(
            f"{path}: {found - expected} trailing bytes after the {expected} bytes of data "
            f"the header declares ({shape}); the file is corrupt, re-download it"
        )
    accepted = (md5,) if isinstance(md5, str) else tuple(md5 or ())
    if accepted:
        digest = hashlib.md5(data).hexdigest()
        if digest not in accepted:
            raise DataError(
                f"{path}: checksum mismatch (md5 of the decompressed bytes is {digest}, expected "
                f"{' or '.join(accepted)}); the file is corrupt or not the official release; re-download it"
            )
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims).copy()


class IdxDataset(Dataset):
    """A dataset shipped as the four official IDX files (MNIST, Fashion-MNIST).

    The files are looked for in ``data_dir/<folder>/``, then in ``data_dir/<alias>/`` for each
    alias, then (if ``search_data_dir``) directly in ``data_dir``, each either gzipped (``.gz``)
    or plain. A data directory that holds none of them is skipped: the files come from the
    cache, downloaded into it if ``downloads`` are given (see :mod:`qenc_datasets.download`).
    A data directory that holds some but not all of them is an error that names the missing one.

    A folder with a ``SUBSET.json`` manifest (:mod:`qenc_datasets.subset`) holds a declared
    subset: a file there may match the manifest's md5 instead of the official one, and the
    dataset's ``notes["subset"]`` says that the samples are a subset.

    :param name: the dataset's name, for messages and the :class:`RawDataset`.
    :param folder: the sub-folder of the data directory (and of the cache) that holds the files.
    :param class_names: name of each label value.
    :param md5: official md5 of each file's decompressed bytes, by file name (without ``.gz``);
        files not listed are not checked.
    :param image_shape: the (rows, cols) every image must have.
    :param aliases: other sub-folders accepted in a data directory (e.g. ``FashionMNIST/raw``).
    :param search_data_dir: also look directly in the data directory.
    :param downloads: the ``.gz`` files to download into the cache when no data directory
        holds the files; empty: no download.
    """

    def __init__(
        self,
        name: str,
        folder: str,
        class_names: Sequence[str],
        md5: Mapping[str, str] | None = None,
        image_shape: tuple[int, int] = (28, 28),
        *,
        aliases: Sequence[str] = (),
        search_data_dir: bool = True,
        downloads: Sequence[RemoteFile] = (),
    ) -> None:
        self.name = name
        self.folder = folder
        self.class_names = tuple(class_names)
        self.md5 = dict(md5 or {})
        self.image_shape = tuple(image_shape)
        self.aliases = tuple(aliases)
        self.search_data_dir = search_data_dir
        self.downloads = tuple(downloads)
        self.files = tuple(f"{folder}/{f}.gz" for f in IDX_FILES)

    def __repr__(self) -> str:
        return f"IdxDataset(name={self.name!r}, folder={self.folder!r})"

    def load(self, data_dir: Path | None) -> RawDataset:
        """Read, validate and checksum the four files; splits ``train`` and ``test``.

        :raises DataError: no files in the data directory nor in the cache and no download,
            a file missing, truncated or corrupt, or files that do not match each other.
        """
        searched: tuple[Path, ...] = ()
        if data_dir is not None:
            data_dir = checked_data_dir(data_dir, f"{self.folder}/")
            searched = self._folders(data_dir)
            if not self.downloads or any(self._candidates(f, searched) for f in IDX_FILES):
                return self._read(searched)
        if not self.downloads:
            listed = ", ".join(f"{f}.gz" for f in IDX_FILES)
            raise DataError(
                f"dataset {self.name!r} needs its IDX files; pass --data-dir DIR or set {DATA_ENV}, "
                f"with the four files in DIR/{self.folder}/ ({listed})"
            )
        return self._read((ensure_cached(self.download, searched),))

    @property
    def download(self) -> Download:
        """Where the cache gets the files from."""
        return Download(
            dataset=self.name,
            folder=self.folder,
            files=tuple(f"{f}.gz" for f in IDX_FILES),
            remote=self.downloads,
        )

    def _folders(self, data_dir: Path) -> tuple[Path, ...]:
        """The folders of ``data_dir`` that may hold the files, in order of preference."""
        folders = tuple(data_dir / f for f in (self.folder, *self.aliases))
        return folders + (data_dir,) if self.search_data_dir else folders

    @staticmethod
    def _candidates(file: str, folders: Sequence[Path]) -> list[Path]:
        """The existing copies of ``file`` (gzipped first) in ``folders``, in order."""
        return [c for folder in folders for c in (folder / f"{file}.gz", folder / file) if c.is_file()]

    def _read(self, folders: Sequence[Path]) -> RawDataset:
        paths = {f: self._find(folders, f) for f in IDX_FILES}
        manifests = {p.parent: read_subset_manifest(p.parent) for p in paths.values()}
        splits = {
            "train": self._split(paths[TRAIN_IMAGES], paths[TRAIN_LABELS], manifests),
            "test": self._split(paths[TEST_IMAGES], paths[TEST_LABELS], manifests),
        }
        declared = {m.path: m for p in paths.values() if (m := manifests[p.parent]) and _base(p) in m.md5}
        notes = {}
        if declared:
            sizes = {split: len(y) for split, (_, y) in splits.items()}
            notes["subset"] = "; ".join(declared[path].note(sizes) for path in sorted(declared))
        used = sorted({str(p.parent) for p in paths.values()})
        return RawDataset(
            name=self.name,
            splits=splits,
            class_names=self.class_names,
            max_value=255.0,
            modality="image",
            source=", ".join(used),
            notes=notes,
        )

    def _accepted_md5(self, path: Path, manifests: Mapping[Path, SubsetManifest | None]) -> tuple[str, ...]:
        """The official md5 of the file, and its subset manifest's, if any."""
        name = _base(path)
        manifest = manifests.get(path.parent)
        listed = manifest.md5.get(name) if manifest is not None else None
        return tuple(m for m in (self.md5.get(name), listed) if m)

    def _find(self, folders: Sequence[Path], file: str) -> Path:
        """The first of ``file.gz`` / ``file`` in ``folders``."""
        found = self._candidates(file, folders)
        if found:
            return found[0]
        searched = " and ".join(str(f) for f in folders)
        raise DataError(
            f"dataset {self.name!r}: {file}.gz (or {file}) not found in {searched}; "
            f"put the official file in {folders[0]}"
        )

    def _split(
        self, images_path: Path, labels_path: Path, manifests: Mapping[Path, SubsetManifest | None]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Images (N, rows, cols) uint8 and labels (N,) int64, checked against each other."""
        images = read_idx(images_path, magic=UBYTE_IMAGES, md5=self._accepted_md5(images_path, manifests))
        labels = read_idx(labels_path, magic=UBYTE_LABELS, md5=self._accepted_md5(labels_path, manifests))
        if images.shape[1:] != self.image_shape:
            rows, cols = self.image_shape
            raise DataError(
                f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, "
                f"dataset {self.name!r} expects {rows}x{cols}"
            )
        if len(images) != len(labels):
            raise DataError(
                f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels; "
                f"the two files do not belong together"
            )
        if len(labels) and int(labels.max()) >= len(self.class_names):
            raise DataError(
                f"{labels_path}: label {int(labels.max())} is out of range for the "
                f"{len(self.class_names)} classes of {self.name!r}"
            )
        return images, labels.astype(np.int64)


def _base(path: Path) -> str:
    """The official file name: ``path``'s name without ``.gz``."""
    return path.name.removesuffix(".gz")


def idx_downloads(family: str, gz_md5: Mapping[str, str]) -> tuple[RemoteFile, ...]:
    """The four ``.gz`` files at ``BASE_URLS[family]`` with their md5s."""
    base = BASE_URLS[family]
    return tuple(RemoteFile(f"{f}.gz", f"{base}{f}.gz", md5=gz_md5[f]) for f in IDX_FILES)


def mnist() -> IdxDataset:
    """MNIST: 28x28 handwritten digits, 60000 train and 10000 test, official md5s checked.

    Also found in ``DIR/MNIST/raw/`` (torchvision's layout); downloaded when absent.
    """
    return IdxDataset(
        name="mnist", folder="mnist", class_names=DIGIT_NAMES, md5=MNIST_MD5,
        aliases=("MNIST/raw",), downloads=idx_downloads("mnist", MNIST_GZ_MD5),
    )


def fashion_mnist() -> IdxDataset:
    """Fashion-MNIST: 28x28 images of 10 kinds of clothing, 60000 train and 10000 test.

    Looked for in ``DIR/fashion-mnist/``, ``DIR/fashion_mnist/`` and ``DIR/FashionMNIST/raw/``
    (torchvision's layout), never directly in ``DIR``: its file names are MNIST's, and MNIST
    files there must not pass for Fashion-MNIST. The published md5s are of the ``.gz`` files,
    so they are checked when downloading, not on files given in a data directory.
    """
    return IdxDataset(
        name="fashion-mnist", folder="fashion-mnist", class_names=FASHION_NAMES,
        aliases=("fashion_mnist", "FashionMNIST/raw"), search_data_dir=False,
        downloads=idx_downloads("fashion-mnist", FASHION_GZ_MD5),
    )
