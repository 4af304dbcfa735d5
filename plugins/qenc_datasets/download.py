"""Downloading dataset files once into a user cache, checksummed and written atomically.

Every file-based dataset looks for its files in this order:

1. the data directory (``--data-dir``, else ``$QENC_BENCH_DATA``) when it holds them;
2. the user cache: ``$QENC_BENCH_CACHE``, else ``$XDG_CACHE_HOME/qenc-bench``, else
   ``~/.cache/qenc-bench``. It has the same layout as a data directory
   (``<cache>/mnist/...``, ``<cache>/cifar-10-batches-bin/...``), so it can be used as one;
3. a download into the cache, from the publisher's address or from a mirror.

A download is one attempt with a short timeout: offline, it fails at once with a
:class:`~qenc_bench.errors.DataError` that says which files to put where. Each file is
written to a temporary name in the target folder, its checksum verified, and only then
renamed to its final name (``os.replace``), so a file at its final name is always complete.

``QENC_BENCH_OFFLINE=1`` turns downloads off. ``QENC_BENCH_MIRROR=URL`` fetches every file
from ``URL/<dataset>/<file name>`` instead of the publisher (a local mirror, or a test
server); the checksums are the same. The publishers' base addresses are in :data:`BASE_URLS`.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from qenc_bench.datasets import DATA_ENV
from qenc_bench.errors import DataError

CACHE_ENV = "QENC_BENCH_CACHE"
OFFLINE_ENV = "QENC_BENCH_OFFLINE"
MIRROR_ENV = "QENC_BENCH_MIRROR"

#: seconds to wait for a connection or for each read; there is no retry
TIMEOUT = 10.0
CHUNK = 1 << 16

#: the publishers' base addresses, by dataset family
BASE_URLS: dict[str, str] = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "cifar10": "https://www.cs.toronto.edu/~kriz/",
    "medmnist": "https://zenodo.org/records/10519652/files/",
}


@dataclass(frozen=True)
class RemoteFile:
    """One file to download and the checksum of its bytes as downloaded.

    :param name: the file name it is saved under.
    :param url: the publisher's address.
    :param md5: expected md5 (hex), or
    :param sha256: expected SHA-256 (hex); at least one is required.
    """

    name: str
    url: str
    md5: str | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        if not (self.md5 or self.sha256):
            raise ValueError(f"remote file {self.name!r} has no checksum; a download must be verified")

    @property
    def checksum(self) -> tuple[str, str]:
        """``(algorithm, hex digest)``, SHA-256 when known."""
        return ("sha256", self.sha256.lower()) if self.sha256 else ("md5", self.md5.lower())


@dataclass(frozen=True)
class Download:
    """How a dataset's cache folder is filled.

    :param dataset: the dataset's name, for messages and the mirror path.
    :param folder: the folder under the cache (and under a data directory) that holds the files.
    :param files: the file names the folder has when complete.
    :param remote: the files to fetch. Without ``unpack`` they are saved in the folder and must
        be in ``files``; empty when no download address is known.
    :param unpack: ``unpack(downloaded, out)`` extracts ``files`` from the downloaded files
        (paths by name) into the folder ``out``; for archives.
    :param unavailable: why there is nothing to download, when ``remote`` is empty.
    """

    dataset: str
    folder: str
    files: tuple[str, ...]
    remote: tuple[RemoteFile, ...] = ()
    unpack: Callable[[dict[str, Path], Path], None] | None = None
    unavailable: str = ""


def cache_dir() -> Path:
    """``$QENC_BENCH_CACHE``, else ``$XDG_CACHE_HOME/qenc-bench``, else ``~/.cache/qenc-bench``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qenc-bench"


def offline() -> bool:
    """Whether ``$QENC_BENCH_OFFLINE`` turns downloads off (any value but empty, 0, false, no)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def url_of(download: Download, remote: RemoteFile) -> str:
    """``$QENC_BENCH_MIRROR/<dataset>/<name>`` when a mirror is set, else the publisher's address."""
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        return f"{mirror.rstrip('/')}/{download.dataset}/{remote.name}"
    return remote.url


def where_to_put(download: Download) -> str:
    """The sentence that tells a user (without network, say) which files to put where."""
    files = ", ".join(download.files)
    pronoun = "it" if len(download.files) == 1 else "them"
    return (
        f"To use local files, pass --data-dir DIR or set {DATA_ENV}=DIR, with {files} "
        f"in DIR/{download.folder}/ (or put {pronoun} in {cache_dir() / download.folder}/)"
    )


def _unavailable(download: Download, searched: Sequence[Path], reason: str) -> DataError:
    cache = f"the cache {cache_dir() / download.folder}"
    places = f"{', '.join(str(p) for p in searched)} nor in {cache}" if searched else cache
    return DataError(f"dataset {download.dataset!r} is not in {places}, and {reason}. {where_to_put(download)}")


