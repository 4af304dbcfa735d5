"""The two-level bootstrap behind every interval and every pairwise comparison.

A comparison's numbers vary for two reasons: the seed (subsample, split, initial weights)
and the finite test split. A replicate therefore resamples both, as the data were made:
first the seeds, with replacement; then, inside each chosen seed, its test samples, with
replacement (Davison and Hinkley 1997, section 3.8, "multi-stage sampling"). The statistic
is the mean over seeds of the per-seed mean. The interval is the percentile interval of the
replicates, so an accuracy interval always lies inside [0, 1], and it does not collapse to a
point when the seeds happen to agree (the test samples still vary).

For a paired comparison the resampled quantity is the per-sample difference of two models on
the same test samples of the same seed; where the samples cannot be paired (results written
before per-sample outcomes were stored) the two models' replicates are drawn independently.

scipy.stats.bootstrap resamples one level only (or several independent samples), not seeds
and then samples within them, hence this module. Inner resampling draws the counts of each
distinct value from a multinomial, the exact distribution of a resampled mean, which is fast
for the 0/1 outcomes of accuracy and the {-1, 0, 1} of their differences.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 4000
LEVEL = 0.95
SEED = 20250321  # fixed: the same result file always gives the same table
_MULTINOMIAL_MAX_DISTINCT = 64
_GATHER_BUDGET = 2**22  # indices per block when values are resampled directly


def generator(*names: str) -> np.random.Generator:
    """A generator seeded by :data:`SEED` and the names involved: reproducible tables that do
    not change when rows are added or reordered."""
    return np.random.default_rng([SEED, *(zlib.crc32(n.encode()) for n in names)])


@dataclass(frozen=True)
class Sample:
    """One seed's per-sample values of a metric, or only their mean when the per-sample values
    were not stored (then the inner level cannot be resampled, and ``values`` is None).

    :param ids: what identifies each sample (its index in the publisher's split), for pairing.
    """

    seed: int
    mean: float
    n: int
    values: np.ndarray | None = None
    ids: np.ndarray | None = None

    @classmethod
    def of(cls, seed: int, values: Sequence[float] | np.ndarray, ids: Sequence[int] | np.ndarray | None = None
           ) -> Sample:
        arr = np.asarray(values, dtype=np.float64)
        return cls(seed, float(arr.mean()) if len(arr) else 0.0, len(arr), arr,
                   None if ids is None else np.asarray(ids, dtype=np.int64))


def resampled_means(values: np.ndarray | None, mean: float, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` means of ``values`` resampled with replacement (``mean`` repeated when None)."""
    if values is None or len(values) == 0:
        return np.full(k, mean)
    n = len(values)
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) == 1:
        return np.full(k, float(distinct[0]))
    if len(distinct) <= _MULTINOMIAL_MAX_DISTINCT:
        return rng.multinomial(n, counts / n, size=k) @ distinct / n
    out = np.empty(k)
    block = max(1, _GATHER_BUDGET // n)
    for start in range(0, k, block):
        stop = min(k, start + block)
        out[start:stop] = values[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    return out


def two_level(samples: Sequence[Sample], rng: np.random.Generator, resamples: int = RESAMPLES) -> np.ndarray:
    """Replicates (``resamples``,) of the mean over seeds of the per-seed means: seeds drawn
    with replacement, then each chosen seed's samples with replacement."""
    s = len(samples)
    if s == 0:
        raise ValueError("nothing to resample")
    chosen = rng.integers(0, s, size=(resamples, s))
    means = np.empty((resamples, s))
    for i, sample in enumerate(samples):
        slots = chosen == i
        means[slots] = resampled_means(sample.values, sample.mean, int(slots.sum()), rng)
    return means.mean(axis=1)


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return float(low), float(high)


def two_sided_p(replicates: np.ndarray) -> float:
    """The bootstrap p-value of "the difference is 0": twice the smaller share of replicates on
    either side of 0 (the test that the percentile interval inverts), with the +1 of a
    Monte Carlo p-value so it is never 0."""
    below, above = int(np.sum(replicates <= 0.0)), int(np.sum(replicates >= 0.0))
    return float(min(1.0, 2.0 * (1 + min(below, above)) / (len(replicates) + 1)))


def paired_differences(a: Iterable[Sample], b: Iterable[Sample]) -> list[Sample] | None:
    """Per common seed, the differences a - b on the samples both hold (matched by id); None
    when a common seed lacks per-sample values or ids (the pair cannot be paired), or no seed
    is shared."""
    by_seed_b = {s.seed: s for s in b}
    out = []
    for sa in a:
        sb = by_seed_b.get(sa.seed)
        if sb is None:
            continue
        if sa.values is None or sb.values is None or sa.ids is None or sb.ids is None:
            return None
        common, ia, ib = np.intersect1d(sa.ids, sb.ids, assume_unique=False, return_indices=True)
        if len(common) == 0:
            return None
        out.append(Sample.of(sa.seed, sa.values[ia] - sb.values[ib], common))
    return out or None


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (Holm 1979) of a family of p-values, in their order.

    Written here rather than imported: the maintained implementation
    (statsmodels.stats.multitest.multipletests) would make statsmodels a dependency for these
    few lines; tests check it against statsmodels where that is installed.
    """
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for position, i in enumerate(order):
        running = max(running, min(1.0, (m - position) * float(p_values[i])))
        adjusted[i] = running
    return adjusted.tolist()
