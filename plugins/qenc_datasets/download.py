"""Downloading dataset files once into a user cache, through pooch: checksummed, retried,
bounded by a deadline, and never left half-written.

Every file-based dataset looks for its files in this order:

1. the data directory (``--data-dir``, else ``$QENC_BENCH_DATA``) when it holds them;
2. the user cache: ``$QENC_BENCH_CACHE``, else ``$XDG_CACHE_HOME/qenc-bench``, else
   ``~/.cache/qenc-bench``. It has the same layout as a data directory
   (``<cache>/mnist/...``, ``<cache>/cifar-10-batches-bin/...``), so it can be used as one;
3. a download into the cache, from the publisher's address or from a mirror.

A download is :meth:`pooch.Pooch.fetch` with the file's checksum and :data:`RETRIES` retries,
and :class:`~qenc_datasets.downloader.DeadlineDownloader` as its downloader: one streamed GET
(``requests``) with a progress bar, a :data:`TIMEOUT` to connect and for each read, and a
deadline for the whole file (:data:`DEADLINE`, or ``$QENC_BENCH_DOWNLOAD_DEADLINE`` seconds),
so a server that sends a byte every few seconds cannot hang a run. What is retried is what may pass: a timeout, a
connection dropped mid-file, HTTP 408, 429 and 5xx. A server that cannot be reached, HTTP 404,
a checksum mismatch (the server sends another file) and the deadline fail at once with a
:class:`~qenc_bench.DataError` that says which files to put where.

Files are written inside a scratch folder ``<cache>/.download-*`` and renamed to their final
names (``os.replace``) only when complete and verified, so a file at its final name is always
whole. The scratch folder is removed when a download ends, fails, is interrupted (Ctrl-C) or
terminated (SIGTERM, in the main thread); a process killed outright (SIGKILL) cannot clean up,
and the next download removes its scratch folder (it holds a lock that dies with the process).

``QENC_BENCH_OFFLINE=1`` turns downloads off. ``QENC_BENCH_MIRROR=URL`` fetches every file
from ``URL/<dataset>/<file name>`` instead of the publisher (``http(s)://`` or ``file://``: a
local mirror, or a test server); the checksums are the same. The publishers' base addresses
are in :data:`BASE_URLS`.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from qenc_bench import CACHE_ENV, DATA_ENV, ConfigError, DataError, cache_dir

from .downloader import (
    RETRIES,
    TIMEOUT,
    ChecksumMismatch,
    DeadlineDownloader,
    TooSlow,
    Unreachable,
    reason,
)

__all__ = [
    "BASE_URLS", "CACHE_ENV", "DEADLINE", "DEADLINE_ENV", "MIRROR_ENV", "OFFLINE_ENV", "RETRIES", "SCRATCH_PREFIX",
    "TIMEOUT", "Download", "RemoteFile", "cache_dir", "cached", "checked_data_dir", "deadline", "ensure_cached",
    "offline", "remove_abandoned_scratch", "url_of", "where_to_put",
]

try:
    import fcntl
except ImportError:  # Windows: abandoned scratch folders are recognised by their age alone
    fcntl = None  # type: ignore[assignment]

OFFLINE_ENV = "QENC_BENCH_OFFLINE"
MIRROR_ENV = "QENC_BENCH_MIRROR"
DEADLINE_ENV = "QENC_BENCH_DOWNLOAD_DEADLINE"

#: seconds a whole file may take, every attempt included (``$QENC_BENCH_DOWNLOAD_DEADLINE``)
DEADLINE = 1800.0

SCRATCH_PREFIX = ".download-"
_LOCK = ".lock"
#: a scratch folder without a lock this old (or any, without fcntl) is abandoned
_STALE_AFTER = 24 * 3600.0

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
        return ("sha256", self.sha256.lower()) if self.sha256 else ("md5", str(self.md5).lower())


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


def offline() -> bool:
    """Whether ``$QENC_BENCH_OFFLINE`` turns downloads off (any value but empty, 0, false, no)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def deadline() -> float:
    """Seconds a file's download may take: ``$QENC_BENCH_DOWNLOAD_DEADLINE``, else :data:`DEADLINE`.

    :raises ConfigError: the variable is set to something else than a positive number.
    """
    value = os.environ.get(DEADLINE_ENV, "").strip()
    if not value:
        return DEADLINE
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"{DEADLINE_ENV}={value!r} is not a positive number of seconds")
    return seconds


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
        error, a checksum does not match, the deadline passes, or an archive is unsafe or
        incomplete. No file is left at a final name unless it is complete and verified, and
        nothing is left in the cache by a download that fails.
    """
    folder = cache_dir() / download.folder
    if cached(download) is not None:
        return folder
    if not download.remote:
        raise _unavailable(download, searched, download.unavailable or "no download address is known")
    if offline():
        raise _unavailable(download, searched, f"downloads are off ({OFFLINE_ENV}={os.environ[OFFLINE_ENV]})")
    limit = deadline()
    with _cleaned_up_on_sigterm(), _scratch(cache_dir()) as scratch:
        if download.unpack is None:
            for remote in download.remote:
                if not (folder / remote.name).is_file():
                    path = _fetch(download, remote, scratch, searched, limit)
                    folder.mkdir(parents=True, exist_ok=True)
                    os.replace(path, folder / remote.name)
            return folder
        fetched = {remote.name: _fetch(download, remote, scratch, searched, limit) for remote in download.remote}
        unpacked = scratch / "unpacked"
        unpacked.mkdir()
        download.unpack(fetched, unpacked)
        folder.mkdir(parents=True, exist_ok=True)
        for name in download.files:
            os.replace(unpacked / name, folder / name)
    return folder


def _fetch(download: Download, remote: RemoteFile, scratch: Path, searched: Sequence[Path], limit: float) -> Path:
    """``remote`` downloaded by pooch into ``scratch`` and verified; its path there."""
    import pooch
    import requests

    url = url_of(download, remote)
    algorithm, expected = remote.checksum
    registry = pooch.create(
        path=scratch, base_url="", registry={remote.name: f"{algorithm}:{expected}"}, urls={remote.name: url},
        retry_if_failed=RETRIES,
    )
    downloader = DeadlineDownloader(remote.name, remote.checksum, limit)
    try:
        with _pooch_quiet():
            path = Path(registry.fetch(remote.name, downloader=downloader))
    except Unreachable as exc:
        raise _unavailable(download, searched, f"downloading {url} failed ({exc})") from None
    except TooSlow as exc:
        raise _unavailable(download, searched, f"downloading {url} {exc}; set {DEADLINE_ENV}=SECONDS "
                                               f"for a slow connection") from None
    except ChecksumMismatch as exc:
        raise DataError(
            f"{remote.name} downloaded from {url}: checksum mismatch ({algorithm} is {exc}, expected {expected}); "
            f"the download was deleted. The server sent another file or a corrupt one; try again later. "
            f"{where_to_put(download)}"
        ) from None
    except requests.RequestException as exc:
        how = "failed part-way" if downloader.received else "failed"
        tries = f"{downloader.attempts} attempts" if downloader.attempts > 1 else "1 attempt"
        raise _unavailable(download, searched, f"downloading {url} {how} ({reason(exc)}; {tries})") from None
    os.chmod(path, (scratch / _LOCK).stat().st_mode & 0o777)  # pooch's temporary files are private (0600)
    return path


@contextmanager
def _pooch_quiet() -> Iterator[None]:
    """Pooch logs each download at INFO on stderr, naming the scratch folder; the progress
    bar and the retry messages say what matters."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class _Terminated(BaseException):
    """SIGTERM arrived during a download (raised so that clean-up runs)."""


