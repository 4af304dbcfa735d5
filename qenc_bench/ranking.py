"""Aggregate records per encoder over seeds, with honest statistics, and rank them.

Per metric an encoder gets the mean over seeds, the sample standard deviation and a 95%
confidence interval of the mean (Student's t, n - 1 degrees of freedom). Ranks are shared
when intervals overlap: an encoder takes the rank of the one above it when their 95%
intervals overlap, so a leaderboard never crowns noise. With one seed there is no interval
and every rank is provisional (marked in the table).

Metrics (``rank_by``):

- ``accuracy``: test accuracy, higher is better;
- ``entropy``: readout entanglement entropy, lower is better (the ATP paper's reading: less
  entanglement for the same task is cheaper and, it argues, more robust);
- ``robustness``: the mean of every noisy and adversarial accuracy the run measured, higher
  is better (absent when the run measured none);
- ``overall``: the mean of the encoder's ranks on the metrics above that every encoder has.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from .errors import ConfigError
from .records import RunRecord

HIGHER_IS_BETTER = {"accuracy": True, "entropy": False, "robustness": True}
RANK_BY = (*HIGHER_IS_BETTER, "overall")


@dataclass(frozen=True)
class Stat:
    """Mean, sample standard deviation and 95% confidence half-width over n seeds."""

    mean: float
    std: float
    ci95: float | None
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Stat | None:
        arr = np.asarray([v for v in values if v is not None], dtype=float)
        if len(arr) == 0:
            return None
        if len(arr) == 1:
            return cls(float(arr[0]), 0.0, None, 1)
        std = float(arr.std(ddof=1))
        half = float(stats.t.ppf(0.975, len(arr) - 1) * std / math.sqrt(len(arr)))
        return cls(float(arr.mean()), std, half, len(arr))

    @property
    def interval(self) -> tuple[float, float] | None:
        return None if self.ci95 is None else (self.mean - self.ci95, self.mean + self.ci95)

    def overlaps(self, other: Stat) -> bool:
        if self.interval is None or other.interval is None:
            return False
        lo, hi = self.interval
        return lo <= other.interval[1] and other.interval[0] <= hi


def robustness_values(record: RunRecord) -> list[float]:
    """Every noisy and adversarial accuracy a record measured."""
    return list(record.noisy_accuracy.values()) + list(record.adversarial_accuracy.values())


def _mean_by_label(dicts: list[dict[str, float]]) -> dict[str, float]:
    labels = sorted({k for d in dicts for k in d})
    return {label: float(np.mean([d[label] for d in dicts if label in d])) for label in labels}


@dataclass(frozen=True)
class Summary:
    """One encoder's numbers over its seeds."""

    encoder: str
    runs: int
    metrics: dict[str, Stat | None]
    n_qubits: float
    two_qubit_gates: float
    depth: float
    seconds: float
    unconverged: int
    extras: dict
    noisy_accuracy: dict[str, float]
    adversarial_accuracy: dict[str, float] = field(default_factory=dict)
    rank: int = 0
    shared: bool = False
    provisional: bool = False

    @property
    def accuracy(self) -> Stat:
        return self.metrics["accuracy"]

    @property
    def entropy(self) -> Stat | None:
        return self.metrics["entropy"]


def summarize(records: list[RunRecord] | tuple[RunRecord, ...]) -> list[Summary]:
    by_encoder: dict[str, list[RunRecord]] = defaultdict(list)
    for r in records:
        by_encoder[r.encoder].append(r)
    out = []
    for name, runs in by_encoder.items():
        robust = [float(np.mean(robustness_values(r))) for r in runs if robustness_values(r)]
        extras = {}
        taus = [r.encoder_info["tau"] for r in runs if "tau" in r.encoder_info]
        if taus:
            extras["tau"] = float(np.mean(taus))
        costs = [r.encoder_info["cost_vs_angle"] for r in runs if "cost_vs_angle" in r.encoder_info]
        if costs and name != "angle":
            extras["cost_vs_angle"] = float(np.mean(costs))
        out.append(
            Summary(
                encoder=name,
                runs=len(runs),
                metrics={
                    "accuracy": Stat.of([r.accuracy for r in runs]),
                    "entropy": Stat.of([r.entropy for r in runs]),
                    "robustness": Stat.of(robust),
                },
                n_qubits=float(np.mean([r.n_qubits for r in runs])),
                two_qubit_gates=float(np.mean([r.two_qubit_gates for r in runs])),
                depth=float(np.mean([r.depth for r in runs])),
                seconds=float(np.mean([sum(r.timings.values()) for r in runs])),
                unconverged=sum(not r.converged for r in runs),
                extras=extras,
                noisy_accuracy=_mean_by_label([r.noisy_accuracy for r in runs]),
                adversarial_accuracy=_mean_by_label([r.adversarial_accuracy for r in runs]),
            )
        )
    return out


def _order(summaries: list[Summary], metric: str) -> list[Summary]:
    sign = -1.0 if HIGHER_IS_BETTER[metric] else 1.0
    return sorted(summaries, key=lambda s: (sign * s.metrics[metric].mean, -s.accuracy.mean, s.encoder))


def _shared_ranks(ordered: list[Summary], metric: str) -> list[tuple[int, bool]]:
    ranks: list[tuple[int, bool]] = []
    for i, s in enumerate(ordered):
        if i and s.metrics[metric].overlaps(ordered[i - 1].metrics[metric]):
            ranks.append((ranks[-1][0], True))
            ranks[-2] = (ranks[-2][0], True)
        else:
            ranks.append((i + 1, False))
    return ranks


def rank(summaries: list[Summary], by: str = "accuracy") -> list[Summary]:
    """Best first by ``by``; ties of the mean broken by accuracy, then name."""
    if by not in RANK_BY:
        raise ConfigError(f"cannot rank by {by!r}; choose one of {', '.join(RANK_BY)}")
    if not summaries:
        return []
    available = [m for m in HIGHER_IS_BETTER if all(s.metrics[m] is not None for s in summaries)]
    if by != "overall" and by not in available:
        raise ConfigError(
            f"cannot rank by {by}: not every encoder has it "
            f"(robustness needs --noise or an attack; entropy a backend that gives states)"
        )
    provisional = any(s.accuracy.n < 2 for s in summaries)
    if by == "overall":
        positions: dict[str, list[int]] = defaultdict(list)
        for metric in available:
            for r, s in zip(_shared_ranks(_order(summaries, metric), metric), _order(summaries, metric)):
                positions[s.encoder].append(r[0])
        mean_rank = {name: float(np.mean(p)) for name, p in positions.items()}
        ordered = sorted(summaries, key=lambda s: (mean_rank[s.encoder], -s.accuracy.mean, s.encoder))
        out, previous = [], None
        for i, s in enumerate(ordered):
            shared = previous is not None and mean_rank[s.encoder] == mean_rank[previous.encoder]
            r = out[-1].rank if shared else i + 1
            if shared:
                out[-1] = _with_rank(out[-1], out[-1].rank, True, provisional)
            out.append(_with_rank(s, r, shared, provisional))
            previous = s
        return out
    ordered = _order(summaries, by)
    return [_with_rank(s, r, shared, provisional) for s, (r, shared) in zip(ordered, _shared_ranks(ordered, by))]


def _with_rank(s: Summary, rank_: int, shared: bool, provisional: bool) -> Summary:
    return replace(s, rank=rank_, shared=shared, provisional=provisional)
