"""Leaderboards from result files: reading them safely (schema check and migration of older
versions), merging the records of many files into groups of comparable runs, and ranking
each group.

The schema is documented in ``docs/results-schema.md``; the tables below are its executable
form, and a test keeps them in step with :class:`~qenc_bench.records.RunRecord`.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError, ResultFileError
from .ranking import RANK_BY, Summary, rank, summarize
from .records import SCHEMA_VERSION, BenchmarkResult, RunRecord

# --- schema -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldType:
    """A JSON type as the schema states it: ``name`` is how error messages and docs say it."""

    name: str
    check: Callable[[Any], bool]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def optional(t: FieldType) -> FieldType:
    return FieldType(f"{t.name} or null", lambda v: v is None or t.check(v))


def mapping_of(t: FieldType, values: str) -> FieldType:
    return FieldType(f"an object of {values}", lambda v: isinstance(v, dict) and all(t.check(x) for x in v.values()))


def list_of(t: FieldType, items: str) -> FieldType:
    return FieldType(f"a list of {items}", lambda v: isinstance(v, list) and all(t.check(x) for x in v))


STRING = FieldType("a string", lambda v: isinstance(v, str))
BOOLEAN = FieldType("a boolean", lambda v: isinstance(v, bool))
INTEGER = FieldType("an integer", _is_int)
COUNT = FieldType("a non-negative integer", lambda v: _is_int(v) and v >= 0)
POSITIVE = FieldType("a positive integer", lambda v: _is_int(v) and v >= 1)
NUMBER = FieldType("a finite number", _is_number)
FRACTION = FieldType("a number in [0, 1]", lambda v: _is_number(v) and 0.0 <= v <= 1.0)
NON_NEGATIVE = FieldType("a non-negative number", lambda v: _is_number(v) and v >= -1e-9)
OBJECT = FieldType("an object", lambda v: isinstance(v, dict))
CLASSES = FieldType("a list of two or more distinct integers",
                    lambda v: isinstance(v, list) and len(v) >= 2 and all(map(_is_int, v)) and len(set(v)) == len(v))
GRID_OPTION = FieldType('a positive integer, "auto" or null', lambda v: v is None or v == "auto" or POSITIVE.check(v))

#: Top level of a result file: field -> (type, required).
RESULT_FIELDS: dict[str, tuple[FieldType, bool]] = {
    "schema_version": (POSITIVE, True),
    "created": (STRING, False),
    "config": (OBJECT, True),
    "environment": (OBJECT, False),
    "records": (list_of(OBJECT, "objects"), True),
}

#: ``config``: what the comparison was asked to do (``CompareConfig.to_dict``). Only the
#: fields a report needs are required; the others are checked when present.
CONFIG_FIELDS: dict[str, tuple[FieldType, bool]] = {
    "dataset": (STRING, True),
    "classes": (CLASSES, True),
    "seeds": (POSITIVE, True),
    "training": (OBJECT, True),
    "encoders": (list_of(STRING, "strings"), False),
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
    "backend_options": (OBJECT, False),
    "device_noise": (list_of(STRING, "strings"), False),
    "disable_plugins": (list_of(STRING, "strings"), False),
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
    "n_qubits": (POSITIVE, True),
    "two_qubit_gates": (COUNT, True),
    "depth": (COUNT, True),
    "epochs": (COUNT, True),
    "converged": (BOOLEAN, True),
    "timings": (mapping_of(NUMBER, "numbers"), True),
    "encoder_info": (OBJECT, False),
    "sizes": (mapping_of(COUNT, "non-negative integers"), False),
    "gate_counts": (mapping_of(COUNT, "non-negative integers"), False),
    "noisy_accuracy": (mapping_of(FRACTION, "numbers in [0, 1]"), False),
    "adversarial_accuracy": (mapping_of(FRACTION, "numbers in [0, 1]"), False),
    "attack_seconds": (mapping_of(NUMBER, "numbers"), False),
    "attack_gradient": (optional(STRING), False),
    "adversarial_training": (optional(OBJECT), False),
    "grid": (optional(POSITIVE), False),
    "feature_map": (mapping_of(COUNT, "non-negative integers"), False),
    "dataset_notes": (OBJECT, False),
}

#: ``MIGRATIONS[n]`` turns a version-n result (a dict) into version n + 1 and returns it; it
#: may change its argument, :func:`upgrade` hands it a copy. Version 1 is the first, so the
#: table is empty; the version after a change of the schema adds its entry here.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_fields(data: dict[str, Any], schema: dict[str, tuple[FieldType, bool]], where: str) -> None:
    missing = [name for name, (_, required) in schema.items() if required and name not in data]
    if missing:
        fields_ = ", ".join(f"'{m}'" for m in missing)
        raise ResultFileError(f"{where}: missing field{'s' if len(missing) > 1 else ''} {fields_}")
    for name, (kind, _) in schema.items():
        if name in data and not kind.check(data[name]):
            raise ResultFileError(f"{where}: field '{name}' must be {kind.name}, got {_shown(data[name])}")


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
        raise ResultFileError(f"{where}: field 'schema_version' must be a positive integer, got {_shown(version)}")
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
    _check_fields(data, RESULT_FIELDS, where)
    _check_fields(data["config"], CONFIG_FIELDS, f"{where}: config")
    _check_fields(data["config"]["training"], TRAINING_FIELDS, f"{where}: config.training")
    for i, record in enumerate(data["records"]):
        what = f"{where}: record {i}"
        if isinstance(record.get("encoder"), str) and _is_int(record.get("seed")):
            what += f" ({record['encoder']} seed {record['seed']})"
        _check_fields(record, RECORD_FIELDS, what)


def read_result_json(path: str | os.PathLike) -> Any:
    """The parsed JSON of a result file, or a :class:`ResultFileError` that says why not."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultFileError(f"result file {path} does not exist") from None
    except IsADirectoryError:
        raise ResultFileError(f"{path} is a directory but not a qenc-bench sweep store") from None
    except UnicodeDecodeError:
        raise ResultFileError(f"result file {path} is not text (expected JSON from 'qenc-bench compare')") from None
    except json.JSONDecodeError as exc:
        raise ResultFileError(f"result file {path} is not valid JSON ({exc})") from None


