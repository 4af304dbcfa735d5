"""The downloader pooch calls: one streamed GET with ``requests``, the whole file within a
deadline, its checksum checked, a progress bar on stderr; and which failures are retried."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

#: seconds to wait for a connection, and for each read
TIMEOUT = 10.0
#: attempts after the first, for the failures that may pass (pooch waits 1 s, then 2 s)
RETRIES = 2
#: HTTP statuses worth another attempt
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
CHUNK = 1 << 16


class Unreachable(Exception):
    """No answer worth waiting for again: no connection, or an HTTP error that will not pass."""


class TooSlow(Exception):
    """The deadline passed."""


class ChecksumMismatch(Exception):
    """The bytes are not the expected file; the message is their digest."""


class DeadlineDownloader:
    """A pooch downloader: one streamed GET with ``requests`` (or a read of a ``file://`` URL),
    the whole file within a deadline, its checksum checked, with a progress bar on stderr.

    Pooch retries what raises a ``requests`` exception (a timeout, a connection dropped
    mid-file, HTTP 408, 429 and 5xx); what raises anything else fails at once. One instance
    serves one file: the deadline runs from its creation, across every retry.

    :param label: the file's name, for the progress bar and messages.
    :param checksum: ``(algorithm, hex digest)`` the bytes must have.
    :param seconds: the deadline.
    """

    def __init__(self, label: str, checksum: tuple[str, str], seconds: float) -> None:
        self.label = label
        self.checksum = checksum
        self.seconds = seconds
        self.attempts = 0
        self.received = 0
        self._ends = time.monotonic() + seconds

    def __call__(self, url: str, output_file: str, pooch: object = None) -> None:
        """Write the bytes at ``url`` to ``output_file`` (pooch's temporary name)."""
        import requests

        self.attempts += 1
        self.received = 0
        try:
            with self._open(url) as (chunks, total), open(output_file, "wb") as out:
                digest = self._copy(chunks, out, total)
        except requests.RequestException as exc:
            if self.attempts <= RETRIES:
                _console().print(f"downloading {self.label} failed ({reason(exc)}); trying again "
                                 f"(attempt {self.attempts + 1} of {RETRIES + 1})", highlight=False, soft_wrap=True)
            raise
        if digest != self.checksum[1]:
            raise ChecksumMismatch(digest)

    def _remaining(self) -> float:
        return self._ends - time.monotonic()

    def _too_slow(self, total: int | None) -> TooSlow:
        of = f" of {total}" if total is not None else ""
        return TooSlow(f"took longer than the {self.seconds:g} s deadline ({self.received}{of} bytes received)")

    @contextmanager
    def _open(self, url: str) -> Iterator[tuple[Iterator[bytes], int | None]]:
        """The body's chunks and its length if known; the deadline cuts a read short."""
        if url.startswith("file:"):
            with self._open_file(url) as opened:
                yield opened
            return
        import requests

        try:
            response = requests.get(url, stream=True, timeout=(TIMEOUT, min(TIMEOUT, max(self._remaining(), 0.01))),
                                    headers={"Accept-Encoding": "identity"})
        except requests.exceptions.ReadTimeout:  # connected, but no answer yet: may pass
            raise
        except requests.RequestException as exc:  # no connection (or a timeout making one), or a bad address
            raise Unreachable(reason(exc)) from None
        with response:
            status = f"HTTP {response.status_code} {response.reason}"
            if response.status_code in RETRY_STATUSES:
                raise requests.HTTPError(status, response=response)
            if response.status_code >= 400:
                raise Unreachable(status)
            expired = threading.Event()
            timer = threading.Timer(max(self._remaining(), 0.0), self._expire, (response, expired))
            timer.daemon = True
            timer.start()
            total = _length(response)
            try:
                yield self._chunks(response.iter_content(CHUNK), expired, total), total
            except requests.RequestException:
                if expired.is_set():
                    raise self._too_slow(total) from None
                raise
            finally:
                timer.cancel()
            short = total is not None and self.received < total
            if expired.is_set() and (short or total is None):  # a body cut short may look complete
                raise self._too_slow(total)
            if short:  # urllib3 < 2 does not enforce Content-Length
                raise requests.exceptions.ChunkedEncodingError(
                    f"connection closed after {self.received} of {total} bytes"
                )

    @contextmanager
    def _open_file(self, url: str) -> Iterator[tuple[Iterator[bytes], int | None]]:
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        path = Path(url2pathname(urlparse(url).path))
        try:
            source = path.open("rb")
        except OSError as exc:
            raise Unreachable(f"{exc.strerror or exc}: {path}") from None
        with source:
            size = os.fstat(source.fileno()).st_size
            yield self._chunks(iter(lambda: source.read(CHUNK), b""), threading.Event(), size), size

    def _chunks(self, chunks: Iterator[bytes], expired: threading.Event, total: int | None) -> Iterator[bytes]:
        for chunk in chunks:
            if expired.is_set() or self._remaining() < 0:
                expired.set()
                raise self._too_slow(total)
            self.received += len(chunk)
            yield chunk

    @staticmethod
    def _expire(response, expired: threading.Event) -> None:
        """At the deadline: stop a read that is waiting for the next byte (urllib3 >= 2.3)."""
        expired.set()
        shutdown = getattr(response.raw, "shutdown", None)
        if shutdown is not None:
            with suppress(ValueError, RuntimeError, OSError):  # the body was read, or the socket is gone
                shutdown()

    def _copy(self, chunks: Iterator[bytes], out: IO[bytes], total: int | None) -> str:
        """Copy ``chunks`` to ``out`` with a progress bar; the hex digest of the bytes."""
        from rich.filesize import decimal
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        digest = hashlib.new(self.checksum[0], usedforsecurity=False)  # an integrity check, not security
        console = _console()
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"downloading {self.label}", total=total)
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                progress.update(task, advance=len(chunk))
        console.print(f"downloaded {self.label} ({decimal(self.received)})", highlight=False, soft_wrap=True)
        return digest.hexdigest()


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _length(response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None


def reason(exc: BaseException) -> str:
    """The innermost cause, short: ``[Errno 111] Connection refused``, ``timed out``,
    ``IncompleteRead(300 bytes read, 700 more expected)``, ``HTTP 503 Service Unavailable``."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        inner = getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in current.args if isinstance(a, BaseException)), None)
        current = inner or current.__cause__ or current.__context__
    for cause in reversed(chain):
        if isinstance(cause, OSError) and cause.errno is not None:
            return str(cause)
    return str(chain[-1]) or type(chain[-1]).__name__
