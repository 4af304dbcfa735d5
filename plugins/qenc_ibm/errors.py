"""What IBM Quantum refuses or fails, as one redacted line that says which kind it is.

Every exception the runtime (or the requests library under it) raises passes through
:func:`service_error` before it reaches a user: the message is cut to one line, every known
token is replaced by ``***`` and the original exception is not chained (``raise ... from
None``), since its text or its cause may quote the token. The kind comes from the exception's
whole chain, so a login that failed because the network is down says "network", not "token".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from qenc_bench import QencBenchError

#: what a message can blame
KINDS = ("network", "token", "instance", "device", "plan", "job")
#: HTTP statuses worth retrying: rate limits and a service that is briefly unavailable
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_API_MESSAGE = re.compile(r'"message"\s*:\s*"([^"]{1,300})"')
_STATUS = re.compile(r"\b([45]\d\d) (?:Client|Server) Error")


class IBMServiceError(QencBenchError):
    """IBM Quantum refused or failed something. ``kind`` says what is at fault: ``network``,
    ``token``, ``instance``, ``device``, ``plan`` (the instance's plan does not allow it) or
    ``job`` (a submitted job failed, timed out or was cancelled)."""

    def __init__(self, kind: str, message: str):
        if kind not in KINDS:
            raise ValueError(f"unknown IBM error kind {kind!r}")
        self.kind = kind
        super().__init__(f"IBM Quantum {kind} error: {message}")


def redact(text: object, secrets: Iterable[str]) -> str:
    """``text`` cut to its first line (at most 300 characters), every secret replaced by ``***``."""
    lines = str(text).strip().splitlines()
    line = lines[0] if lines else ""
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line[:300]


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it was raised from or while handling."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def status_code(exc: BaseException) -> int | None:
    """The HTTP status behind ``exc`` (a ``RequestsApiError``'s, a response's, or the one its
    message quotes), ``None`` when there is none."""
    for link in chain(exc):
        code = getattr(link, "status_code", None)
        if isinstance(code, int) and code > 0:
            return code
        response = getattr(link, "response", None)
        code = getattr(response, "status_code", None)
        if isinstance(code, int) and code > 0:
            return code
        found = _STATUS.search(str(link))
        if found:
            return int(found.group(1))
    return None


def network_cause(exc: BaseException) -> str | None:
    """Why the network failed, when it is what failed: a connection, DNS or timeout error
    anywhere in the chain (requests' errors are ``OSError`` subclasses too)."""
    for link in chain(exc):
        name = type(link).__name__
        if name in ("InvalidURL", "InvalidSchema", "MissingSchema"):
            return f"the service URL is not valid ({name})"
        if isinstance(link, TimeoutError) or name in ("Timeout", "ConnectTimeout", "ReadTimeout"):
            return "the connection timed out"
        if isinstance(link, OSError) and status_code(link) is None:
            return f"the connection failed ({name})"
    return None


def is_transient(exc: BaseException, *, submission: bool = False) -> bool:
    """Worth retrying: a network failure or a rate-limit / unavailable status. For a
    submission only what shows the request was not taken (a refused connection, 429, 502,
    503, 504): after a timeout or a 500 the service may hold the job, and a retry would run
    it twice."""
    code = status_code(exc)
    if code is not None:
        return code in TRANSIENT_STATUS and not (submission and code == 500)
    cause = network_cause(exc)
    if cause is None or "not valid" in cause:
        return False
    return not (submission and "timed out" in cause)


def api_message(exc: BaseException, secrets: Iterable[str]) -> str:
    """The service's own message (``"message": ...`` of an API error body) or the first line
    of the exception, redacted, with its type."""
    secrets = tuple(secrets)
    for link in chain(exc):
        found = _API_MESSAGE.search(str(link))
        if found:
            return redact(found.group(1), secrets)
    return f"{type(exc).__name__}: {redact(exc, secrets)}"


def service_error(kind: str, what: str, exc: BaseException, secrets: Iterable[str], hint: str = "") -> IBMServiceError:
    """An :class:`IBMServiceError` for ``exc``; the kind becomes ``network`` when the network
    is what failed, whatever the caller expected."""
    secrets = tuple(secrets)
    cause = network_cause(exc)
    if cause is not None:
        return IBMServiceError("network", f"{what}: {cause}; check the network (and a proxy or QISKIT_IBM_URL)")
    message = f"{what}: {api_message(exc, secrets)}"
    return IBMServiceError(kind, f"{message}{f' ({hint})' if hint else ''}")
