"""The results store of a sweep: a directory with one JSON file per run.

Layout::

    STORE/
      qenc-bench-store.json     marker: {"kind": "qenc-bench sweep store", "schema_version": 1,
                                "settings": {...}, "settings_digest": "..."} (what every run shares)
      .lock                     held (flock) by the sweep writing into the store
      runs/<run id>.json        one per run: a success (its BenchmarkResult) or a failure

A run id is readable and content-addressed: ``mnist-0v1-atp-s0-<hash>`` (classes joined by
``v``; ``0v1v2`` for one-vs-rest), the hash taken over
the run's full configuration (dataset, class pair, encoder, seed and every option), so the
same run always lands in the same file and a changed option is a new run. Each file is
written atomically (temporary file, fsync, rename), so a crash leaves whole files only.
:func:`to_results` turns the successful runs back into one :class:`BenchmarkResult` per
comparison (dataset, class pair and shared options) for ranking and reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ResultFileError
from .files import write_json_atomic
from .records import BenchmarkResult, RunRecord, with_relative_costs

STORE_SCHEMA_VERSION = 1
STORE_KIND = "qenc-bench sweep store"
MARKER = "qenc-bench-store.json"
OK, FAILED = "ok", "failed"
# what differs between the runs of one comparison, and what to_results adds about them
PER_RUN_KEYS = ("encoders", "classical", "seed", "seeds", "encoder_options", "seed_values", "sweep_runs")


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_digest(config: dict[str, Any], length: int = 16) -> str:
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:length]


def run_id(config: dict[str, Any]) -> str:
    """The id of a one-encoder, one-seed run from its configuration (``CompareConfig.to_dict()``)."""
    classes = "v".join(str(c) for c in config["classes"])
    model = (config.get("encoders") or config.get("classical") or ["none"])[0]
    readable = f"{config['dataset']}-{classes}-{model}-s{config['seed']}"
    return f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', readable)}-{config_digest(config)}"


@dataclass(frozen=True)
class StoredRun:
    """One file of the store: a finished run (``status`` ok, with its result) or a failed one
    (``status`` failed, with ``error``: type, message and traceback text)."""

    run_id: str
    status: str
    config: dict[str, Any]
    result: BenchmarkResult | None = None
    error: dict[str, str] | None = None
    attempts: int = 1
    elapsed: float | None = None
    host: str | None = None
    finished: str = ""

    def __post_init__(self) -> None:
        if self.status not in (OK, FAILED):
            raise ValueError(f"status must be {OK!r} or {FAILED!r}, got {self.status!r}")
        if (self.status == OK) != (self.result is not None):
            raise ValueError("a successful run has a result and a failed one has none")
        if self.status == FAILED and not self.error:
            raise ValueError("a failed run needs its error")

    @property
    def record(self) -> RunRecord | None:
        return self.result.records[0] if self.result is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "qenc-bench sweep run",
            "schema_version": STORE_SCHEMA_VERSION,
            "run_id": self.run_id,
            "status": self.status,
            "attempts": self.attempts,
            "finished": self.finished,
            "elapsed": self.elapsed,
            "host": self.host,
            "config": self.config,
            "result": self.result.to_dict() if self.result is not None else None,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredRun:
        if data.get("schema_version") != STORE_SCHEMA_VERSION:
            raise ValueError(f"store schema version {data.get('schema_version')!r}, expected {STORE_SCHEMA_VERSION}")
        result = data.get("result")
        return cls(
            run_id=data["run_id"], status=data["status"], config=data["config"],
            result=BenchmarkResult.from_dict(result) if result is not None else None,
            error=data.get("error"), attempts=data.get("attempts", 1), elapsed=data.get("elapsed"),
            host=data.get("host"), finished=data.get("finished", ""),
        )


class ResultStore:
    """A directory of :class:`StoredRun` files (see the module docstring for the layout)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"

    @classmethod
    def create(cls, root: str | os.PathLike) -> ResultStore:
        """Open a store for writing, making the directory and its marker if they are new."""
        store = cls(root)
        marker = store.root / MARKER
        if store.root.exists() and not marker.exists() and any(store.root.iterdir()):
            raise ResultFileError(
                f"{store.root} is a non-empty directory but not a qenc-bench store; choose another --store")
        store.runs_dir.mkdir(parents=True, exist_ok=True)
        if not marker.exists():
            write_json_atomic(marker, {"kind": STORE_KIND, "schema_version": STORE_SCHEMA_VERSION})
        store.check()
        return store

    @classmethod
    def open(cls, root: str | os.PathLike) -> ResultStore:
        """Open an existing store for reading."""
        store = cls(root)
        store.check()
        return store

    def settings(self) -> dict[str, Any] | None:
        """The settings the store was made with (None for a store that recorded none)."""
        return json.loads((self.root / MARKER).read_text()).get("settings")

    def remember(self, settings: dict[str, Any]) -> None:
        """Record the settings every run of the store shares (and their digest)."""
        from ..resume import settings_digest

        marker = json.loads((self.root / MARKER).read_text())
        marker.update(settings=settings, settings_digest=settings_digest(settings))
        write_json_atomic(self.root / MARKER, marker)

    def check(self) -> None:
        marker = self.root / MARKER
        try:
            data = json.loads(marker.read_text())
        except (FileNotFoundError, NotADirectoryError):
            raise ResultFileError(f"{self.root} is not a qenc-bench sweep store (no {MARKER})") from None
        except json.JSONDecodeError as exc:
            raise ResultFileError(f"{marker} is not valid JSON ({exc})") from None
        if data.get("kind") != STORE_KIND or data.get("schema_version") != STORE_SCHEMA_VERSION:
            raise ResultFileError(
                f"{marker}: store schema {data.get('schema_version')!r} is not supported (this qenc-bench "
                f"reads version {STORE_SCHEMA_VERSION})"
            )

    def path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.json"

    def get(self, run_id: str) -> StoredRun | None:
        return self._read(self.path(run_id))

    def put(self, run: StoredRun) -> Path:
        path = self.path(run.run_id)
        write_json_atomic(path, run.to_dict())
        return path

    def __iter__(self) -> Iterator[StoredRun]:
        for path in sorted(self.runs_dir.glob("*.json")):
            run = self._read(path)
            if run is not None:
                yield run

    def _read(self, path: Path) -> StoredRun | None:
        try:
            return StoredRun.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except json.JSONDecodeError as exc:
            raise ResultFileError(f"store file {path} is not valid JSON ({exc}); delete it to run it again") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultFileError(f"store file {path} does not match the store schema: {exc}") from None

    def remove_temporaries(self) -> int:
        """Delete temporary files a crashed writer left behind; call it holding :meth:`lock`."""
        leftovers = list(self.runs_dir.glob(".*.tmp"))
        for path in leftovers:
            path.unlink(missing_ok=True)
        return len(leftovers)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store for one writer; a second sweep on the same store is an error.

        An ``flock`` is released by the operating system when its process dies, so a crash
        never leaves a stale lock. Where ``fcntl`` is missing (Windows) nothing is locked.
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        with open(self.root / ".lock", "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                raise ResultFileError(
                    f"store {self.root} is in use by another sweep ({holder}); wait for it or choose another --store"
                ) from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}\n")
            fh.flush()
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def comparison_key(config: dict[str, Any]) -> dict[str, Any]:
    """What runs of one comparison share: the configuration less encoder, seed and options."""
    return {k: v for k, v in config.items() if k not in PER_RUN_KEYS}


