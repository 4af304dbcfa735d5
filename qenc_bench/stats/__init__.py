"""Statistics for verdicts a reviewer accepts: two-level bootstrap intervals (seeds and test
samples), paired comparisons with Holm's correction, ranks that are shared unless resolved,
and ranks across many tasks (Friedman test, Nemenyi critical difference)."""

from .across import CrossRanking, nemenyi_critical_difference, rank_across
from .bootstrap import Sample, holm
from .estimates import (
    HIGHER_IS_BETTER,
    METRICS,
    MIN_SEEDS,
    Comparison,
    Estimate,
    compare,
    estimate,
    level_sample,
    sample_of,
)
from .ranking import RANK_BY, Ranking, Summary, by_model, rank, result_warnings, summarize

__all__ = [
    "HIGHER_IS_BETTER",
    "METRICS",
    "MIN_SEEDS",
    "RANK_BY",
    "Comparison",
    "CrossRanking",
    "Estimate",
    "Ranking",
    "Sample",
    "Summary",
    "by_model",
    "compare",
    "estimate",
    "holm",
    "level_sample",
    "nemenyi_critical_difference",
    "rank",
    "rank_across",
    "result_warnings",
    "sample_of",
    "summarize",
]
