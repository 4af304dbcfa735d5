"""Running a sweep: its runs on local worker processes or on a Dask cluster, each finished
run written at once to the resumable results store (:mod:`qenc_bench.results.store`).

One run is one dataset, one class set and ONE model (an encoder, or a classical reference)
with ONE seed: :func:`qenc_bench.harness.compare` of that model and seed, whose one record is
stored under the run's id. :func:`run_sweep` is what ``qenc-bench sweep`` calls; a notebook
can call it directly.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MissingDependencyError, ResultFileError
from ..harness import CompareConfig, compare, plan
from ..results.files import probe_writable
from ..results.records import BenchmarkResult
from ..results.store import FAILED, OK, ResultStore, StoredRun, is_store
from ..resume import settings_difference
from ..signals import exit_code, hold
from .spec import BLAS_ENV, DASK_INSTALL, SweepRun, SweepSpec, load_spec

CONNECT_SECONDS = 10
WORKER_WAIT_SECONDS = 120


@dataclass(frozen=True)
class SweepProgress:
    """What ``progress`` is told: once at the start (``run`` None), then after every run."""

    total: int
    done: int
    failed: int
    run: SweepRun | None = None
    status: str | None = None
    elapsed: float | None = None


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep did: ``skipped`` runs were already in the store; ``succeeded`` and
    ``failed`` ran now; ``remaining`` did not finish (an interrupted sweep)."""

    store: Path
    total: int
    skipped: int
    succeeded: int
    failed: tuple[StoredRun, ...]

    @property
    def finished(self) -> int:
        return self.skipped + self.succeeded

    @property
    def remaining(self) -> int:
        return self.total - self.finished - len(self.failed)


class SweepInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped the sweep; every finished run is in the store; ``outcome`` says
    how many and ``exit_code`` is the status to exit with (130, 143)."""

    def __init__(self, outcome: SweepOutcome, exit_code: int = 130):
        super().__init__(f"sweep interrupted: {outcome.finished} of {outcome.total} runs finished")
        self.outcome, self.exit_code = outcome, exit_code


def default_workers() -> int:
    """The CPUs this process may run on (a container's or a batch job's share), else all."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_store(spec: SweepSpec) -> Path:
    return Path("sweep-results") / spec.name


def run_states(runs: Iterable[SweepRun], store: ResultStore) -> dict[str, str | None]:
    """Per run id: ``"ok"``, ``"failed"`` or None (not in the store)."""
    return {run.run_id: (stored.status if (stored := store.get(run.run_id)) else None) for run in runs}


def select_runs(runs: list[SweepRun], store: ResultStore, *, resume: bool, rerun: bool) -> list[SweepRun]:
    """The runs to run: all with ``rerun``; else those without a success in the store. Without
    ``resume`` a store that already holds any of the runs is an error."""
    if rerun:
        return list(runs)
    states = run_states(runs, store)
    present = sum(state is not None for state in states.values())
    if present and not resume:
        raise ResultFileError(f"store {store.root} already holds {present} of these {len(runs)} runs; pass "
                              f"--resume to run only the missing and failed ones or --rerun to run all again")
    return [run for run in runs if states[run.run_id] != OK]


def check_runs(runs: list[SweepRun]) -> None:
    """Resolve every component name, load each dataset and prepare each class pair here,
    so that a misspelt name, a bad option or missing data fails before any run starts."""
    from ..plugins import load_registry
    from ..prepare import prepare

    registry = load_registry(runs[0].config.disable_plugins)
    for encoder in sorted({e for run in runs for e in run.config.encoders}):
        registry.get("encoder", encoder)
    for name in sorted({c for run in runs for c in run.config.classical}):
        registry.get("classical", name)
    plans: dict[str, Any] = {}
    for run in runs:
        c = run.config
        if c.dataset not in plans:
            plans[c.dataset] = plan(c, registry)
        p = plans[c.dataset]
        prepare(p.raw, c.classes, grid=p.grid, train_size=c.train_size, test_size=c.test_size,
                validation_size=c.validation_size, seed=c.seed)


