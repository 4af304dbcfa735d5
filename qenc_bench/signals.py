"""One signal policy for ``compare``, ``sweep`` and ``reproduce``: SIGINT and SIGTERM (what
Ctrl-C, ``kill``, ``timeout`` and Slurm send) both stop the run cleanly, with the same
message and resume hint; the exit status is 128 + the signal's number (130, 143)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: seconds after which a stop that was swallowed (an exception raised inside a library's
#: callback, where Python ignores it) is delivered again
REDELIVER_SECONDS = 2.0


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` says which. Derives from KeyboardInterrupt so that code
    which already cleans up after Ctrl-C does the same for SIGTERM."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(exc: BaseException) -> int:
    return exc.exit_code if isinstance(exc, Stopped) else 128 + signal.SIGINT


def stop_exit(code: int) -> SystemExit:
    """The exit of a stopped run, once what finished is written and the message printed.

    A stop that lands while XLA compiles or runs leaves its threads working, and tearing the
    interpreter down under them segfaults (exit -11 instead of 130, seen with the jax backend).
    With JAX loaded the process therefore ends at once (``os._exit``) after flushing its
    output: every result is already written atomically, and no exit handler of ours is needed.
    Otherwise this is the usual ``SystemExit``, raised by the caller."""
    import sys

    if "jaxlib" in sys.modules or "jax" in sys.modules:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    return SystemExit(code)


class StopHandle:
    """What :func:`stop_on_signals` yields: call :meth:`hold` when the cleanup after a stop
    starts, so a second signal does not interrupt the writing of what finished."""

    def __init__(self) -> None:
        self.held = False
        self.signum: int | None = None

    def hold(self) -> None:
        self.held = True

    def handler(self, signum: int, frame) -> None:
        if self.held:
            return
        first = self.signum is None
        self.signum = signum
        if first:  # a library may swallow the exception (raised in its callback): deliver it again
            threading.Thread(target=self._redeliver, name="qenc-bench stop", daemon=True).start()
        raise Stopped(signum)

    def _redeliver(self) -> None:
        event = threading.Event()
        while not event.wait(REDELIVER_SECONDS):
            if self.held or self.signum is None:
                return
            os.kill(os.getpid(), self.signum)


_active: list[StopHandle] = []  # signal handlers are process-wide: so is the handle that is active


def hold() -> None:
    """Hold the active stop handle (if any): called where the cleanup after a stop begins."""
    for handle in _active:
        handle.hold()


@contextmanager
def stop_on_signals() -> Iterator[StopHandle]:
    """Inside the block, SIGINT and SIGTERM raise :class:`Stopped` in the main thread."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    handle = StopHandle()
    for s in previous:
        signal.signal(s, handle.handler)
    _active.append(handle)
    try:
        yield handle
    finally:
        handle.hold()
        _active.remove(handle)
        for s, h in previous.items():
            signal.signal(s, h)
