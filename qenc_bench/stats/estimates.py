"""A model's estimate of a metric over its seeds, and the pairwise comparison of two models,
both from the two-level bootstrap of :mod:`.bootstrap`.

Metrics, each the mean over test samples of a per-sample value, then over seeds:

- ``accuracy``: 1 when the prediction is the label, else 0; higher is better;
- ``entropy``: the readout qubit's entanglement entropy in bits; lower is better (the ATP
  paper's reading: less entanglement for the same task);
- ``robustness``: the share of the noisy and adversarial evaluations a sample survives (the
  mean of its 0/1 outcomes over every noise level and attack the run measured); higher is
  better.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..results.records import RunRecord
from .bootstrap import (
    LEVEL,
    RESAMPLES,
    Sample,
    generator,
    paired_differences,
    percentile_interval,
    two_level,
    two_sided_p,
)

HIGHER_IS_BETTER = {"accuracy": True, "entropy": False, "robustness": True}
METRICS = tuple(HIGHER_IS_BETTER)
#: fewer seeds than this: intervals and ranks are provisional (the seed level is barely resampled)
MIN_SEEDS = 3


def _test_size(record: RunRecord) -> int:
    return int(record.sizes.get("test", 0)) or 1


def sample_of(record: RunRecord, metric: str) -> Sample | None:
    """The record's per-sample values of ``metric`` (None when it did not measure it)."""
    s = record.samples
    if metric == "accuracy":
        if s:
            correct = np.asarray(s["prediction"]) == np.asarray(s["label"])
            return Sample.of(record.seed, correct.astype(np.float64), s["index"])
        # no per-sample outcomes: the 0/1 outcomes are known up to their order, which a resampled
        # mean does not depend on, so the seed's inner level is still resampled exactly
        n = _test_size(record)
        ones = int(round(record.accuracy * n))
        return Sample.of(record.seed, np.r_[np.ones(ones), np.zeros(n - ones)])
    if metric == "entropy":
        if record.entropy is None:
            return None
        if s and s.get("entropy") is not None:
            return Sample.of(record.seed, s["entropy"], s["index"])
        return Sample(record.seed, float(record.entropy), _test_size(record))
    if metric == "robustness":
        if s and (s.get("noisy") or s.get("adversarial")):
            label = np.asarray(s["label"])
            levels = [*s.get("noisy", {}).values(), *s.get("adversarial", {}).values()]
            survived = np.mean([np.asarray(p) == label for p in levels], axis=0)
            return Sample.of(record.seed, survived, s["index"])
        values = [*record.noisy_accuracy.values(), *record.adversarial_accuracy.values()]
        return Sample(record.seed, float(np.mean(values)), _test_size(record)) if values else None
    raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")


def level_sample(record: RunRecord, field: str, label: str) -> Sample | None:
    """The record's 0/1 outcomes under one noise level or attack (``field`` ``"noisy"`` or
    ``"adversarial"``, ``label`` e.g. ``"depolarizing:0.05"``); None if not measured."""
    accuracies = record.noisy_accuracy if field == "noisy" else record.adversarial_accuracy
    if label not in accuracies:
        return None
    s = record.samples
    if s and label in s.get(field, {}):
        correct = np.asarray(s[field][label]) == np.asarray(s["label"])
        return Sample.of(record.seed, correct.astype(np.float64), s["index"])
    n = _test_size(record)
    ones = int(round(accuracies[label] * n))
    return Sample.of(record.seed, np.r_[np.ones(ones), np.zeros(n - ones)])


@dataclass(frozen=True)
class Estimate:
    """A metric of one model over its seeds.

    :param mean: mean over seeds of the per-seed means; :param std: their sample standard
        deviation (0 with one seed).
    :param low, high: the 95% two-level bootstrap interval of ``mean``.
    :param covers: what the interval resamples: ``"seeds and test samples"``, ``"test samples"``
        (one seed) or ``"seeds"`` (per-sample values not stored).
    """

    mean: float
    std: float
    low: float
    high: float
    seeds: int
    samples: int
    covers: str

    @property
    def provisional(self) -> bool:
        return self.seeds < MIN_SEEDS

    @property
    def interval(self) -> tuple[float, float]:
        return self.low, self.high


def _covers(samples: Sequence[Sample]) -> str:
    inner = all(s.values is not None for s in samples)
    if len(samples) == 1:
        return "test samples" if inner else "nothing (one seed, no per-sample values)"
    return "seeds and test samples" if inner else "seeds"


def estimate(samples: Sequence[Sample], *names: str, resamples: int = RESAMPLES, level: float = LEVEL) -> Estimate:
    """The estimate of one model's metric from its seeds' samples."""
    means = np.array([s.mean for s in samples])
    low, high = percentile_interval(two_level(samples, generator(*names), resamples), level)
    mean = float(means.mean())
    return Estimate(mean=mean, std=float(means.std(ddof=1)) if len(means) > 1 else 0.0,
                    low=low, high=high, seeds=len(samples),
                    samples=int(round(np.mean([s.n for s in samples]))), covers=_covers(samples))


@dataclass(frozen=True)
class Comparison:
    """Model ``a`` against model ``b`` on one metric: the mean difference a - b, its 95%
    interval and the bootstrap p-value of "no difference", before (``p``) and after (``p_holm``)
    Holm's correction over every pair of the ranking.

    :param paired: the difference was resampled sample by sample on the test samples and seeds
        both models share; otherwise the two were resampled independently.
    """

    a: str
    b: str
    metric: str
    difference: float
    low: float
    high: float
    p: float
    paired: bool
    seeds: int
    p_holm: float = 1.0

    def resolved(self, alpha: float = 1.0 - LEVEL) -> bool:
        return self.p_holm < alpha


def compare(metric: str, a: str, samples_a: Sequence[Sample], b: str, samples_b: Sequence[Sample],
            resamples: int = RESAMPLES, level: float = LEVEL) -> Comparison:
    """Compare two models' samples of ``metric`` (paired where both hold per-sample outcomes of
    the same seeds and test samples)."""
    rng = generator(metric, a, b)
    differences = paired_differences(samples_a, samples_b)
    if differences is not None:
        replicates = two_level(differences, rng, resamples)
        observed = float(np.mean([d.mean for d in differences]))
        seeds = len(differences)
    else:
        replicates = two_level(samples_a, rng, resamples) - two_level(samples_b, rng, resamples)
        observed = float(np.mean([s.mean for s in samples_a]) - np.mean([s.mean for s in samples_b]))
        seeds = len({s.seed for s in samples_a} & {s.seed for s in samples_b})
    low, high = percentile_interval(replicates, level)
    return Comparison(a=a, b=b, metric=metric, difference=observed, low=low, high=high,
                      p=two_sided_p(replicates), paired=differences is not None, seeds=seeds)
