"""The result file's schema as data: field types, one table per level of the file, the
migrations from older versions, and validation with errors that name the file, the record and
the field.

The schema is documented in ``docs/results-schema.md``; the tables below are its executable
form, and a test keeps them in step with :class:`~qenc_bench.results.RunRecord`.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ResultFileError

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class FieldType:
    """A JSON type as the schema states it: ``name`` is how error messages and docs say it."""

    name: str
    check: Callable[[Any], bool]


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def optional(t: FieldType) -> FieldType:
    return FieldType(f"{t.name} or null", lambda v: v is None or t.check(v))


def mapping_of(t: FieldType, values: str) -> FieldType:
    return FieldType(f"an object of {values}", lambda v: isinstance(v, dict) and all(t.check(x) for x in v.values()))


def list_of(t: FieldType, items: str) -> FieldType:
    return FieldType(f"a list of {items}", lambda v: isinstance(v, list) and all(t.check(x) for x in v))


STRING = FieldType("a string", lambda v: isinstance(v, str))
BOOLEAN = FieldType("a boolean", lambda v: isinstance(v, bool))
INTEGER = FieldType("an integer", is_int)
COUNT = FieldType("a non-negative integer", lambda v: is_int(v) and v >= 0)
POSITIVE = FieldType("a positive integer", lambda v: is_int(v) and v >= 1)
NUMBER = FieldType("a finite number", is_number)
FRACTION = FieldType("a number in [0, 1]", lambda v: is_number(v) and 0.0 <= v <= 1.0)
NON_NEGATIVE = FieldType("a non-negative number", lambda v: is_number(v) and v >= -1e-9)
OBJECT = FieldType("an object", lambda v: isinstance(v, dict))
KIND = FieldType('"quantum" or "classical"', lambda v: v in ("quantum", "classical"))
CLASSES = FieldType("a list of two or more distinct integers",
                    lambda v: isinstance(v, list) and len(v) >= 2 and all(map(is_int, v)) and len(set(v)) == len(v))
GRID_OPTION = FieldType('a positive integer, "auto" or null', lambda v: v is None or v == "auto" or POSITIVE.check(v))


def _samples_ok(v: Any) -> bool:
    """Per-sample outcomes: equally long lists ``index``, ``label``, ``prediction`` (integers),
    optional ``entropy`` (numbers), ``noisy`` and ``adversarial`` (label -> predictions)."""
    if not isinstance(v, dict):
        return False
    if not v:
        return True
    columns = [v.get("index"), v.get("label"), v.get("prediction")]
    lists = [c for c in columns if isinstance(c, list) and all(map(is_int, c))]
    if len(lists) != 3 or len({len(c) for c in lists}) != 1:
        return False
    n = len(lists[0])
    entropy = v.get("entropy")
    if entropy is not None and not (isinstance(entropy, list) and len(entropy) == n and all(map(is_number, entropy))):
        return False
    for key in ("noisy", "adversarial"):
        per_level = v.get(key, {})
        if not isinstance(per_level, dict) or not all(
                isinstance(p, list) and len(p) == n and all(map(is_int, p)) for p in per_level.values()):
            return False
    return True


SAMPLES = FieldType("per-sample outcomes: equally long integer lists index, label, prediction (and optional "
                    "entropy, noisy, adversarial)", _samples_ok)

#: Top level of a result file: field -> (type, required).
RESULT_FIELDS: dict[str, tuple[FieldType, bool]] = {
    "schema_version": (POSITIVE, True),
    "created": (STRING, False),
    "config": (OBJECT, True),
    "environment": (OBJECT, False),
    "records": (list_of(OBJECT, "objects"), True),
    "notes": (list_of(STRING, "strings"), False),
    "complete": (BOOLEAN, False),
}

#: ``config``: what the comparison was asked to do (``CompareConfig.to_dict``). Only the
#: fields a report needs are required; the others are checked when present.
CONFIG_FIELDS: dict[str, tuple[FieldType, bool]] = {
    "dataset": (STRING, True),
    "classes": (CLASSES, True),
    "seeds": (POSITIVE, True),
    "training": (OBJECT, True),
    "encoders": (list_of(STRING, "strings"), False),
    "classical": (list_of(STRING, "strings"), False),
    "seed": (INTEGER, False),
    "grid": (GRID_OPTION, False),
    "train_size": (COUNT, False),
    "test_size": (COUNT, False),
    "validation_size": (optional(COUNT), False),
    "backend": (STRING, False),
    "train_backend": (STRING, False),
    "model": (STRING, False),
    "layers": (POSITIVE, False),
    "noise": (list_of(FRACTION, "numbers in [0, 1]"), False),
    "attacks": (list_of(OBJECT, "objects"), False),
    "adversarial_training": (optional(OBJECT), False),
    "adversarial_ratio": (FRACTION, False),
    "encoder_options": (mapping_of(OBJECT, "objects"), False),
    "classical_options": (mapping_of(OBJECT, "objects"), False),
    "backend_options": (OBJECT, False),
    "device_noise": (list_of(STRING, "strings"), False),
    "disable_plugins": (list_of(STRING, "strings"), False),
    "cost_baseline": (optional(STRING), False),
    "metrics": (list_of(STRING, "strings"), False),
    "metric_options": (mapping_of(OBJECT, "objects"), False),
}

#: ``config.training``: the training budget every encoder got (``TrainConfig``).
TRAINING_FIELDS: dict[str, tuple[FieldType, bool]] = {
    "learning_rate": (NUMBER, False),
    "max_epochs": (POSITIVE, False),
    "patience": (POSITIVE, False),
    "batch_size": (POSITIVE, False),
    "min_delta": (NUMBER, False),
    "optimizer": (STRING, False),
    "max_iterations": (POSITIVE, False),
    "restarts": (POSITIVE, False),
}

#: One record (``RunRecord.to_dict``): field -> (type, required).
RECORD_FIELDS: dict[str, tuple[FieldType, bool]] = {
    "dataset": (STRING, True),
    "classes": (CLASSES, True),
    "encoder": (STRING, True),
    "seed": (INTEGER, True),
    "model": (STRING, True),
    "backend": (STRING, True),
    "train_backend": (STRING, True),
    "accuracy": (FRACTION, True),
    "entropy": (optional(NON_NEGATIVE), True),
    "validation_accuracy": (FRACTION, True),
    "n_qubits": (COUNT, True),
    "two_qubit_gates": (COUNT, True),
    "depth": (COUNT, True),
    "epochs": (COUNT, True),
    "converged": (BOOLEAN, True),
    "timings": (mapping_of(NUMBER, "numbers"), True),
    "kind": (KIND, False),
    "measurement": (STRING, False),
    "engines": (mapping_of(STRING, "strings"), False),
    "backend_info": (OBJECT, False),
    "samples": (SAMPLES, False),
    "training": (OBJECT, False),
    "encoder_info": (OBJECT, False),
    "sizes": (mapping_of(COUNT, "non-negative integers"), False),
    "requested_sizes": (mapping_of(COUNT, "non-negative integers"), False),
    "gate_counts": (mapping_of(COUNT, "non-negative integers"), False),
    "noisy_accuracy": (mapping_of(FRACTION, "numbers in [0, 1]"), False),
    "adversarial_accuracy": (mapping_of(FRACTION, "numbers in [0, 1]"), False),
    "attack_seconds": (mapping_of(NUMBER, "numbers"), False),
    "attack_gradient": (optional(STRING), False),
    "adversarial_training": (optional(OBJECT), False),
    "grid": (optional(POSITIVE), False),
    "feature_map": (mapping_of(COUNT, "non-negative integers"), False),
    "dataset_notes": (OBJECT, False),
    "metrics": (OBJECT, False),
    "relative_cost": (optional(NON_NEGATIVE), False),
}

UNPAIRED_NOTE = ("written by qenc-bench before schema version 2: no per-sample outcomes, so its encoders "
                 "cannot be compared sample by sample (intervals and ranks treat its seeds as unpaired)")


def _v1_measurement(record: dict[str, Any], config: dict[str, Any]) -> str:
    """How a version-1 record was measured, from its backend and the comparison's options."""
    options = config.get("backend_options") or {}
    backend = str(record.get("backend", ""))
    shots = options.get("shots")
    if backend.startswith("ibm"):
        device = options.get("device", "FakeSherbrooke")
        return f"device {device}, shots={shots or 4000}"
    return f"shots={shots}" if shots else "exact"


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds per-sample outcomes, the record kind, how it was measured and which
    engines ran; version-1 records have none of the outcomes (noted: they cannot be paired)."""
    for record in data.get("records", []):
        if isinstance(record, dict):
            record.setdefault("kind", "quantum")
            record.setdefault("measurement", _v1_measurement(record, data.get("config") or {}))
            record.setdefault("engines", {"train": record.get("train_backend", "?"),
                                          "evaluate": record.get("backend", "?")})
    notes = data.setdefault("notes", [])
    if isinstance(notes, list) and UNPAIRED_NOTE not in notes:
        notes.append(UNPAIRED_NOTE)
    return data


#: ``MIGRATIONS[n]`` turns a version-n result (a dict) into version n + 1 and returns it; it
#: may change its argument, :func:`upgrade` hands it a copy.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_1_to_2}


def shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_fields(data: dict[str, Any], schema: dict[str, tuple[FieldType, bool]], where: str) -> None:
    missing = [name for name, (_, required) in schema.items() if required and name not in data]
    if missing:
        names = ", ".join(f"'{m}'" for m in missing)
        raise ResultFileError(f"{where}: missing field{'s' if len(missing) > 1 else ''} {names}")
    for name, (kind, _) in schema.items():
        if name in data and not kind.check(data[name]):
            raise ResultFileError(f"{where}: field '{name}' must be {kind.name}, got {shown(data[name])}")


def upgrade(data: Any, path: str | os.PathLike = "<result>", *,
            migrations: dict[int, Callable[[dict], dict]] | None = None, current: int = SCHEMA_VERSION) -> dict:
    """The result as the current schema version: older versions are migrated one version at
    a time with :data:`MIGRATIONS` (on a copy); newer, unknown or absent versions are errors.

    :param migrations: the migration table (tests give their own); :data:`MIGRATIONS` if None.
    :param current: the version this qenc-bench writes.
    """
    migrations = MIGRATIONS if migrations is None else migrations
    where = f"result file {path}"
    if not isinstance(data, dict):
        raise ResultFileError(f"{where} is not a qenc-bench result: expected a JSON object, got {type(data).__name__}")
    if "schema_version" not in data:
        raise ResultFileError(f"{where} has no 'schema_version': not a qenc-bench result file")
    version = data["schema_version"]
    if not POSITIVE.check(version):
        raise ResultFileError(f"{where}: field 'schema_version' must be a positive integer, got {shown(version)}")
    if version > current:
        raise ResultFileError(
            f"{where} was written by a newer qenc-bench (result schema version {version}; this one reads "
            f"versions up to {current}); upgrade qenc-bench: pip install -U qenc-bench"
        )
    if version < current and any(v not in migrations for v in range(version, current)):
        raise ResultFileError(
            f"{where} has result schema version {version}, which this qenc-bench cannot read "
            f"(no migration from version {version} to {current})"
        )
    if version == current:
        return data
    data = copy.deepcopy(data)
    for v in range(version, current):
        data = migrations[v](data)
        data["schema_version"] = v + 1
    return data


def validate_result(data: dict[str, Any], path: str | os.PathLike = "<result>") -> None:
    """Raise :class:`ResultFileError` naming the file, the record and the field where ``data``
    (an older version is checked after migration) departs from the documented schema."""
    data = upgrade(data, path)
    where = f"result file {path}"
    check_fields(data, RESULT_FIELDS, where)
    check_fields(data["config"], CONFIG_FIELDS, f"{where}: config")
    check_fields(data["config"]["training"], TRAINING_FIELDS, f"{where}: config.training")
    for i, record in enumerate(data["records"]):
        what = f"{where}: record {i}"
        if isinstance(record.get("encoder"), str) and is_int(record.get("seed")):
            what += f" ({record['encoder']} seed {record['seed']})"
        check_fields(record, RECORD_FIELDS, what)


def read_result_json(path: str | os.PathLike) -> Any:
    """The parsed JSON of a result file, or a :class:`ResultFileError` that says why not."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultFileError(f"result file {path} does not exist") from None
    except IsADirectoryError:
        raise ResultFileError(f"{path} is a directory but not a qenc-bench sweep store") from None
    except PermissionError:
        raise ResultFileError(f"result file {path} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise ResultFileError(f"result file {path} is not text (expected JSON from 'qenc-bench compare')") from None
    except json.JSONDecodeError as exc:
        raise ResultFileError(f"result file {path} is not valid JSON ({exc})") from None
