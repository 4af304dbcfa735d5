"""Submitting a job and waiting for it, with retries and one-line errors.

Transient failures -- the network, a rate limit (429), a service briefly unavailable (5xx) --
are retried with exponential backoff (2, 4, 8 ... s, at most 60 s). Waiting has a deadline
(``result_timeout``): past it the job is left running, its id is in the journal and
``qenc-bench ibm-jobs JOURNAL --collect`` fetches it later. A job that failed, ran past its
``max_execution_time`` or was cancelled becomes an :class:`~qenc_ibm.errors.IBMServiceError`
of kind ``job`` naming the job id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import IBMServiceError, api_message, is_transient, redact, service_error, status_code

logger = logging.getLogger("qenc_ibm")
T = TypeVar("T")
#: replaced in tests so that backoff does not sleep
sleep: Callable[[float], None] = time.sleep
SESSION_REFUSED = ("the instance's plan does not allow sessions (the Open Plan runs jobs in batch or job mode "
                   "only): use --backend-option mode=batch")


class JobNotFinishedError(IBMServiceError):
    """A job did not finish within ``result_timeout``; it keeps running on the service."""

    def __init__(self, message: str):
        super().__init__("job", message)


def backoff(attempt: int) -> float:
    return float(min(60, 2 ** (attempt + 1)))


def _runtime_errors() -> tuple[type[BaseException], ...]:
    """What the runtime and requests raise for a refused or failed call (not bugs)."""
    from qiskit.providers import JobError
    from qiskit_ibm_runtime.exceptions import IBMError

    return IBMError, JobError, OSError


def with_retries(call: Callable[[], T], *, what: str, retries: int, secrets: Sequence[str],
                 translate: Callable[[BaseException], IBMServiceError], submission: bool = False) -> T:
    """``call()``, retried after transient failures (``submission``: only those that show
    nothing was submitted, see :func:`~qenc_ibm.errors.is_transient`); any other runtime error
    becomes ``translate(exc)`` (raised without its chain)."""
    errors = _runtime_errors()
    for attempt in range(retries + 1):
        try:
            return call()
        except errors as exc:
            if attempt < retries and is_transient(exc, submission=submission):
                delay = backoff(attempt)
                logger.warning("%s: %s; retry %d of %d in %.0f s", what, redact(exc, secrets), attempt + 1, retries,
                               delay)
                sleep(delay)
                continue
            raise translate(exc) from None
    raise AssertionError("unreachable")  # the loop returns or raises


def opening_error(exc: BaseException, mode: str, secrets: Sequence[str]) -> IBMServiceError:
    """Opening a Batch or Session failed: a session the plan refuses (403) says to use a batch."""
    if mode == "session" and (status_code(exc) == 403 or "open plan" in str(exc).lower()):
        return IBMServiceError("plan", f"{SESSION_REFUSED} ({api_message(exc, secrets)})")
    return service_error("job", f"opening a Runtime {mode.capitalize()} failed", exc, secrets)


def submission_error(exc: BaseException, mode: str, device: str, secrets: Sequence[str]) -> IBMServiceError:
    if mode == "session" and status_code(exc) == 403:
        return IBMServiceError("plan", f"{SESSION_REFUSED} ({api_message(exc, secrets)})")
    return service_error("job", f"submitting a job to {device} failed (nothing was run)", exc, secrets)


def wait_for_result(job: Any, *, timeout: float, retries: int, secrets: Sequence[str], device: str,
                    recover: str, limit: int | None = None) -> Any:
    """The job's result, waiting at most ``timeout`` seconds in all.

    :param recover: how to get the job's result later (said when waiting stops).
    :param limit: the job's ``max_execution_time``, for the message when the service stopped it.
    """
    from qiskit_ibm_runtime.exceptions import (
        RuntimeInvalidStateError,
        RuntimeJobFailureError,
        RuntimeJobMaxTimeoutError,
        RuntimeJobTimeoutError,
    )

    job_id = job.job_id()
    deadline = time.monotonic() + timeout
    errors = _runtime_errors()
    attempt = 0
    while True:
        try:
            wait = getattr(job, "wait_for_final_state", None)  # remote jobs poll; local ones block in result()
            if wait is not None:
                wait(timeout=max(0.0, deadline - time.monotonic()))
            return job.result()
        except RuntimeJobTimeoutError:
            raise JobNotFinishedError(
                f"job {job_id} on {device} has not finished after {timeout:.0f} s (queued or running; it keeps "
                f"running): {recover}") from None
        except RuntimeJobMaxTimeoutError:
            raise IBMServiceError(
                "job", f"job {job_id} on {device} ran past max_execution_time={limit} s and was stopped by the "
                       f"service; raise --backend-option max_execution_time=SECONDS (at most 10800)") from None
        except RuntimeJobFailureError as exc:
            raise IBMServiceError("job", f"job {job_id} on {device} failed: {api_message(exc, secrets)}") from None
        except RuntimeInvalidStateError:
            raise IBMServiceError("job", f"job {job_id} on {device} was cancelled") from None
        except errors as exc:
            if attempt < retries and is_transient(exc) and time.monotonic() < deadline:
                delay = backoff(attempt)
                logger.warning("waiting for job %s: %s; retry %d of %d in %.0f s", job_id, redact(exc, secrets),
                               attempt + 1, retries, delay)
                sleep(delay)
                attempt += 1
                continue
            raise service_error("job", f"fetching the result of job {job_id} on {device} failed ({recover})", exc,
                                secrets) from None