def load_result(path: str | os.PathLike) -> BenchmarkResult:
    """Read, migrate, validate and build one result."""
    data = upgrade(read_result_json(path), path)
    validate_result(data, path)
    try:
        return BenchmarkResult.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultFileError(f"result file {path} does not match the result schema: {exc}") from None


def load_results(paths: Iterable[str | os.PathLike]) -> list[BenchmarkResult]:
    """:func:`load_result` of every path, in order."""
    return [load_result(p) for p in paths]


def load_sources(paths: Iterable[str | os.PathLike]) -> tuple[list[BenchmarkResult], list[str]]:
    """Every result of every path, with the path it came from: a result file gives one, a
    sweep store (a directory, :mod:`qenc_bench.store`) one per comparison in it."""
    from .store import is_store, to_results

    results, sources = [], []
    for path in paths:
        if is_store(path):
            found = to_results(path)
            for result in found:
                validate_result(result.to_dict(), f"{path} (sweep store)")
        else:
            found = [load_result(path)]
        results += found
        sources += [str(path)] * len(found)
    return results, sources


# --- merging ------------------------------------------------------------------------------

TRAINING_SHORT = {"learning_rate": "lr", "max_epochs": "epochs", "batch_size": "batch"}


@dataclass(frozen=True)
class Setting:
    """What must be equal for two runs to share a leaderboard."""

    dataset: str
    classes: tuple[int, ...]
    grid: int | None
    model: str
    backend: str
    training: tuple[tuple[str, Any], ...]
    sizes: tuple[tuple[str, int], ...]
    noise: tuple[str, ...]
    attacks: tuple[str, ...]
    adversarial_training: str
    dataset_notes: str

    @classmethod
    def of(cls, record: RunRecord, config: dict[str, Any]) -> Setting:
        options = {a.get("name"): a.get("options") or {} for a in config.get("attacks", []) if isinstance(a, dict)}
        attacks = []
        for name in sorted({label.partition(":")[0] for label in record.adversarial_accuracy}):
            levels = sorted((label_level(k)[1] for k in record.adversarial_accuracy if k.partition(":")[0] == name))
            extra = ", ".join(f"{k}={v}" for k, v in sorted((options.get(name) or {}).items()))
            attacks.append(f"{name} eps {','.join(f'{e:g}' for e in levels)}" + (f" ({extra})" if extra else ""))
        adv = record.adversarial_training
        return cls(
            dataset=record.dataset,
            classes=tuple(record.classes),
            grid=record.grid,
            model=record.model,
            backend=record.backend,
            training=tuple(sorted((k, v if isinstance(v, (str, int, float, bool)) or v is None else
                                   json.dumps(v, sort_keys=True)) for k, v in config["training"].items())),
            sizes=tuple(record.sizes.items()),
            noise=tuple(sorted(record.noisy_accuracy, key=label_level)),
            attacks=tuple(attacks),
            adversarial_training=json.dumps(adv, sort_keys=True) if adv else "",
            dataset_notes=json.dumps(record.dataset_notes, sort_keys=True) if record.dataset_notes else "",
        )

    def parts(self) -> dict[str, str]:
        """Each part of the setting as short text, in the order labels show them."""
        parts = {
            "dataset": f"{self.dataset} {','.join(map(str, self.classes))}"
                       + (" (one-vs-rest)" if len(self.classes) > 2 else ""),
            "grid": f"grid {self.grid}" if self.grid is not None else "no resizing",
            "model": self.model,
        }
        for key, value in self.training:
            shown = f"{value:g}" if _is_number(value) else str(value)
            parts[f"training.{key}"] = f"{TRAINING_SHORT.get(key, key.replace('_', ' '))} {shown}"
        if self.sizes:
            names, counts = "/".join(k for k, _ in self.sizes), "/".join(str(v) for _, v in self.sizes)
            parts["sizes"] = f"{names} {counts}"
        else:
            parts["sizes"] = "sizes unknown"
        parts["noise"] = ("noise p=" + ",".join(n.partition(":")[2] for n in self.noise)) if self.noise else "no noise"
        parts["attacks"] = "; ".join(self.attacks) if self.attacks else "no attacks"
        if self.adversarial_training:
            adv = json.loads(self.adversarial_training)
            eps = ",".join(map(str, adv.get("eps", [])))
            parts["adversarial_training"] = f"adversarial training {adv.get('name')}:{eps}"
        else:
            parts["adversarial_training"] = "clean training"
        parts["backend"] = f"evaluated on {self.backend}"
        if self.dataset_notes:
            notes = json.loads(self.dataset_notes)
            parts["dataset_notes"] = "; ".join(f"{k}: {v}" for k, v in notes.items())
        return parts


