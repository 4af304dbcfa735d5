"""Leaderboards: result files and sweep stores merged into groups (:mod:`.results.merge`),
each group ranked (:mod:`.stats`), and groups that differ only in their dataset pair ranked
together across pairs (mean rank, Friedman test, Nemenyi critical difference).

:func:`leaderboard` is what ``qenc-bench report`` shows; a notebook can call it directly.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ConfigError
from .results.merge import Group, Setting, load_sources, merge
from .results.records import BenchmarkResult
from .stats import HIGHER_IS_BETTER, RANK_BY, CrossRanking, Ranking, rank, rank_across, result_warnings

#: the parts of a setting that may differ between the tasks of one cross-pair study
TASK_PARTS = ("dataset", "classes", "sizes", "dataset_notes")


@dataclass(frozen=True)
class RankedGroup:
    """A group's ranking, and the notes a reader must see above its table."""

    group: Group
    ranking: Ranking
    notes: tuple[str, ...]

    @property
    def rank_by(self) -> str:
        return self.ranking.rank_by

    @property
    def summaries(self):
        return self.ranking.summaries


def rank_group(group: Group, rank_by: str = "accuracy") -> RankedGroup:
    """Rank a group by ``rank_by``; a group where no model has the metric is ranked by accuracy,
    with a note."""
    if rank_by not in RANK_BY:
        raise ConfigError(f"cannot rank by {rank_by!r}; choose one of {', '.join(RANK_BY)}")
    notes = [*result_warnings(group.records), *group.notes()]
    try:
        ranking = rank(group.records, rank_by)
    except ConfigError:
        if rank_by == "accuracy":
            raise
        notes.append(f"no model here has {rank_by}: ranked by accuracy instead")
        ranking = rank(group.records, "accuracy")
    return RankedGroup(group, ranking, tuple(notes))


def _study_key(setting: Setting) -> tuple:
    return tuple((k, v) for k, v in vars(setting).items() if k not in TASK_PARTS)


def _task(setting: Setting) -> str:
    return f"{setting.dataset} {','.join(map(str, setting.classes))}"


@dataclass(frozen=True)
class Study:
    """Groups that differ only in their task, ranked across tasks by ``metric``."""

    label: str
    metric: str
    groups: tuple[RankedGroup, ...]
    cross: CrossRanking


def studies(groups: Sequence[RankedGroup], metric: str = "accuracy") -> list[Study]:
    """Every set of two or more groups that share all but their task (dataset and classes),
    ranked across those tasks on the mean of ``metric``."""
    metric = metric if metric in HIGHER_IS_BETTER else "accuracy"
    by_key: dict[tuple, list[RankedGroup]] = {}
    for g in groups:
        by_key.setdefault(_study_key(g.group.setting), []).append(g)
    candidates = []
    for members in by_key.values():
        tasks = {_task(g.group.setting) for g in members}
        if len(tasks) < 2 or len(tasks) != len(members):
            continue
        scores = {}
        for g in members:
            scores[_task(g.group.setting)] = {s.name: s.metrics[metric].mean for s in g.summaries
                                              if s.metrics[metric] is not None}
        candidates.append((members, scores))
    every = [m[0].group.setting.parts() for m, _ in candidates]
    varying = {name for name in (every[0] if every else {}) if len({p.get(name) for p in every}) > 1}
    out = []
    for members, scores in candidates:
        parts = members[0].group.setting.parts()
        shown = [text for name, text in parts.items()
                 if name in ("grid", "model", "measurement") or (name in varying and name not in TASK_PARTS)]
        out.append(Study(" · ".join(shown), metric, tuple(members),
                         rank_across(scores, higher_is_better=HIGHER_IS_BETTER[metric])))
    return out


@dataclass(frozen=True)
class Leaderboard:
    groups: tuple[RankedGroup, ...]
    studies: tuple[Study, ...]
    sources: tuple[str, ...]
    rank_by: str


def leaderboard_of(results: Sequence[BenchmarkResult], sources: Sequence[str], rank_by: str = "accuracy"
                   ) -> Leaderboard:
    groups = tuple(rank_group(g, rank_by) for g in merge(results, sources))
    return Leaderboard(groups, tuple(studies(groups, rank_by)), tuple(sources), rank_by)


def leaderboard(paths: Sequence[str | os.PathLike], rank_by: str = "accuracy") -> Leaderboard:
    """Load, merge and rank result files and sweep stores: what ``qenc-bench report`` shows."""
    if not paths:
        raise ConfigError("give at least one result file")
    results, sources = load_sources(paths)
    if not any(r.records for r in results):
        raise ConfigError(f"{', '.join(map(str, paths))}: no records to report (the run finished none)")
    return leaderboard_of(results, sources, rank_by)
