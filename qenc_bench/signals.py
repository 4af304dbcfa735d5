"""One signal policy for ``compare``, ``sweep`` and ``reproduce``: SIGINT and SIGTERM (what
Ctrl-C, ``kill``, ``timeout`` and Slurm send) both stop the run cleanly, with the same
message and resume hint; the exit status is 128 + the signal's number (130, 143)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


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


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Inside the block, SIGINT and SIGTERM raise :class:`Stopped` in the main thread (once:
    a second signal during the cleanup is ignored, so the cleanup finishes)."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum, frame):
        for s in previous:
            signal.signal(s, signal.SIG_IGN)
        raise Stopped(signum)

    for s in previous:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
