"""CIFAR-10 in its official *binary* format (``cifar-10-batches-bin``); nothing is unpickled.

Layout (https://www.cs.toronto.edu/~kriz/cifar.html): each batch file is a sequence of
3073-byte records, one label byte (0-9) then 3072 pixel bytes: 1024 red, 1024 green, 1024
blue, each a 32x32 plane stored row by row. ``batches.meta.txt`` names the classes, one a line.

Splits: ``train`` is made of whichever of ``data_batch_1.bin`` .. ``data_batch_5.bin`` exist,
``test`` is ``test_batch.bin``. When only one kind exists (e.g. a folder with the test batch
alone, as in small test fixtures), that file is the dataset's only pool, returned as
``train`` with nothing else, so :func:`qenc_bench.data.prepare` carves train, validation and
test out of it; ``RawDataset.notes`` says so (``"pool"``), because such results are not
comparable with results on the official split. The alternative, refusing to run, would make
a quick look at a subset impossible; quoting its numbers as CIFAR-10 results is the user's
mistake to avoid, and the note is there to make it visible.

Without a data directory that holds the batches, the official archive
``cifar-10-binary.tar.gz`` is downloaded into the cache, checked against its md5 and its
seven files copied out one by one; nothing is written from the archive's own paths, and an
archive with absolute paths, ``..``, links or devices is refused as a whole.
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from qenc_bench import DataError, Dataset, RawDataset

from .download import BASE_URLS, Download, RemoteFile, checked_data_dir, ensure_cached

FOLDER = "cifar-10-batches-bin"
SIDE = 32
RECORD = 1 + 3 * SIDE * SIDE  # label byte + R, G, B planes
TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = "test_batch.bin"
META = "batches.meta.txt"
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

ARCHIVE = "cifar-10-binary.tar.gz"
ARCHIVE_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"


def read_cifar_batch(path: str | Path, n_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch as images (N, 32, 32, 3) uint8 and labels (N,) int64.

    :raises DataError: the file is missing, empty, not a whole number of 3073-byte records,
        or has a label outside ``0..n_classes-1``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data or len(data) % RECORD:
        raise DataError(
            f"{path}: {len(data)} bytes is not a whole number of CIFAR-10 records "
            f"({RECORD} bytes: 1 label byte and 3072 pixel bytes); the file is truncated or not "
            f"a CIFAR-10 binary batch (CIFAR-100 records are 3074 bytes); re-download it"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    labels = records[:, 0].astype(np.int64)
    if int(labels.max()) >= n_classes:
        bad = int(np.argmax(labels >= n_classes))
        raise DataError(
            f"{path}: record {bad} has label {int(labels[bad])}, outside 0..{n_classes - 1}; "
            f"the file is corrupt or not a CIFAR-10 batch"
        )
    images = records[:, 1:].reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1).copy()
    return images, labels


def read_class_names(path: Path) -> tuple[str, ...]:
    """The non-empty lines of ``batches.meta.txt``; there must be 10.

    :raises DataError: not 10 names, or not text.
    """
    try:
        names = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read as text ({exc})") from None
    if len(names) != len(CIFAR10_NAMES):
        raise DataError(f"{path}: {len(names)} class names, CIFAR-10 has {len(CIFAR10_NAMES)}")
    return names


def extract_archive(fetched: dict[str, Path], out: Path) -> None:
    """Copy the seven files of ``cifar-10-batches-bin/`` out of the official archive into ``out``.

    Only regular files with the expected names are read; nothing is written from the
    archive's own paths.

    :raises DataError: the archive is corrupt, lacks a file, or has a member with an absolute
        path, ``..``, a link or a device (not what the official archive contains).
    """
    archive = fetched[ARCHIVE]
    wanted = {f"{FOLDER}/{name}": name for name in (*TRAIN_BATCHES, TEST_BATCH, META)}
    found = set()
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                path = PurePosixPath(member.name)
                if not (member.isfile() or member.isdir()):
                    unsafe = "a link or a device"
                elif path.is_absolute() or ".." in path.parts:
                    unsafe = "a path outside the archive"
                else:
                    unsafe = ""
                if unsafe:
                    raise DataError(
                        f"{archive}: refused: member {member.name!r} is {unsafe}; "
                        f"this is not the official CIFAR-10 archive"
                    )
                name = wanted.get(str(path))
                if name is None or not member.isfile():
                    continue
                source = tar.extractfile(member)
                with source, (out / name).open("wb") as target:
                    while chunk := source.read(1 << 20):
                        target.write(chunk)
                found.add(name)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise DataError(f"{archive}: corrupt tar.gz archive ({exc}); re-download it") from None
    missing = sorted(set(wanted.values()) - found)
    if missing:
        raise DataError(f"{archive}: {FOLDER}/{', '.join(missing)} not in the archive")


class Cifar10Dataset(Dataset):
    """CIFAR-10 from the binary batches in ``DIR/cifar-10-batches-bin/`` (or directly in ``DIR``).

    Class names come from ``batches.meta.txt`` when present, else the official ten.
    """

    files = tuple(f"{FOLDER}/{name}" for name in (*TRAIN_BATCHES, TEST_BATCH, META))

    @property
    def download(self) -> Download:
        return Download(
            dataset="cifar10",
            folder=FOLDER,
            files=(*TRAIN_BATCHES, TEST_BATCH, META),
            remote=(RemoteFile(ARCHIVE, f"{BASE_URLS['cifar10']}{ARCHIVE}", md5=ARCHIVE_MD5),),
            unpack=extract_archive,
        )

    def load(self, data_dir: Path | None) -> RawDataset:
        """The batches found in the data directory, else in the cache (downloaded if needed).

        :raises DataError: no batch anywhere and no download, or a batch that is corrupt.
        """
        searched: tuple[Path, ...] = ()
        if data_dir is not None:
            data_dir = checked_data_dir(data_dir, f"{FOLDER}/")
            searched = (data_dir / FOLDER, data_dir)
            for folder in searched:
                if any((folder / name).is_file() for name in (*TRAIN_BATCHES, TEST_BATCH)):
                    return self._read(folder)
        return self._read(ensure_cached(self.download, searched))

    def _read(self, folder: Path) -> RawDataset:
        meta = folder / META
        class_names = read_class_names(meta) if meta.is_file() else CIFAR10_NAMES
        n = len(class_names)
        train_files = [folder / name for name in TRAIN_BATCHES if (folder / name).is_file()]
        test_file = folder / TEST_BATCH
        notes: dict[str, str] = {}
        splits = {}
        if train_files:
            parts = [read_cifar_batch(p, n) for p in train_files]
            splits["train"] = (np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts]))
            if len(train_files) < len(TRAIN_BATCHES):
                notes["train_batches"] = ", ".join(p.name for p in train_files)
        if test_file.is_file():
            test = read_cifar_batch(test_file, n)
            if train_files:
                splits["test"] = test
            else:
                splits["train"] = test
                notes["pool"] = (
                    f"no training batches (data_batch_1..5.bin) in {folder}: {TEST_BATCH} is the only pool, "
                    f"split into train, validation and test; not the official CIFAR-10 split"
                )
        elif train_files:
            notes["pool"] = (
                f"no {TEST_BATCH} in {folder}: the training batches are the only pool, split into "
                f"train, validation and test; not the official CIFAR-10 split"
            )
        return RawDataset(
            name="cifar10",
            splits=splits,
            class_names=class_names,
            max_value=255.0,
            modality="image",
            source=str(folder),
            notes=notes,
        )
