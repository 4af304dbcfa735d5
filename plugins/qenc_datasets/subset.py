"""Declared subsets of a dataset: a ``SUBSET.json`` manifest beside the files.

A subset (e.g. the few hundred real MNIST images the tests ship in ``tests/data``) cannot have
the publisher's checksums. Its folder holds a manifest that gives each file's own checksum and
where its samples come from; a loader accepts a file that matches the publisher's checksum or
the manifest's, and says in the dataset's ``notes`` that the samples are a subset, so results
never pass for results on the official split. A file that matches neither is still an error.

The manifest (JSON)::

    {
      "dataset": "mnist",
      "description": "what it is, in a sentence",
      "files": {"t10k-labels-idx1-ubyte": {"md5": "<hex>"}, ...},
      "splits": {"test": {"of": 10000, "indices": [3, 10, ...], "source_md5": "<hex>"}, ...}
    }

``files`` maps a file's official name (without ``.gz``) to the md5 of its bytes (for IDX
files, of the decompressed bytes, as the official MNIST checksums are); ``splits`` gives, for
each split, the size of the split it was taken from (``of``) and the indices taken, in order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from qenc_bench import DataError

MANIFEST = "SUBSET.json"


@dataclass(frozen=True)
class SubsetManifest:
    """A parsed ``SUBSET.json``.

    :param path: the manifest file.
    :param md5: md5 (hex) by official file name.
    :param official_sizes: the size of the split the subset was taken from, by split.
    :param indices: the indices taken from each split of the publisher's files, in order.
    """

    path: Path
    md5: Mapping[str, str]
    official_sizes: Mapping[str, int]
    indices: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def note(self, sizes: Mapping[str, int]) -> str:
        """The ``notes["subset"]`` text for a dataset read with these split ``sizes``."""
        parts = [
            f"{split} {n} of {self.official_sizes[split]}" if split in self.official_sizes else f"{split} {n}"
            for split, n in sizes.items()
        ]
        return f"a subset declared by {self.path} ({', '.join(parts)} samples): not the official split"


def read_subset_manifest(folder: Path) -> SubsetManifest | None:
    """The manifest in ``folder``, or None when there is none.

    :raises DataError: the manifest is not valid JSON or lacks ``files`` with an md5 per file.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        md5 = {str(name): str(entry["md5"]).lower() for name, entry in files.items()}
        splits = data.get("splits", {})
        official = {str(split): int(entry["of"]) for split, entry in splits.items()}
        indices = {str(split): tuple(int(i) for i in entry.get("indices", ())) for split, entry in splits.items()}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(
            f"{path}: not a valid subset manifest ({type(exc).__name__}: {exc}); it must be JSON with "
            f'"files": {{name: {{"md5": hex}}}} and "splits": {{split: {{"of": n, "indices": [...]}}}}'
        ) from None
    return SubsetManifest(path=path, md5=md5, official_sizes=official, indices=indices)