ALWAYS_LABELLED = ("dataset", "grid", "model")


@dataclass(frozen=True)
class Duplicate:
    """A run (same setting, encoder and seed) found again in another file; counted once."""

    encoder: str
    seed: int
    kept: str
    dropped: str
    differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """Records from any number of files that can be ranked together."""

    setting: Setting
    label: str
    records: tuple[RunRecord, ...]
    sources: tuple[str, ...]
    duplicates: tuple[Duplicate, ...] = ()

    @property
    def seeds(self) -> list[int]:
        return sorted({r.seed for r in self.records})

    def as_result(self) -> BenchmarkResult:
        """The group as a result, for the functions of :mod:`qenc_bench.tables`."""
        s = self.setting
        config = {"dataset": s.dataset, "classes": list(s.classes), "seeds": len(self.seeds),
                  "training": dict(s.training)}
        return BenchmarkResult(config=config, records=self.records, environment={}, created="")

    def notes(self) -> list[str]:
        """One line per pair of files that held the same runs."""
        by_pair: dict[tuple[str, str], list[Duplicate]] = {}
        for d in self.duplicates:
            by_pair.setdefault((d.kept, d.dropped), []).append(d)
        notes = []
        for (kept, dropped), dups in by_pair.items():
            differing = [d for d in dups if d.differences]
            runs = f"{len(dups)} run{'s' if len(dups) > 1 else ''}"
            if not differing:
                notes.append(f"{runs} of {dropped} also in {kept} with the same numbers: counted once")
            else:
                shown = "; ".join(f"{d.encoder} seed {d.seed}: {', '.join(d.differences)}" for d in differing[:3])
                more = f" and {len(differing) - 3} more" if len(differing) > 3 else ""
                notes.append(
                    f"{runs} of {dropped} also in {kept}, {len(differing)} with different numbers ({shown}{more}): "
                    f"counted once, from {kept}; the same seed should reproduce, so check the two environments"
                )
        return notes


def label_level(label: str) -> tuple[str, float]:
    """``("fgsm", 0.1)`` for ``"fgsm:0.1"``, to sort labels by kind, then level."""
    name, _, level = label.partition(":")
    try:
        return name, float(level)
    except ValueError:
        return name, math.inf


def encoder_variant(name: str, config: dict[str, Any]) -> str:
    """The encoder's name, with the options the comparison gave it, if any:
    ``atp (optimizer=warm)`` is not ranked as the same encoder as ``atp``."""
    options = {k: v for k, v in (config.get("encoder_options") or {}).get(name, {}).items() if v is not None}
    return f"{name} ({', '.join(f'{k}={v}' for k, v in sorted(options.items()))})" if options else name


def _differences(a: RunRecord, b: RunRecord, tol: float = 1e-9) -> tuple[str, ...]:
    """The measured numbers on which two records of the same run disagree, as text."""
    out = []
    for name in ("accuracy", "entropy", "validation_accuracy"):
        x, y = getattr(a, name), getattr(b, name)
        if (x is None) != (y is None) or (x is not None and abs(x - y) > tol):
            out.append(f"{name} {'-' if x is None else f'{x:.4f}'} vs {'-' if y is None else f'{y:.4f}'}")
    for name in ("noisy_accuracy", "adversarial_accuracy"):
        x, y = getattr(a, name), getattr(b, name)
        if set(x) != set(y) or any(abs(x[k] - y[k]) > tol for k in x):
            out.append(f"{name} {x} vs {y}")
    return tuple(out)