def to_results(store: ResultStore | str | os.PathLike) -> list[BenchmarkResult]:
    """The store's successful runs as one :class:`BenchmarkResult` per comparison.

    Runs belong to one comparison when they share the dataset, the class pair and every
    option but encoder, seed and encoder options. The result's ``config`` is the shared one
    with the encoders, seeds and per-encoder options found; its environment is the first
    run's (``other_environments`` lists any different ones, e.g. from other Dask workers).
    """
    store = store if isinstance(store, ResultStore) else ResultStore.open(store)
    groups: dict[str, list[StoredRun]] = {}
    for run in store:
        if run.status == OK:
            groups.setdefault(canonical_json(comparison_key(run.config)), []).append(run)
    results = []
    for runs in groups.values():
        records = [r.record for r in runs if r.record is not None]
        results_of = [r.result for r in runs if r.result is not None]
        runs.sort(key=lambda r: (r.config["seed"], bool(r.config.get("classical")), r.run_id))
        encoders = list(dict.fromkeys(e for r in runs for e in r.config.get("encoders", [])))
        classical = list(dict.fromkeys(c for r in runs for c in r.config.get("classical", [])))
        seeds = sorted({r.config["seed"] for r in runs})
        options: dict[str, Any] = {}
        for r in runs:
            options.update(r.config.get("encoder_options", {}))
        config = {**comparison_key(runs[0].config), "encoders": encoders, "classical": classical,
                  "seed": seeds[0], "seeds": len(seeds),
                  "seed_values": seeds, "encoder_options": options, "sweep_runs": [r.run_id for r in runs]}
        environments: list[dict[str, Any]] = []
        for result in results_of:
            if result.environment not in environments:
                environments.append(result.environment)
        environment = dict(environments[0])
        if len(environments) > 1:
            environment["other_environments"] = environments[1:]
        records = with_relative_costs(sorted(records, key=lambda r: (r.seed, r.is_classical, r.encoder)),
                                      config.get("cost_baseline", "angle"))
        results.append(BenchmarkResult(config=config, records=tuple(records), environment=environment,
                                       created=max(r.finished for r in runs)))
    return results


def result_file_name(result: BenchmarkResult) -> str:
    """A file name for one exported comparison: ``mnist-0v1-<hash of its shared config>.json``."""
    classes = "v".join(str(c) for c in result.config["classes"])
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{result.config['dataset']}-{classes}")
    return f"{readable}-{config_digest(comparison_key(result.config), 8)}.json"


def is_store(path: str | os.PathLike) -> bool:
    return (Path(path) / MARKER).is_file()


def load_results(path: str | os.PathLike) -> list[BenchmarkResult]:
    """A result file, or every comparison in a sweep store: what ``report`` reads."""
    return to_results(path) if is_store(path) else [BenchmarkResult.load(path)]