@contextmanager
def _cleaned_up_on_sigterm() -> Iterator[None]:
    """While a download runs in the main thread under the default SIGTERM action, SIGTERM
    raises so that the scratch folder is removed, then the process dies of SIGTERM as before."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def terminate(signum, frame):
        raise _Terminated

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def _scratch(root: Path) -> Iterator[Path]:
    """A locked temporary folder under ``root`` (the same file system as the cache folders, so
    files move into place by renaming), removed at the end with ``root`` if it was created here."""
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    remove_abandoned_scratch(root)
    path = Path(tempfile.mkdtemp(dir=root, prefix=SCRATCH_PREFIX))
    lock = (path / _LOCK).open("w")  # not mkstemp: the lock's mode is the umask's, for the cached files
    try:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        lock.close()
        if created:
            with suppress(OSError):  # not empty: another process uses the cache too
                root.rmdir()


def remove_abandoned_scratch(root: Path) -> list[Path]:
    """Remove the scratch folders under ``root`` whose process is gone (killed mid-download);
    the removed folders."""
    removed = []
    for path in root.glob(f"{SCRATCH_PREFIX}*"):
        if path.is_dir() and _abandoned(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _abandoned(path: Path) -> bool:
    lock = path / _LOCK
    try:
        if fcntl is None or not lock.is_file():  # without a lock (yet): only an old folder is abandoned
            return time.time() - path.stat().st_mtime > _STALE_AFTER
        with lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when closed
            return True
    except OSError:  # BlockingIOError: its process holds the lock; or not ours to touch
        return False


def checked_data_dir(data_dir: str | os.PathLike, holds: str) -> Path:
    """``data_dir`` as a Path, or a DataError when it does not exist (``holds``: what it should hold)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(
            f"data directory {data_dir} does not exist; pass --data-dir DIR or set {DATA_ENV} "
            f"to the folder that holds {holds}"
        )
    return data_dir
