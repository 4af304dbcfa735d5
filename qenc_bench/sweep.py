"""Sweeps: a grid of independent runs read from a TOML file, run on local worker processes
or on a Dask cluster, each finished run written at once to a resumable results store.

One run is one dataset, one class pair, ONE encoder and ONE seed: :func:`harness.compare`
with a single encoder and a single seed, whose one record is stored under the run's id
(:mod:`qenc_bench.store`). :func:`run_sweep` is what ``qenc-bench sweep`` calls; a notebook
can call it directly. The file format, resume rules and cluster set-up: ``docs/sweeps.md``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import ConfigError, MissingDependencyError, ResultFileError
from .harness import CompareConfig, compare, plan
from .noise import Depolarizing, parse_noise
from .records import BenchmarkResult
from .store import FAILED, OK, ResultStore, StoredRun, run_id
from .training import TrainConfig

# keys of [compare] that the sweep sets itself, and where they go instead
SET_ELSEWHERE = {"encoders": "[sweep] encoders", "dataset": "[sweep] datasets", "classes": "[sweep] classes",
                 "seeds": "[sweep] seeds", "seed": "[sweep] seeds", "noise": "[sweep] noise",
                 "attacks": "[sweep] attacks", "data_dir": "[sweep] data_dir", "training": "the [training] table"}
SWEEP_KEYS = ("datasets", "classes", "encoders", "seeds", "noise", "attacks", "data_dir")
COMPARE_KEYS = tuple(f.name for f in fields(CompareConfig) if f.name not in SET_ELSEWHERE)
TRAINING_KEYS = tuple(f.name for f in fields(TrainConfig))
BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
            "NUMEXPR_NUM_THREADS")
DASK_INSTALL = 'pip install "qenc-bench[dask]"'
_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string", tuple: "a list"}


@dataclass(frozen=True)
class SweepRun:
    """One independent run: a :class:`CompareConfig` with one encoder and one seed."""

    run_id: str
    config: CompareConfig

    @classmethod
    def of(cls, config: CompareConfig) -> SweepRun:
        return cls(run_id(config.to_dict()), config)

    @property
    def label(self) -> str:
        c = self.config
        return f"{c.dataset} {','.join(map(str, c.classes))} {c.encoders[0]} seed {c.seed}"


@dataclass(frozen=True)
class SweepSpec:
    """The grid (datasets x class pairs x encoders x seeds) and the options every run shares
    (``base``; its encoder, dataset, classes and seed are replaced per run)."""

    datasets: tuple[str, ...]
    classes: tuple[tuple[int, ...], ...]
    encoders: tuple[str, ...]
    seeds: tuple[int, ...]
    base: CompareConfig
    name: str = "sweep"

    def runs(self) -> list[SweepRun]:
        options = self.base.encoder_options
        return [
            SweepRun.of(replace(self.base, dataset=dataset, classes=pair, encoders=(encoder,), seeds=1, seed=seed,
                                encoder_options={encoder: options[encoder]} if encoder in options else {}))
            for dataset in self.datasets for pair in self.classes for seed in self.seeds for encoder in self.encoders
        ]


def load_spec(path: str | os.PathLike, *, data_dir: str | os.PathLike | None = None) -> SweepSpec:
    """Read a sweep TOML file; ``data_dir`` (the ``--data-dir`` option) overrides its own."""
    path = Path(path)
    toml = _toml_module()
    try:
        data = toml.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"sweep file {path} does not exist") from None
    except toml.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        spec = parse_spec(data, base_dir=path.parent, name=path.stem)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return replace(spec, base=replace(spec.base, data_dir=str(data_dir))) if data_dir is not None else spec


def _toml_module():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise MissingDependencyError("tomli", "reading a sweep file on Python 3.10", "pip install tomli") from None
    return tomllib


def parse_spec(data: dict[str, Any], *, base_dir: Path = Path("."), name: str = "sweep") -> SweepSpec:
    """Check a parsed sweep file and build its spec; every mistake is a :class:`ConfigError`
    naming the key."""
    _known_keys("the sweep file", data, ("sweep", "compare", "training"), "tables")
    for table in data:
        if not isinstance(data[table], dict):
            raise ConfigError(f"{table} must be a table ([{table}]), got {data[table]!r}")
    sweep, options, training = data.get("sweep"), dict(data.get("compare", {})), data.get("training", {})
    if sweep is None:
        raise ConfigError("a sweep file needs a [sweep] table with datasets, classes, encoders and seeds")
    _known_keys("[sweep]", sweep, SWEEP_KEYS)
    for key in ("datasets", "classes", "encoders", "seeds"):
        if key not in sweep:
            raise ConfigError(f"[sweep] lacks {key!r} (it needs datasets, classes, encoders and seeds)")
    for key in options:
        if key in SET_ELSEWHERE:
            raise ConfigError(f"[compare] {key!r} is set by {SET_ELSEWHERE[key]}, not in [compare]")
    _known_keys("[compare]", options, COMPARE_KEYS)
    _known_keys("[training]", training, TRAINING_KEYS)

    encoders = _names(sweep["encoders"], "encoders")
    compare_defaults = {f.name: f.default for f in fields(CompareConfig)}
    for key, value in options.items():
        options[key] = _compare_option(key, value, compare_defaults[key], encoders)
    train_defaults = {f.name: f.default for f in fields(TrainConfig)}
    train_config = TrainConfig(**{k: _typed(f"[training] {k}", v, train_defaults[k]) for k, v in training.items()})
    if "noise" in sweep:
        options["noise"] = _noise(sweep["noise"])
    if sweep.get("attacks"):
        if "attacks" not in compare_defaults:
            raise ConfigError("[sweep] attacks: this qenc-bench's harness does not run attacks yet; remove the key")
        options["attacks"] = _attacks(sweep["attacks"])
    if "data_dir" in sweep:
        if not isinstance(sweep["data_dir"], str) or not sweep["data_dir"]:
            raise ConfigError(f"[sweep] data_dir must be a path, got {sweep['data_dir']!r}")
        options["data_dir"] = str(base_dir / sweep["data_dir"])  # absolute stays absolute
    datasets, pairs, seeds = _names(sweep["datasets"], "datasets"), _class_sets(sweep["classes"]), _seeds(sweep["seeds"])
    base = CompareConfig(encoders=encoders, dataset=datasets[0], classes=pairs[0], seeds=1, seed=seeds[0],
                         training=train_config, **options)
    return SweepSpec(datasets=datasets, classes=pairs, encoders=encoders, seeds=seeds, base=base, name=name)


def _known_keys(where: str, table: dict[str, Any], known: Iterable[str], what: str = "keys") -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in {where}; known {what}: {', '.join(known)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _unique(values: list, key: str) -> None:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ConfigError(f"[sweep] {key} lists {seen[0]!r} twice")


def _names(value: Any, key: str) -> tuple[str, ...]:
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"[sweep] {key} must be a non-empty list of names, got {value!r}")
    _unique(value, key)
    return tuple(value)


def _class_sets(value: Any) -> tuple[tuple[int, ...], ...]:
    good = isinstance(value, list) and value and all(
        isinstance(p, list) and len(p) >= 2 and all(_is_int(c) and c >= 0 for c in p) and len(set(p)) == len(p)
        for p in value)
    if not good:
        raise ConfigError(f"[sweep] classes must be a list of class pairs (or of larger sets, trained one-vs-rest) "
                          f"of different class indices, like [[0, 1], [2, 8]]; got {value!r}")
    _unique(value, "classes")
    return tuple(tuple(p) for p in value)


def _seeds(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(_is_int(s) and s >= 0 for s in value):
        raise ConfigError(f"[sweep] seeds must be a non-empty list of non-negative integers, like [0, 1]; got {value!r}")
    _unique(value, "seeds")
    return tuple(value)


def _attacks(value: Any) -> tuple:
    from .attacks import parse_attack

    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ConfigError(f"[sweep] attacks must be a list like [\"fgsm:0.1,0.3\", \"pgd:0.1:steps=20\"]; got {value!r}")
    return tuple(parse_attack(a) for a in value)


def _noise(value: Any) -> tuple[float, ...]:
    if isinstance(value, str):
        return tuple(level.p for level in parse_noise(value))
    if not isinstance(value, list) or not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in value):
        raise ConfigError(f"[sweep] noise must be a list of depolarizing levels like [0.03, 0.05]; got {value!r}")
    return tuple(Depolarizing(float(p)).p for p in value)


def _typed(where: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the field's default (ints stay ints, numbers become floats)."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = _is_int(value)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, tuple):
        ok = isinstance(value, list)
        value = tuple(value) if ok else value
    else:
        return tuple(value) if isinstance(value, list) else value
    if not ok:
        raise ConfigError(f"{where} must be {_TYPE_NAMES.get(type(default), type(default).__name__)}, got {value!r}")
    return value


def _compare_option(key: str, value: Any, default: Any, encoders: tuple[str, ...]) -> Any:
    where = f"[compare] {key}"
    if key == "grid":
        if _is_int(value) and value >= 1:
            return value
        if isinstance(value, str) and value.lower() in ("auto", "none"):
            return None if value.lower() == "none" else "auto"
        raise ConfigError(f"{where} must be a positive integer, 'auto' or 'none', got {value!r}")
    if key == "validation_size":
        if not (_is_int(value) and value >= 1):
            raise ConfigError(f"{where} must be a positive integer, got {value!r}")
        return value
    if key == "adversarial_training":
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be an attack with one eps, like \"fgsm:0.1\"; got {value!r}")
        from .attacks import parse_attack

        return parse_attack(value)
    if key == "encoder_options":
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise ConfigError(f"{where} must hold one table per encoder, like [compare.encoder_options.atp]")
        stray = sorted(set(value) - set(encoders))
        if stray:
            raise ConfigError(f"{where} names encoder {stray[0]!r}, which [sweep] encoders does not list")
        return value
    return _typed(where, value, default)


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
    """Ctrl-C stopped the sweep; every finished run is in the store; ``outcome`` says how many."""

    def __init__(self, outcome: SweepOutcome):
        super().__init__(f"sweep interrupted: {outcome.finished} of {outcome.total} runs finished")
        self.outcome = outcome


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
    from .prepare import prepare
    from .plugins import load_registry

    registry = load_registry(runs[0].config.disable_plugins)
    for encoder in sorted({run.config.encoders[0] for run in runs}):
        registry.get("encoder", encoder)
    plans: dict[str, Any] = {}
    for run in runs:
        c = run.config
        if c.dataset not in plans:
            plans[c.dataset] = plan(c, registry)
        p = plans[c.dataset]
        prepare(p.raw, c.classes, grid=p.specs["grid"], train_size=c.train_size, test_size=c.test_size,
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
    if scheduler is not None and workers is not None:
        raise ConfigError("--workers sets local processes; a Dask cluster (--scheduler) has its own workers")
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if scheduler is not None:
        _distributed()  # a missing install fails before anything is written
    results = ResultStore.create(store if store is not None else default_store(spec))
    runs = spec.runs()
    with results.lock():
        results.remove_temporaries()
        pending = select_runs(runs, results, resume=resume, rerun=rerun)
        if check and pending:
            check_runs(pending)
        succeeded, failed = 0, []

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
            with closing(stream):
                for run, result in stream:
                    stored = _store(results, run, result)
                    if stored.status == OK:
                        succeeded += 1
                    else:
                        failed.append(stored)
                    if progress is not None:
                        progress(SweepProgress(len(pending), succeeded + len(failed), len(failed), run, stored.status,
                                               stored.elapsed))
        except KeyboardInterrupt:
            raise SweepInterrupted(outcome()) from None
        return outcome()


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


def _init_worker() -> None:
    """A local worker: one BLAS/OpenMP thread (more threads than cores make small linear
    algebra 30-100x slower), and Ctrl-C left to the parent, which stops the workers itself."""
    os.environ.update(dict.fromkeys(BLAS_ENV, "1"))  # for libraries loaded from now on
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # for those already loaded (numpy came with the qenc_bench import)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
                pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
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
        client = distributed.Client(address, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    futures = {}
    try:
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
        client.cancel(list(futures))
        raise
    finally:
        client.close()
