"""The job journal: one JSON line per event of a hardware job, written as it happens.

The harness names the file (``job_journal``, next to ``--out``). Each job gets a
``submitted`` line the moment the service returns its id -- device, time, shots, circuits,
the options that shape its numbers and the tags the harness gave (:meth:`Backend.job_tags`:
purpose, encoder, seed and, for a test evaluation, ``labels``, ``test_ids``, ``record`` and
``result_file``) -- then ``done`` or ``failed``, and ``collected`` once
``qenc-bench ibm-jobs --collect`` has written its record. Every line is flushed and synced
before the run goes on, so a crash loses no job id. A dry run writes ``dry_run`` lines
(no job id), and a fake device's local runs ``local`` lines (an id ``local-...`` per batch, so
a record names the runs it came from). No line holds a token.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from qenc_bench import DataError

SUBMITTED, DONE, FAILED, COLLECTED, DRY_RUN = "submitted", "done", "failed", "collected", "dry_run"
#: a batch run locally on a fake device: its id (``local-...``) is a record of the run, not a
#: service job, so there is nothing to look up or collect later
LOCAL = "local"
EVENTS = (SUBMITTED, DONE, FAILED, COLLECTED, DRY_RUN, LOCAL)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def jsonable(value: Any) -> Any:
    """``value`` with numpy arrays and scalars, tuples, sets and paths made JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


class JobJournal:
    """Appends events to ``path`` (made with its folder at the first event)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def append(self, event: str, **fields: Any) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown journal event {event!r}")
        line = json.dumps(jsonable({"event": event, "time": now(), **fields}), sort_keys=True, allow_nan=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def entries(self) -> list[dict[str, Any]]:
        """Every event, in order. A line cut short by a crash (the last one) is skipped; any
        other unreadable line is a :class:`~qenc_bench.DataError` naming the file and line."""
        if not self.path.is_file():
            raise DataError(f"job journal {self.path} does not exist")
        lines = self.path.read_text(encoding="utf-8").splitlines()
        out = []
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                entry = json.loads(text)
            except ValueError:
                if number == len(lines):
                    break
                raise DataError(f"job journal {self.path}, line {number}: not a JSON object") from None
            if not isinstance(entry, dict) or entry.get("event") not in EVENTS:
                raise DataError(f"job journal {self.path}, line {number}: not a journal event")
            out.append(entry)
        return out

    def jobs(self) -> list[JournalJob]:
        """The submitted jobs, in submission order, with what later lines say about them."""
        jobs: dict[str, JournalJob] = {}
        for entry in self.entries():
            job_id = entry.get("job_id")
            if entry["event"] == SUBMITTED and job_id:
                jobs[job_id] = JournalJob(job_id, entry)
            elif job_id in jobs:
                jobs[job_id].events.append(entry)
        return list(jobs.values())


@dataclass
class JournalJob:
    """One submitted job: its ``submitted`` line and the events after it."""

    job_id: str
    submitted: dict[str, Any]
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tags(self) -> dict[str, Any]:
        return self.submitted.get("tags") or {}

    @property
    def last_event(self) -> str:
        return self.events[-1]["event"] if self.events else SUBMITTED

    @property
    def collected(self) -> bool:
        return any(e["event"] == COLLECTED for e in self.events)

    @property
    def collectable(self) -> bool:
        """A test evaluation whose tags hold what completes its record."""
        tags = self.tags
        return tags.get("purpose") == "test" and all(tags.get(k) is not None for k in ("labels", "record",
                                                                                         "result_file"))