def run_sweep(
    spec: SweepSpec | str | os.PathLike,
    store: str | os.PathLike | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = True,
    rerun: bool = False,
    progress: Callable[[SweepProgress], None] | None = None,
    *,
    check: bool = True,
) -> SweepOutcome:
    """Run every run of a sweep that the store does not already hold; write each as it ends.

    :param spec: a :class:`SweepSpec` or the path of a sweep TOML file.
    :param store: the results store directory (default ``sweep-results/<spec name>``).
    :param workers: local worker processes (default :func:`default_workers`), one BLAS thread each.
    :param scheduler: a Dask scheduler address (``tcp://HOST:8786``) to run on instead.
    :param resume: skip runs with a success in the store (failed and missing ones run).
    :param rerun: run every run again, overwriting the store's files.
    :param check: first check names, options and data in this process (:func:`check_runs`).
    :raises SweepInterrupted: on Ctrl-C, after stopping the workers; finished runs are kept.
    """
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    check_options(workers, scheduler)
    root = Path(store if store is not None else default_store(spec))
    runs = spec.runs()
    check_store(root, spec, rerun)  # every check before anything is written: a refused sweep leaves no store
    pending = select_runs(runs, ResultStore.open(root), resume=resume, rerun=rerun) if is_store(root) else runs
    if check and pending:
        check_runs(pending)
    results = ResultStore.create(root)
    with results.lock():
        results.remove_temporaries()
        results.remember(spec.settings())
        pending = select_runs(runs, results, resume=resume, rerun=rerun)
        succeeded, failed = 0, []  # type: int, list[StoredRun]

        def outcome() -> SweepOutcome:
            return SweepOutcome(results.root, len(runs), len(runs) - len(pending), succeeded, tuple(failed))

        if progress is not None:
            progress(SweepProgress(total=len(pending), done=0, failed=0))
        if not pending:
            return outcome()
        if scheduler is not None:
            stream = _dask_outcomes(pending, scheduler)
        else:
            stream = _local_outcomes(pending, min(workers or default_workers(), len(pending)))
        try:
            with closing(stream):  # type: ignore[type-var]  # a generator has close()
                for run, result in stream:
                    stored = _store(results, run, result)
                    if stored.status == OK:
                        succeeded += 1
                    else:
                        failed.append(stored)
                    if progress is not None:
                        progress(SweepProgress(len(pending), succeeded + len(failed), len(failed), run, stored.status,
                                               stored.elapsed))
        except KeyboardInterrupt as stop:
            raise SweepInterrupted(outcome(), exit_code(stop)) from None
        return outcome()


def check_options(workers: int | None, scheduler: str | None) -> None:
    """``--workers`` and ``--scheduler``, checked before anything is announced or written."""
    if scheduler is not None and workers is not None:
        raise ConfigError("--workers sets local processes; a Dask cluster (--scheduler) has its own workers")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if scheduler is not None:
        _distributed()  # a missing install fails before anything is written
        if not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://\S+|[^\s/:]+:\d+", scheduler):
            raise ConfigError(f"--scheduler {scheduler!r} is not a Dask scheduler address; give one like "
                              f"tcp://HOST:8786")


def check_store(root: Path, spec: SweepSpec, rerun: bool) -> None:
    """The store can be written, and an existing one was made with the sweep's settings."""
    if is_store(root):
        check_settings(ResultStore.open(root), spec, rerun)
        probe_writable(root / "runs", "--store")
    else:
        probe_writable(root.parent, "--store")


def check_settings(store: ResultStore, spec: SweepSpec, rerun: bool) -> None:
    """Refuse to resume into a store made with other settings (unless ``rerun``)."""
    stored = store.settings()
    difference = settings_difference(stored, spec.settings()) if stored is not None else ""
    if difference and not rerun:
        raise ResultFileError(f"store {store.root} was made with other settings ({difference}); pass --rerun to run "
                              f"this sweep into it anyway, or choose a new --store")


def _store(store: ResultStore, run: SweepRun, outcome: dict[str, Any]) -> StoredRun:
    previous = store.get(run.run_id)
    stored = StoredRun(
        run_id=run.run_id, status=outcome["status"], config=run.config.to_dict(),
        result=BenchmarkResult.from_dict(outcome["result"]) if outcome["status"] == OK else None,
        error=outcome.get("error"), attempts=previous.attempts + 1 if previous else 1,
        elapsed=outcome.get("elapsed"), host=outcome.get("host"),
        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    store.put(stored)
    return stored


def execute_run(config: CompareConfig) -> dict[str, Any]:
    """Run one sweep run where this is called (a local worker or a Dask worker), with one
    BLAS thread. Returns the run's outcome; an exception becomes a failure outcome with its
    traceback text, so the sweep records it and goes on."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    try:
        with threadpool_limits(limits=1):
            result = compare(config)
    except Exception as exc:  # not hidden: type, message and traceback go into the store
        return _failure(exc, traceback.format_exc(), time.perf_counter() - started)
    return {"status": OK, "result": result.to_dict(), "elapsed": time.perf_counter() - started,
            "host": socket.gethostname()}


def _failure(exc: BaseException, text: str, elapsed: float | None = None) -> dict[str, Any]:
    kind = type(exc).__qualname__
    if type(exc).__module__ != "builtins":
        kind = f"{type(exc).__module__}.{kind}"
    return {"status": FAILED, "error": {"type": kind, "message": str(exc), "traceback": text}, "elapsed": elapsed,
            "host": socket.gethostname()}


def _init_worker(parent: int | None = None) -> None:
    """A local worker: one BLAS/OpenMP thread (more threads than cores make small linear
    algebra 30-100x slower), Ctrl-C and SIGTERM left to the parent, which stops the workers
    itself, and an end within a second of the parent's death, even a SIGKILL: the kernel's
    parent-death signal on Linux, and a watchdog on the parent's pid everywhere."""
    os.environ.update(dict.fromkeys(BLAS_ENV, "1"))  # for libraries loaded from now on
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # for those already loaded (numpy came with the qenc_bench import)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid() if parent is None else parent
    die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:  # not glibc: the watchdog alone
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="qenc-bench parent watchdog", daemon=True).start()


