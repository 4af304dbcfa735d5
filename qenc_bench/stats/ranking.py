"""Per-model summaries over seeds, and rankings that never crown noise.

Every row of a table is a :class:`Summary`: a model's estimates (:mod:`.estimates`: mean over
seeds and a two-level bootstrap interval over seeds and test samples) and its resources.
:func:`rank` orders the rows by one metric and compares every pair of them on their paired
per-sample outcomes (:func:`.estimates.compare`), with Holm's correction over all pairs. A
row's rank is one more than the number of rows resolved above it (better, and the difference
resolved at 95% after the correction), never better than the rank of the row before it; rows
with the same rank share it. So a difference the data cannot resolve never separates two
ranks, and a row the data put below others is not carried up to rank 1 by a chain of close
neighbours. A row that lacks the metric (a classical model has no entanglement entropy) is
listed after the ranked rows, unranked. With fewer than
:data:`~.estimates.MIN_SEEDS` seeds the ranking is marked provisional.

``overall`` orders by the mean of a row's ranks over the metrics every row has; rows with the
same mean rank share it. It summarises the other rankings and runs no test of its own.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import ConfigError
from ..results.records import QUANTUM, RunRecord
from .bootstrap import LEVEL, Sample, holm
from .estimates import HIGHER_IS_BETTER, METRICS, MIN_SEEDS, Comparison, Estimate, compare, estimate, sample_of

RANK_BY = (*METRICS, "overall")
ALPHA = 1.0 - LEVEL


@dataclass(frozen=True)
class Summary:
    """One model's numbers over its seeds (a row of a table).

    :param name: the encoder's name, or the classical model's.
    :param rank: its rank, ``None`` when it lacks the ranking's metric; ``shared`` when the data
        do not resolve it from a neighbour.
    """

    name: str
    kind: str
    runs: int
    seeds: tuple[int, ...]
    metrics: dict[str, Estimate | None]
    n_qubits: float
    two_qubit_gates: float
    depth: float
    seconds: float
    unconverged: int
    noisy_accuracy: dict[str, float]
    adversarial_accuracy: dict[str, float] = field(default_factory=dict)
    relative_cost: float | None = None
    encoding: dict[str, Estimate] = field(default_factory=dict)
    rank: int | None = None
    shared: bool = False

    @property
    def encoder(self) -> str:
        return self.name

    @property
    def accuracy(self) -> Estimate:
        estimate_ = self.metrics["accuracy"]
        assert estimate_ is not None  # every record has an accuracy
        return estimate_

    @property
    def entropy(self) -> Estimate | None:
        return self.metrics["entropy"]

    @property
    def is_classical(self) -> bool:
        return self.kind != QUANTUM


def _mean_by_label(dicts: list[dict[str, float]]) -> dict[str, float]:
    labels = sorted({k for d in dicts for k in d})
    return {label: float(np.mean([d[label] for d in dicts if label in d])) for label in labels}


def by_model(records: Sequence[RunRecord]) -> dict[str, list[RunRecord]]:
    """Records per model name, in the order the models first appear, each sorted by seed."""
    grouped: dict[str, list[RunRecord]] = defaultdict(list)
    for r in records:
        grouped[r.encoder].append(r)
    return {name: sorted(runs, key=lambda r: r.seed) for name, runs in grouped.items()}


def samples_of(runs: Sequence[RunRecord], metric: str) -> list[Sample] | None:
    """Every run's sample of ``metric``, or None when some run lacks it."""
    samples = [sample_of(r, metric) for r in runs]
    return None if any(s is None for s in samples) else [s for s in samples if s is not None]


def summarize(records: Sequence[RunRecord]) -> list[Summary]:
    out = []
    for name, runs in by_model(records).items():
        metrics: dict[str, Estimate | None] = {}
        for metric in METRICS:
            samples = samples_of(runs, metric)
            metrics[metric] = estimate(samples, metric, name) if samples else None
        costs = [r.relative_cost for r in runs if r.relative_cost is not None]
        encoding = {}
        for metric in sorted({m for r in runs for m in r.metrics}):
            values = [r.metrics.get(metric, {}).get("value") for r in runs]
            if values and all(isinstance(v, (int, float)) for v in values):  # seed-level: one number a seed
                encoding[metric] = estimate([Sample(r.seed, float(v), 1) for r, v in zip(runs, values, strict=True)],
                                            "metric", metric, name)
        out.append(Summary(
            name=name,
            kind=runs[0].kind,
            runs=len(runs),
            seeds=tuple(r.seed for r in runs),
            metrics=metrics,
            n_qubits=float(np.mean([r.n_qubits for r in runs])),
            two_qubit_gates=float(np.mean([r.two_qubit_gates for r in runs])),
            depth=float(np.mean([r.depth for r in runs])),
            seconds=float(np.mean([sum(r.timings.values()) for r in runs])),
            unconverged=sum(not r.converged for r in runs),
            noisy_accuracy=_mean_by_label([r.noisy_accuracy for r in runs]),
            adversarial_accuracy=_mean_by_label([r.adversarial_accuracy for r in runs]),
            relative_cost=float(np.mean(costs)) if costs else None,
            encoding=encoding,
        ))
    return out


