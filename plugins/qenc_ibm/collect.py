"""A run's hardware jobs after the fact: their state on the service, and the records of
finished test evaluations written into the result file the run named.

A test job's tags (see :mod:`.journal`) hold the partial record (everything but the measured
numbers), the test labels and sample ids, and the result file. Collecting fetches the job's
``<Z>`` values, predicts ``sign(<Z>)`` (label 1 where positive, as
``qenc_bench.metrics.accuracy``; one-vs-rest: the class whose model outputs the most, from its
k jobs in submission order), fills in ``accuracy`` and the per-sample predictions, and appends
the record to the result file (made if the run never wrote it). A record already in the file
is left alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qenc_bench import BenchmarkResult, QencBenchError, RunRecord

from .account import Connection
from .errors import IBMServiceError, service_error
from .jobs import wait_for_result
from .journal import COLLECTED, JobJournal, JournalJob, now
from .options import hardware_measurement

#: states of a job that has not finished
PENDING = ("INITIALIZING", "QUEUED", "VALIDATING", "RUNNING")
COLLECTED_NOTE = "records collected from IBM Quantum jobs by 'qenc-bench ibm-jobs --collect'"


@dataclass(frozen=True)
class JobState:
    """A journalled job and what the service says of it now (``DONE``, ``QUEUED``, ``RUNNING``,
    ``ERROR``, ``CANCELLED``, or ``unknown: why``)."""

    job: JournalJob
    state: str


@dataclass
class Collection:
    """What :func:`collect` did: records written (file, encoder, seed), and why others were not."""

    written: list[tuple[str, str, int]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def job_states(journal: JobJournal, connection: Connection) -> list[JobState]:
    """Every journalled job with its state on the service (one status call per job)."""
    from qiskit_ibm_runtime.exceptions import IBMError

    states = []
    for job in journal.jobs():
        try:
            state = str(connection.service.job(job.job_id).status())
        except (IBMError, OSError, ValueError) as exc:
            state = f"unknown: {service_error('job', 'status', exc, connection.secrets)}"
        states.append(JobState(job, state))
    return states


def _record_key(record: dict[str, Any]) -> tuple:
    return (record.get("dataset"), tuple(record.get("classes") or ()), record.get("encoder"), record.get("seed"),
            record.get("model"))


def _groups(jobs: list[JournalJob]) -> dict[tuple, list[JournalJob]]:
    """Collectable test jobs by (result file, record), in submission order."""
    groups: dict[tuple, list[JournalJob]] = {}
    for job in jobs:
        if job.collectable:
            groups.setdefault((job.tags["result_file"], _record_key(job.tags["record"])), []).append(job)
    return groups


def predictions_of(outputs: np.ndarray) -> np.ndarray:
    """Binary (N,): label 1 where ``<Z>`` > 0; one-vs-rest (N, k): the class whose model outputs the most."""
    return (outputs > 0).astype(np.int64) if outputs.ndim == 1 else np.argmax(outputs, axis=1)


def completed_record(partial: dict[str, Any], outputs: np.ndarray, job: JournalJob, job_ids: list[str]) -> RunRecord:
    """The partial record with its measured numbers: accuracy and per-sample predictions.

    :param job: the (last) job's journal entry: its tags and how it was submitted.
    """
    tags, submitted = job.tags, job.submitted
    labels = np.asarray(tags["labels"], dtype=np.int64)
    predicted = predictions_of(outputs)
    if len(predicted) != len(labels):
        raise IBMServiceError("job", f"jobs {', '.join(job_ids)} returned {len(predicted)} values for "
                                     f"{len(labels)} test labels")
    record = dict(partial)
    record["accuracy"] = float(np.mean(predicted == labels))
    record.setdefault("measurement", hardware_measurement(
        str(submitted.get("device")), submitted.get("shots_per_circuit"), submitted.get("resilience_level", 0),
        submitted.get("estimator_options") or {}))
    record.setdefault("entropy", None)
    record.setdefault("timings", {})
    samples = dict(record.get("samples") or {})
    if tags.get("test_ids") is not None:
        samples.setdefault("index", [int(i) for i in tags["test_ids"]])
    samples.setdefault("index", list(range(len(labels))))
    samples["label"] = labels.tolist()
    samples["prediction"] = predicted.tolist()
    record["samples"] = samples
    info = dict(record.get("backend_info") or {})
    info.update(jobs=list(job_ids), collected=now())
    info.setdefault("summary", f"{info.get('device', 'IBM Quantum')}: collected from {len(job_ids)} job(s) after the run")
    record["backend_info"] = info
    return RunRecord.from_dict(record)


def _result_path(name: str, journal: JobJournal) -> Path:
    path = Path(name)
    if not path.is_absolute() and not path.exists() and (journal.path.parent / path.name).exists():
        return journal.path.parent / path.name
    return path


def _write(path: Path, record: RunRecord, config: dict[str, Any] | None) -> bool:
    """Append ``record`` to the result file at ``path`` (made if missing); ``False`` if it
    already holds it."""
    if path.exists():
        result = BenchmarkResult.load(path)
        if any(_record_key(r.to_dict()) == _record_key(record.to_dict()) for r in result.records):
            return False
        notes = result.notes if COLLECTED_NOTE in result.notes else (*result.notes, COLLECTED_NOTE)
        result = replace(result, records=(*result.records, record), notes=notes)
    else:
        config = config or {"dataset": record.dataset, "classes": list(record.classes), "seeds": 1, "training": {},
                            "backend": record.backend}
        result = BenchmarkResult(config=config, records=(record,), notes=(COLLECTED_NOTE,), complete=False)
    # written beside, read back through the schema's checks, then moved over: a record the
    # schema refuses leaves the result file as it was
    trial = path.with_name(f".{path.name}.collecting.json")
    try:
        result.save(trial, force=True)
        BenchmarkResult.load(trial)
        os.replace(trial, path)
    finally:
        trial.unlink(missing_ok=True)
    return True


def collect(journal: JobJournal, connection: Connection, *, timeout: float = 60.0, retries: int = 3) -> Collection:
    """Complete every finished, collectable test job's record into its result file."""
    report = Collection()
    for (result_file, _), jobs in _groups(journal.jobs()).items():
        partial = jobs[-1].tags["record"]
        needed = len(partial.get("classes") or ()) if len(partial.get("classes") or ()) > 2 else 1
        jobs = jobs[-needed:]
        label = f"{partial.get('encoder')} seed {partial.get('seed')}"
        if len(jobs) < needed:
            report.skipped.append(f"{label}: {len(jobs)} of its {needed} one-vs-rest jobs were submitted")
            continue
        path = _result_path(result_file, journal)
        try:
            outputs = [_values(job, connection, timeout, retries, journal) for job in jobs]
            record = completed_record(partial, np.stack(outputs, axis=1) if needed > 1 else outputs[0],
                                      jobs[-1], [j.job_id for j in jobs])
            written = _write(path, record, jobs[-1].tags.get("config"))
        except QencBenchError as exc:  # a job not done, a malformed record or result file: said, then the next
            report.skipped.append(f"{label}: {exc}")
            continue
        if written:
            report.written.append((str(path), str(partial.get("encoder")), int(partial.get("seed", 0))))
        else:
            report.skipped.append(f"{label}: already in {path}")
        for job in jobs:
            if not job.collected:
                journal.append(COLLECTED, job_id=job.job_id, result_file=str(path))
    return report


def _values(job: JournalJob, connection: Connection, timeout: float, retries: int, journal: JobJournal) -> np.ndarray:
    from qiskit_ibm_runtime.exceptions import IBMError

    try:
        remote = connection.service.job(job.job_id)
        state = str(remote.status())
    except (IBMError, OSError, ValueError) as exc:
        raise service_error("job", f"job {job.job_id} could not be looked up", exc, connection.secrets) from None
    if state in PENDING:
        raise IBMServiceError("job", f"job {job.job_id} is {state}; collect again when it is DONE")
    result = wait_for_result(remote, timeout=timeout, retries=retries, secrets=connection.secrets,
                             device=str(job.submitted.get("device")),
                             recover=f"run qenc-bench ibm-jobs {journal.path} --collect again later")
    return np.clip(np.asarray(result[0].data.evs, dtype=np.float64), -1.0, 1.0)