def _local_outcomes(runs: list[SweepRun], workers: int, execute: Callable[[CompareConfig], dict] = execute_run,
                    ) -> Iterator[tuple[SweepRun, dict[str, Any]]]:
    """Run on a pool of spawned processes, yielding each (run, outcome) as it finishes. At most
    one run per worker is in flight, so a dying worker fails only runs that were running; the
    pool is then made anew and the sweep goes on."""
    queue = deque(runs)
    context = multiprocessing.get_context("spawn")  # not fork: no inherited BLAS threads or locks
    pool: ProcessPoolExecutor | None = None
    generation = 0
    in_flight: dict[Future, tuple[SweepRun, int]] = {}
    try:
        while queue or in_flight:
            if pool is None and queue:
                pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                           initargs=(os.getpid(),))
                generation += 1
            while queue and pool is not None and len(in_flight) < workers:
                try:
                    future = pool.submit(execute, queue[0].config)
                except BrokenProcessPool:
                    pool.shutdown(wait=False)
                    pool = None
                    break
                in_flight[future] = (queue.popleft(), generation)
            if not in_flight:
                continue
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                run, born = in_flight.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker died or the run could not be sent; recorded
                    note = ("; a worker process died while this run (or another one running at the same time) "
                            "ran: rerun with --resume to retry" if isinstance(exc, BrokenProcessPool) else "")
                    outcome = _failure(exc, traceback.format_exc() + note)
                    if isinstance(exc, BrokenProcessPool) and born == generation and pool is not None:
                        pool.shutdown(wait=False, cancel_futures=True)
                        pool = None
                yield run, outcome
    except BaseException:
        hold()  # stopping: a second signal must not cut the workers' shutdown short
        if pool is not None:
            _kill_workers(pool)
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def _distributed():
    try:
        import distributed
    except ImportError:
        raise MissingDependencyError("dask.distributed", "running a sweep on a Dask cluster (--scheduler)",
                                     DASK_INSTALL) from None
    return distributed


def _dask_outcomes(runs: list[SweepRun], address: str) -> Iterator[tuple[SweepRun, dict[str, Any]]]:
    """Run on a Dask cluster: one task per run, yielded as each finishes (the store is
    written here, by the client)."""
    distributed = _distributed()
    try:
        client = distributed.Client(address, set_as_default=False, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    futures = {}
    try:
        if not client.scheduler_info().get("workers"):
            print(f"the Dask cluster at {address} has no workers yet; waiting up to {WORKER_WAIT_SECONDS} s for one "
                  f"(start one with: dask worker {address})", file=sys.stderr, flush=True)
            try:
                client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
            except (TimeoutError, OSError) as exc:
                raise ConfigError(f"no Dask worker joined {address} within {WORKER_WAIT_SECONDS} s; start one with: "
                                  f"dask worker {address}") from exc
        for run in runs:
            key = f"qenc-bench-{run.run_id}-{uuid.uuid4().hex[:8]}"  # readable on the dashboard, never reused
            futures[client.submit(execute_run, run.config, pure=False, key=key)] = run
        for future in distributed.as_completed(list(futures), loop=client.loop):
            run = futures.pop(future)
            try:
                outcome = future.result()
            except Exception as exc:  # e.g. KilledWorker: the task's worker died too often; recorded
                outcome = _failure(exc, traceback.format_exc())
            future.release()
            yield run, outcome
    except BaseException:
        hold()
        client.cancel(list(futures))
        raise
    finally:
        client.close()