@dataclass(frozen=True)
class Ranking:
    """Rows best first (unranked rows last), the pairwise comparisons behind the ranks, and
    what the reader must know (``notes``)."""

    rank_by: str
    summaries: tuple[Summary, ...]
    comparisons: tuple[Comparison, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def provisional(self) -> bool:
        return any(s.accuracy.seeds < MIN_SEEDS for s in self.summaries if s.rank is not None)

    def comparison(self, a: str, b: str) -> Comparison | None:
        for c in self.comparisons:
            if (c.a, c.b) == (a, b):
                return c
            if (c.a, c.b) == (b, a):
                return replace(c, a=a, b=b, difference=-c.difference, low=-c.high, high=-c.low)
        return None


def pairwise(records: Sequence[RunRecord], metric: str, names: Sequence[str]) -> list[Comparison]:
    """Every pair of ``names`` compared on ``metric``, Holm-adjusted over the family."""
    runs = by_model(records)
    samples = {name: samples_of(runs[name], metric) for name in names}
    pairs = [compare(metric, a, samples[a], b, samples[b])  # type: ignore[arg-type]
             for a, b in itertools.combinations(names, 2)]
    adjusted = holm([c.p for c in pairs])
    return [replace(c, p_holm=p) for c, p in zip(pairs, adjusted, strict=True)]


def _ordered(summaries: list[Summary], metric: str) -> list[Summary]:
    sign = -1.0 if HIGHER_IS_BETTER[metric] else 1.0
    return sorted(summaries, key=lambda s: (sign * s.metrics[metric].mean,  # type: ignore[union-attr]
                                            -s.accuracy.mean, s.name))


def _rank_by_metric(records: Sequence[RunRecord], summaries: list[Summary], metric: str) -> Ranking:
    having = [s for s in summaries if s.metrics[metric] is not None]
    lacking = sorted((s for s in summaries if s.metrics[metric] is None), key=lambda s: (-s.accuracy.mean, s.name))
    ordered = _ordered(having, metric)
    comparisons = pairwise(records, metric, [s.name for s in ordered])
    lookup = {(c.a, c.b): c for c in comparisons} | {(c.b, c.a): c for c in comparisons}
    ranks: list[int] = []
    for i, s in enumerate(ordered):
        above = sum(lookup[(better.name, s.name)].resolved(ALPHA) for better in ordered[:i])
        ranks.append(max(1 + above, ranks[-1] if ranks else 1))
    ranked = [replace(s, rank=r, shared=ranks.count(r) > 1) for s, r in zip(ordered, ranks, strict=True)]
    notes = []
    if lacking:
        notes.append(f"not ranked by {metric} (not measured): {', '.join(s.name for s in lacking)}")
    if any(not c.paired for c in comparisons):
        notes.append("some pairs could not be compared sample by sample (no seed in common, or results without "
                     "per-sample outcomes): their seeds were resampled independently")
    return Ranking(metric, tuple(ranked + lacking), tuple(comparisons), tuple(notes))


def rank(records: Sequence[RunRecord], by: str = "accuracy") -> Ranking:
    """Summarise ``records`` per model and rank the models by ``by`` (see the module docstring).

    :raises ConfigError: an unknown metric, or one that no model has.
    """
    if by not in RANK_BY:
        raise ConfigError(f"cannot rank by {by!r}; choose one of {', '.join(RANK_BY)}")
    summaries = summarize(records)
    if not summaries:
        return Ranking(by, ())
    if by != "overall":
        if all(s.metrics[by] is None for s in summaries):
            raise ConfigError(f"cannot rank by {by}: no model has it "
                              f"(robustness needs --noise or an attack; entropy a backend that gives states)")
        return _rank_by_metric(records, summaries, by)
    available = [m for m in METRICS if all(s.metrics[m] is not None for s in summaries)]
    positions: dict[str, list[int]] = defaultdict(list)
    for metric in available:
        for s in _rank_by_metric(records, summaries, metric).summaries:
            positions[s.name].append(s.rank)  # type: ignore[arg-type]
    mean_rank = {name: float(np.mean(p)) for name, p in positions.items()}
    ordered = sorted(summaries, key=lambda s: (mean_rank[s.name], -s.accuracy.mean, s.name))
    out: list[Summary] = []
    for i, s in enumerate(ordered):
        if i and mean_rank[s.name] == mean_rank[ordered[i - 1].name]:
            out[-1] = replace(out[-1], shared=True)
            out.append(replace(s, rank=out[-1].rank, shared=True))
        else:
            out.append(replace(s, rank=i + 1))
    note = f"overall: the mean of each model's ranks by {', '.join(available)}"
    return Ranking("overall", tuple(out), tuple(pairwise(records, "accuracy", [s.name for s in out])), (note,))


def result_warnings(records: Sequence[RunRecord], chance_margin: float = 0.05) -> list[str]:
    """Warnings that belong above a table: a comparison where no model learned, or where runs
    stopped at the epoch cap, ranks noise or budget rather than encoders."""
    warnings = []
    quantum = [r for r in records if r.kind == QUANTUM]
    if quantum and all(r.accuracy < 0.5 + chance_margin for r in quantum):
        warnings.append("every quantum model is within 5 points of chance: the ranking says nothing about the "
                        "encoders")
    unconverged = sum(not r.converged for r in quantum)
    if unconverged:
        warnings.append(
            f"{unconverged} of {len(quantum)} runs hit the epoch cap before early stopping; "
            f"raise --epochs so that every encoder is trained to convergence"
        )
    return warnings