def cached(download: Download) -> Path | None:
    """The cache folder if it holds every file of ``download``, else None."""
    folder = cache_dir() / download.folder
    return folder if all((folder / f).is_file() for f in download.files) else None


def ensure_cached(download: Download, searched: Sequence[Path] = ()) -> Path:
    """The cache folder holding every file of ``download``, downloading what is missing.

    :param searched: folders already looked in, for the message when this fails.
    :raises DataError: downloads are off, the server cannot be reached or answers with an
        error, a checksum does not match, or an archive is unsafe or incomplete. No file is
        left at a final name unless it is complete and verified.
    """
    folder = cache_dir() / download.folder
    if cached(download) is not None:
        return folder
    if not download.remote:
        raise _unavailable(download, searched, download.unavailable or "no download address is known")
    if offline():
        raise _unavailable(download, searched, f"downloads are off ({OFFLINE_ENV}={os.environ[OFFLINE_ENV]})")
    if download.unpack is None:
        for remote in download.remote:
            if not (folder / remote.name).is_file():
                _fetch(download, remote, folder / remote.name, searched)
        return folder
    with _scratch(folder.parent) as scratch:
        fetched = {}
        for remote in download.remote:
            fetched[remote.name] = scratch / remote.name
            _fetch(download, remote, fetched[remote.name], searched)
        unpacked = scratch / "unpacked"
        unpacked.mkdir()
        download.unpack(fetched, unpacked)
        folder.mkdir(parents=True, exist_ok=True)
        for name in download.files:
            os.replace(unpacked / name, folder / name)
    return folder


@contextmanager
def _scratch(parent: Path) -> Iterator[Path]:
    """A temporary folder under ``parent`` (same file system, so files move by renaming)."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=parent, prefix=".download-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _fetch(download: Download, remote: RemoteFile, dest: Path, searched: Sequence[Path]) -> None:
    """Download ``remote`` to ``dest`` through a temporary file; verify; rename into place."""
    import http.client
    import urllib.request

    url = url_of(download, remote)
    try:
        response = urllib.request.urlopen(url, timeout=TIMEOUT)  # noqa: S310 - https/http/file mirrors
    except (OSError, http.client.HTTPException) as exc:
        if hasattr(exc, "close"):  # an HTTPError is also a response with an open body
            exc.close()
        raise _unavailable(download, searched, f"downloading {url} failed ({_reason(exc)})") from None
    algorithm, expected = remote.checksum
    with response:
        dest.parent.mkdir(parents=True, exist_ok=True)
        # not mkstemp: its files are private (0600); a cached file gets the umask's permissions
        tmp = dest.parent / f".{dest.name}.{os.getpid()}-{secrets.token_hex(4)}.part"
        try:
            try:
                with tmp.open("xb") as out:
                    actual = _copy_with_progress(response, out, algorithm, remote.name, _length(response))
            except (OSError, http.client.HTTPException) as exc:
                raise _unavailable(
                    download, searched, f"downloading {url} failed part-way ({_reason(exc)})"
                ) from None
            if actual != expected:
                raise DataError(
                    f"{remote.name} downloaded from {url}: checksum mismatch ({algorithm} is {actual}, "
                    f"expected {expected}); the download was deleted. The server sent another file or "
                    f"a corrupt one; try again later. {where_to_put(download)}"
                )
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)


def _reason(exc: BaseException) -> str:
    """A short reason: ``HTTP 404 Not Found``, ``[Errno 111] Connection refused``, ``timed out``."""
    code = getattr(exc, "code", None)
    if code is not None and hasattr(exc, "reason"):
        return f"HTTP {code} {exc.reason}"
    return str(getattr(exc, "reason", None) or exc) or type(exc).__name__


def _length(response) -> int | None:
    value = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
    return int(value) if value and value.isdigit() else None


def _copy_with_progress(source: IO[bytes], out: IO[bytes], algorithm: str, label: str, total: int | None) -> str:
    """Copy ``source`` to ``out`` with a progress bar on stderr; the hex digest of the bytes."""
    from rich.console import Console
    from rich.filesize import decimal
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    digest = hashlib.new(algorithm, usedforsecurity=False)  # an integrity check, not security
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    size = 0
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"downloading {label}", total=total)
        while chunk := source.read(CHUNK):
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            progress.update(task, advance=len(chunk))
    console.print(f"downloaded {label} ({decimal(size)})", highlight=False)
    return digest.hexdigest()


def checked_data_dir(data_dir: str | os.PathLike, holds: str) -> Path:
    """``data_dir`` as a Path, or a DataError when it does not exist (``holds``: what it should hold)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(
            f"data directory {data_dir} does not exist; pass --data-dir DIR or set {DATA_ENV} "
            f"to the folder that holds {holds}"
        )
    return data_dir
