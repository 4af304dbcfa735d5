"""Leaderboard groups: the records of many result files (and sweep stores) merged into groups
of runs that may be ranked together.

Runs belong together when they were measured the same way on the same task: dataset and
classes, grid, model, training budget, sample sizes, noise levels, attacks, adversarial
training and how the numbers were measured (``RunRecord.measurement``: an exact state, finite
shots, a device's noise model, hardware) -- not which simulator computed an exact state, so
exact, PennyLane and shot-free Aer results share a group. A classical reference row joins the
group of the quantum runs of its own comparison.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .records import BenchmarkResult, RunRecord
from .schema import is_number, validate_result
from .store import is_store, to_results


def load_sources(paths: Iterable[str | os.PathLike]) -> tuple[list[BenchmarkResult], list[str]]:
    """Every result of every path, with the path it came from: a result file gives one, a
    sweep store (a directory, :mod:`qenc_bench.store`) one per comparison in it."""
    results, sources = [], []
    for path in paths:
        if is_store(path):
            found = to_results(path)
            for result in found:
                validate_result(result.to_dict(), f"{path} (sweep store)")
        else:
            found = [BenchmarkResult.load(path)]
        results += found
        sources += [str(path)] * len(found)
    return results, sources



TRAINING_SHORT = {"learning_rate": "lr", "max_epochs": "epochs", "batch_size": "batch"}


@dataclass(frozen=True)
class Setting:
    """What must be equal for two runs to share a leaderboard."""

    dataset: str
    classes: tuple[int, ...]
    grid: int | None
    model: str
    measurement: str
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
            levels = sorted(label_level(k)[1] for k in record.adversarial_accuracy if k.partition(":")[0] == name)
            extra = ", ".join(f"{k}={v}" for k, v in sorted((options.get(name) or {}).items()))
            attacks.append(f"{name} eps {','.join(f'{e:g}' for e in levels)}" + (f" ({extra})" if extra else ""))
        adv = record.adversarial_training
        return cls(
            dataset=record.dataset,
            classes=tuple(record.classes),
            grid=record.grid,
            model=record.model,
            measurement=record.measurement,
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
            shown = f"{value:g}" if is_number(value) else str(value)
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
        parts["measurement"] = "exact expectation values" if self.measurement == "exact" else self.measurement
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
    source_notes: tuple[str, ...] = ()

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
        """The notes of the files it came from, and one line per pair of files that held the same
        runs."""
        by_pair: dict[tuple[str, str], list[Duplicate]] = {}
        for d in self.duplicates:
            by_pair.setdefault((d.kept, d.dropped), []).append(d)
        notes = list(self.source_notes)
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
    group_notes: dict[Setting, list[str]] = {}
    for result, source in zip(results, sources, strict=True):
        quantum = {(r.dataset, r.classes): Setting.of(r, result.config) for r in result.records if not r.is_classical}
        for record in result.records:
            # a classical reference row joins the quantum runs of its comparison
            setting = quantum.get((record.dataset, record.classes)) if record.is_classical else None
            setting = setting or Setting.of(record, result.config)
            record = replace(record, encoder=encoder_variant(record.encoder, result.config))
            runs = records.setdefault(setting, {})
            names = group_sources.setdefault(setting, [])
            if source not in names:
                names.append(source)
                notes = group_notes.setdefault(setting, [])
                notes += [f"{source}: {note}" for note in result.notes]
                if not result.complete:
                    notes.append(f"{source}: the run stopped before it finished; it holds the runs that did")
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
            source_notes=tuple(group_notes.get(s, ())),
        )
        for s, label in zip(settings, labels, strict=True)
    ]


def _label(setting: Setting, settings: list[Setting]) -> str:
    """Dataset, classes, grid and model, then whatever tells this setting apart from the
    others that share those: ``digits 0,1 · grid 3 · readout(layers=1) · lr 0.01``."""
    parts = setting.parts()
    base = [parts[name] for name in ALWAYS_LABELLED]
    siblings = [s.parts() for s in settings if [s.parts()[n] for n in ALWAYS_LABELLED] == base]
    varying = [name for name in parts if len({p.get(name) for p in siblings}) > 1]
    return " · ".join([*base, *(parts[name] for name in varying)])