def merge(results: Sequence[BenchmarkResult], sources: Sequence[str] | None = None) -> list[Group]:
    """Group the records of many results by :class:`Setting`.

    A run found in several files (same setting, encoder and seed) is counted once, from the
    first file given, and reported in :meth:`Group.notes` (with its differing numbers if the
    files disagree): counting a seed twice would shrink the confidence interval with no new
    evidence. Encoders compared with options are renamed by :func:`encoder_variant`.

    :param sources: a name per result for notes and labels (file paths); ``result 1``, ... if None.
    """
    sources = list(sources) if sources is not None else [f"result {i + 1}" for i in range(len(results))]
    if len(sources) != len(results):
        raise ValueError("give one source name per result")
    records: dict[Setting, dict[tuple[str, int], tuple[RunRecord, str]]] = {}
    group_sources: dict[Setting, list[str]] = {}
    duplicates: dict[Setting, list[Duplicate]] = {}
    for result, source in zip(results, sources):
        for record in result.records:
            setting = Setting.of(record, result.config)
            record = replace(record, encoder=encoder_variant(record.encoder, result.config))
            runs = records.setdefault(setting, {})
            names = group_sources.setdefault(setting, [])
            if source not in names:
                names.append(source)
            key = (record.encoder, record.seed)
            if key in runs:
                first, first_source = runs[key]
                duplicates.setdefault(setting, []).append(
                    Duplicate(record.encoder, record.seed, first_source, source, _differences(first, record)))
            else:
                runs[key] = (record, source)
    settings = sorted(records, key=lambda s: (s.dataset, s.classes, s.grid or 0, s.model, -len(records[s]), repr(s)))
    plain = [_label(s, settings) for s in settings]
    labels = list(plain)
    for i, label in enumerate(plain):  # parts that read alike but differ: never two groups under one label
        same = [j for j, other in enumerate(plain) if other == label]
        if len(same) > 1:
            labels[i] = f"{label} · setting {same.index(i) + 1} of {len(same)}"
    return [
        Group(
            setting=s,
            label=label,
            records=tuple(r for r, _ in records[s].values()),
            sources=tuple(group_sources[s]),
            duplicates=tuple(duplicates.get(s, ())),
        )
        for s, label in zip(settings, labels)
    ]


def _label(setting: Setting, settings: list[Setting]) -> str:
    """Dataset, classes, grid and model, then whatever tells this setting apart from the
    others that share those: ``digits 0,1 · grid 3 · readout(layers=1) · lr 0.01``."""
    parts = setting.parts()
    base = [parts[name] for name in ALWAYS_LABELLED]
    siblings = [s.parts() for s in settings if [s.parts()[n] for n in ALWAYS_LABELLED] == base]
    varying = [name for name in parts if len({p.get(name) for p in siblings}) > 1]
    return " · ".join([*base, *(parts[name] for name in varying)])


# --- ranking a group ----------------------------------------------------------------------


@dataclass(frozen=True)
class RankedGroup:
    """A group's summaries, best first, and the metric they were ranked by."""

    group: Group
    rank_by: str
    summaries: tuple[Summary, ...]
    notes: tuple[str, ...]


def rank_group(group: Group, rank_by: str = "accuracy") -> RankedGroup:
    """Rank a group by ``rank_by``; a group that lacks the metric (robustness without noise
    or attacks, entropy from a backend without states) is ranked by accuracy, with a note."""
    from .tables import comparison_warnings

    if rank_by not in RANK_BY:
        raise ConfigError(f"cannot rank by {rank_by!r}; choose one of {', '.join(RANK_BY)}")
    notes = [*comparison_warnings(group.as_result()), *group.notes()]
    summaries = summarize(group.records)
    try:
        ranked = rank(summaries, rank_by)
    except ConfigError:
        if rank_by == "accuracy":
            raise
        notes.append(f"not every encoder here has {rank_by}: ranked by accuracy instead")
        rank_by, ranked = "accuracy", rank(summaries, "accuracy")
    return RankedGroup(group, rank_by, tuple(ranked), tuple(notes))


def leaderboard(paths: Sequence[str | os.PathLike], rank_by: str = "accuracy") -> list[RankedGroup]:
    """Load, merge and rank result files and sweep stores: what ``qenc-bench report`` shows
    (for notebooks too)."""
    if not paths:
        raise ConfigError("give at least one result file")
    return [rank_group(g, rank_by) for g in merge(*load_sources(paths))]
