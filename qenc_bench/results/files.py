"""Writing output files so that nothing is ever half-written, and checking outputs early.

One helper writes every file qenc-bench produces (results, sweep-store runs, reports): a
temporary file in the same folder, fsync, ``os.replace``, then fsync of the folder, so a crash
leaves either the old file or the whole new one. The new file gets the permissions the umask
gives (``mkstemp`` alone would make it 0600).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ResultFileError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically and durably (see the module docstring).

    :raises ResultFileError: the folder cannot be written (one line, naming the path).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ResultFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ResultFileError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    _fsync_folder(path.parent)
    return path


def remove_stale_temporaries(path: str | os.PathLike) -> int:
    """Delete the temporary files a killed writer of ``path`` left beside it (a SIGKILL during a
    write cannot clean up); call it before writing ``path`` again."""
    path = Path(path)
    stale = list(path.parent.glob(f".{path.name}.*.tmp")) if path.parent.is_dir() else []
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return len(stale)


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """:func:`write_text_atomic` of ``data`` as indented JSON (no NaN)."""
    return write_text_atomic(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def check_new_file(path: str | os.PathLike, *, force: bool, inputs: Sequence[str | os.PathLike] = (),
                   option: str = "--out") -> Path:
    """Refuse an output that exists (unless ``force``), is a folder, or is one of ``inputs``."""
    path = Path(path)
    if any(path.resolve() == Path(p).resolve() for p in inputs):
        raise ConfigError(f"{path} is one of the files being read; write {option} elsewhere")
    if path.is_dir():
        raise ResultFileError(f"{path} is a directory; give {option} a file name")
    if path.exists() and not force:
        raise ResultFileError(f"{path} already exists; pass --force to overwrite it or choose another {option}")
    return path


def probe_writable(folder: str | os.PathLike, what: str = "output") -> Path:
    """Create (if needed) ``folder`` and a probe file in it, then remove the probe: an output
    location that cannot be written fails here, before any work, not after it.

    :raises ResultFileError: one line naming the folder and the reason.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".qenc-bench-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ResultFileError(f"the {what} folder {folder} cannot be written ({exc.strerror or exc}); "
                              f"choose another location") from None
    return folder
