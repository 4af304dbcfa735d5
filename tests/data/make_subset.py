"""Make the small real test-data subset in tests/data from the full files (../shared/data).

    python tests/data/make_subset.py [--source ../shared/data] [--out tests/data]

MNIST: the first 50 images of each digit in the official train split and the first 25 of each
digit in the official t10k split (so 500 and 250), in their original order, written as IDX
files with the official names, gzipped. PneumoniaMNIST: the first 100 images of each class in
the source's train split, 30 of each in val and 50 of each in test (200, 60 and 100), as a
MedMNIST npz. Each folder gets a SUBSET.json manifest: the indices taken, the size and md5 of
each source, the md5 of each file written. The output is byte-for-byte reproducible (fixed
gzip and zip timestamps), so running this again must leave tests/data unchanged.

Only numpy and the standard library are used: the subset does not depend on the loaders it
tests.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "data"

MNIST_SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 50),
                "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 25)}
#: md5 of the decompressed official MNIST files (http://yann.lecun.com/exdb/mnist/)
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
PNEUMONIA_PER_CLASS = {"train": 100, "val": 30, "test": 50}
PNEUMONIA_OFFICIAL_MD5 = "28209eda62fecd6e6a2d98b1501bb15f"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """The indices of the first ``per_class`` samples of each label, in their original order."""
    chosen = [np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)]
    short = [int(c) for c, idx in zip(np.unique(labels), chosen, strict=True) if len(idx) < per_class]
    if short:
        raise SystemExit(f"classes {short} have fewer than {per_class} samples")
    return np.sort(np.concatenate(chosen))


def idx_parts(data: bytes) -> tuple[bytes, tuple[int, ...], np.ndarray]:
    """The magic bytes, the dimensions and the data of an unsigned-byte IDX file."""
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)
    return data[:4], dims, body


def idx_bytes(magic: bytes, array: np.ndarray) -> bytes:
    return magic + np.asarray(array.shape, ">u4").tobytes() + np.ascontiguousarray(array, np.uint8).tobytes()


def make_mnist(source: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "dataset": "mnist",
        "description": ("A real subset of MNIST (Yann LeCun and Corinna Cortes, CC BY-SA 3.0): the first 50 "
                        "images of each digit of the official train split and the first 25 of each digit of "
                        "the official t10k split, in their original order; made by tests/data/make_subset.py."),
        "licence": "CC BY-SA 3.0, Yann LeCun and Corinna Cortes (http://yann.lecun.com/exdb/mnist/)",
        "files": {},
        "splits": {},
    }
    for split, (images_name, labels_name, per_class) in MNIST_SPLITS.items():
        raw = {name: gzip.decompress((source / f"{name}.gz").read_bytes()) for name in (images_name, labels_name)}
        for name, data in raw.items():
            if md5(data) != MNIST_MD5[name]:
                raise SystemExit(f"{source / name}.gz is not the official file (md5 {md5(data)})")
        labels_magic, _, labels = idx_parts(raw[labels_name])
        images_magic, _, images = idx_parts(raw[images_name])
        indices = first_per_class(labels, per_class)
        for name, magic, array in ((images_name, images_magic, images), (labels_name, labels_magic, labels)):
            data = idx_bytes(magic, array[indices])
            (out / f"{name}.gz").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
            manifest["files"][name] = {"md5": md5(data), "source_md5": MNIST_MD5[name]}
        counts = np.bincount(labels[indices], minlength=10).tolist()
        manifest["splits"][split] = {"of": len(labels), "class_counts": counts, "indices": indices.tolist()}
    write_manifest(out, manifest)
    return manifest


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An uncompressed npz (as ``np.savez`` writes) with fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, array in arrays.items():
            entry = io.BytesIO()
            np.lib.format.write_array(entry, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_TIME), entry.getvalue())
    return buffer.getvalue()


def make_pneumonia(source: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    path = source / "pneumoniamnist.npz"
    source_md5 = md5(path.read_bytes())
    arrays, manifest_splits = {}, {}
    with np.load(path, allow_pickle=False) as npz:
        for split, per_class in PNEUMONIA_PER_CLASS.items():
            images, labels = npz[f"{split}_images"], npz[f"{split}_labels"]
            indices = first_per_class(labels.reshape(-1), per_class)
            arrays[f"{split}_images"], arrays[f"{split}_labels"] = images[indices], labels[indices]
            counts = np.bincount(labels.reshape(-1)[indices], minlength=2).tolist()
            manifest_splits[split] = {"of": len(labels), "class_counts": counts, "indices": indices.tolist()}
    data = npz_bytes({k: arrays[k] for split in PNEUMONIA_PER_CLASS for k in (f"{split}_images", f"{split}_labels")})
    (out / "pneumoniamnist.npz").write_bytes(data)
    official = source_md5 == PNEUMONIA_OFFICIAL_MD5
    manifest = {
        "dataset": "pneumoniamnist",
        "description": ("A real subset of PneumoniaMNIST (MedMNIST v2, 28x28; Kermany et al., CC BY 4.0): the "
                        "first 100 images of each class of the train split, 30 of each of val and 50 of each of "
                        "test, in their original order; made by tests/data/make_subset.py. "
                        + ("The source is the official file." if official else
                           f"The source (md5 {source_md5}) is not the official file: its val and test splits "
                           f"are the official ones, its train split a reduced copy, so train indices refer to "
                           f"that copy.")),
        "licence": "CC BY 4.0, MedMNIST v2 (Yang et al. 2023) from Kermany et al. 2018",
        "files": {"pneumoniamnist.npz": {"md5": md5(data), "source_md5": source_md5}},
        "splits": manifest_splits,
    }
    write_manifest(out, manifest)
    return manifest


def write_manifest(folder: Path, manifest: dict) -> None:
    """``SUBSET.json``, each list of numbers on one line."""
    text = re.sub(r"\[[\d,\s]*\]", lambda m: json.dumps(json.loads(m.group())), json.dumps(manifest, indent=1))
    (folder / "SUBSET.json").write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="folder with mnist/ and pneumoniamnist/")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write mnist/ and pneumoniamnist/ into")
    args = parser.parse_args(argv)
    make_mnist(args.source / "mnist", args.out / "mnist")
    make_pneumonia(args.source / "pneumoniamnist", args.out / "pneumoniamnist")
    print(f"wrote {args.out / 'mnist'} and {args.out / 'pneumoniamnist'}")


if __name__ == "__main__":
    main()
