"""Ranking models across many tasks (dataset pairs): mean ranks, the Friedman test and the
Nemenyi critical difference (Demšar 2006, "Statistical comparisons of classifiers over
multiple data sets", JMLR 7).

Each task (block) ranks the models by their mean score on it (rank 1 best, ties get the
average rank); a model's mean rank over the tasks orders the table. The Friedman test
(``scipy.stats.friedmanchisquare``, which corrects for ties) asks whether the models differ at
all; the Nemenyi post-hoc critical difference CD = q_alpha sqrt(k (k + 1) / (6 N)), with
q_alpha the studentized range quantile of k means and infinite degrees of freedom divided by
sqrt(2) (``scipy.stats.studentized_range``), is the smallest difference of mean ranks that is
significant at alpha for any pair. Models whose mean ranks lie within one CD of each other
are not resolved and are drawn joined in the critical-difference diagram.

Only models present on every task take part (the test needs complete blocks); the others are
listed with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

ALPHA = 0.05


@dataclass(frozen=True)
class CrossRanking:
    """Models ordered by mean rank over ``blocks`` (the tasks).

    :param statistic, p_value: Friedman's chi-square (tie-corrected) and its p-value; None with
        fewer than 3 models or 2 tasks.
    :param critical_difference: Nemenyi's CD at ``alpha``; None when there is no test.
    :param cliques: maximal runs of models (in rank order) whose mean ranks differ by at most the
        CD: the bars of the critical-difference diagram.
    :param excluded: models left out, and why.
    """

    models: tuple[str, ...]
    mean_ranks: tuple[float, ...]
    blocks: tuple[str, ...]
    statistic: float | None
    p_value: float | None
    critical_difference: float | None
    alpha: float
    cliques: tuple[tuple[str, ...], ...] = ()
    excluded: dict[str, str] = field(default_factory=dict)

    def differ(self, a: str, b: str) -> bool | None:
        """Whether the Nemenyi test resolves ``a`` and ``b`` (None without a test)."""
        if self.critical_difference is None:
            return None
        ranks = dict(zip(self.models, self.mean_ranks, strict=True))
        return abs(ranks[a] - ranks[b]) > self.critical_difference


def nemenyi_critical_difference(k: int, n: int, alpha: float = ALPHA) -> float:
    """Demšar's CD for ``k`` models on ``n`` tasks."""
    from scipy import stats  # imported when used: scipy.stats costs half a second

    q = stats.studentized_range.ppf(1.0 - alpha, k, np.inf) / math.sqrt(2.0)
    return float(q * math.sqrt(k * (k + 1) / (6.0 * n)))


def _cliques(models: list[str], ranks: list[float], cd: float) -> tuple[tuple[str, ...], ...]:
    spans = []
    for i in range(len(models)):
        j = i
        while j + 1 < len(models) and ranks[j + 1] - ranks[i] <= cd + 1e-12:
            j += 1
        if j > i:
            spans.append((i, j))
    maximal = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
    return tuple(tuple(models[i:j + 1]) for i, j in maximal)


def rank_across(scores: Mapping[str, Mapping[str, float]], *, higher_is_better: bool = True,
                alpha: float = ALPHA) -> CrossRanking:
    """Rank the models of ``scores`` (task -> model -> mean score) across the tasks."""
    from scipy import stats

    blocks = list(scores)
    everywhere = set.intersection(*(set(scores[b]) for b in blocks)) if blocks else set()
    seen = [m for b in blocks for m in scores[b]]
    models = sorted(everywhere, key=seen.index)
    excluded = {m: f"missing on {sum(m not in scores[b] for b in blocks)} of {len(blocks)} tasks"
                for m in dict.fromkeys(seen) if m not in everywhere}
    if not models or not blocks:
        return CrossRanking((), (), tuple(blocks), None, None, None, alpha, excluded=excluded)
    table = np.array([[scores[b][m] for m in models] for b in blocks], dtype=float)
    ranks = stats.rankdata(-table if higher_is_better else table, axis=1).mean(axis=0)
    order = sorted(range(len(models)), key=lambda i: (ranks[i], models[i]))
    ordered, mean_ranks = [models[i] for i in order], [float(ranks[i]) for i in order]
    statistic = p_value = cd = None
    cliques: tuple[tuple[str, ...], ...] = ()
    if len(models) >= 3 and len(blocks) >= 2:
        if np.ptp(table, axis=1).max() > 0:
            result = stats.friedmanchisquare(*table.T)
            statistic, p_value = float(result.statistic), float(result.pvalue)
        else:  # every model ties on every task: nothing differs
            statistic, p_value = 0.0, 1.0
        cd = nemenyi_critical_difference(len(models), len(blocks), alpha)
        cliques = _cliques(ordered, mean_ranks, cd)
    return CrossRanking(tuple(ordered), tuple(mean_ranks), tuple(blocks), statistic, p_value, cd, alpha,
                        cliques, excluded)
