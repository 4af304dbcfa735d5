"""The leaderboard as GitHub-flavoured Markdown: a table per group, the paired comparisons,
the ranking across dataset pairs, and the legend."""

from __future__ import annotations

from collections.abc import Sequence

from ..leaderboard import Leaderboard, RankedGroup, Study
from ..reporters import Reporter
from .legend import LEGEND, header_facts, seed_ranges
from .table import Table, comparisons_table, ranking_table, robustness_table


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def table_lines(table: Table) -> list[str]:
    return ["| " + " | ".join(c.header for c in table.columns) + " |",
            "|" + "|".join("---" if c.text else "---:" for c in table.columns) + "|",
            *("| " + " | ".join(_cell(row.cells.get(c.key, "-")) for c in table.columns) + " |" for row in table.rows),
            ""]


def setting_line(ranked: RankedGroup) -> str:
    """The parts of the setting the group's label does not show, the seeds and the metric."""
    g = ranked.group
    label = g.label.split(" · ")
    rest = [text for text in g.setting.parts().values() if text not in label]
    return " · ".join([*rest, f"seeds {seed_ranges(g.seeds)}", f"ranked by {ranked.rank_by}"])


def study_table(study: Study) -> tuple[list[str], list[list[str]]]:
    cross = study.cross
    headers = ["mean rank", "model", *(f"{t}" for t in cross.blocks)]
    rows = []
    for name, r in zip(cross.models, cross.mean_ranks, strict=True):
        scores = []
        for g in study.groups:
            s = next((s for s in g.summaries if s.name == name), None)
            e = s.metrics[study.metric] if s is not None else None
            scores.append("-" if e is None else f"{e.mean:.3f}")
        rows.append([f"{r:.2f}", name, *scores])
    return headers, rows


def study_verdict(study: Study) -> str:
    cross = study.cross
    if cross.statistic is None:
        return "Too few models or dataset pairs for a Friedman test (it needs 3 models and 2 pairs)."
    text = (f"Friedman chi-square {cross.statistic:.2f} over {len(cross.blocks)} pairs and {len(cross.models)} "
            f"models, p = {cross.p_value:.3g}; Nemenyi critical difference {cross.critical_difference:.2f} "
            f"(alpha {cross.alpha:g}).")
    resolved = []
    for i, model in enumerate(cross.models):
        beaten = [m for m in cross.models[i + 1:] if cross.differ(model, m)]
        if beaten:
            resolved.append(f"{model} above {', '.join(beaten)}")
    text += (f" Resolved (mean ranks further apart than the CD): {'; '.join(resolved)}; every other pair is not."
             if resolved else f" No model is resolved from {cross.models[0]}.")
    if cross.excluded:
        text += " Left out: " + "; ".join(f"{m} ({why})" for m, why in cross.excluded.items()) + "."
    return text


def markdown_leaderboard(board: Leaderboard, reporters: Sequence[Reporter] = ()) -> str:
    runs = sum(len(g.group.records) for g in board.groups)
    lines = ["# qenc-bench leaderboard", "",
             header_facts(len(board.groups), runs, board.sources, board.rank_by) + ".", "",
             "Sources: " + ", ".join(f"`{s}`" for s in board.sources) + ".", ""]
    for ranked in board.groups:
        records = ranked.group.records
        lines += [f"## {ranked.group.label}", "", f"Setting: {setting_line(ranked)}.", "",
                  "From " + ", ".join(f"`{s}`" for s in ranked.group.sources) + ".", ""]
        lines += [f"> **Warning:** {note}" for note in ranked.notes]
        if ranked.notes:
            lines.append("")
        table = ranking_table(ranked.ranking, records, reporters)
        lines += table_lines(table)
        lines += [f"- {line}" for line in table.footer] + [""]
        comparisons = comparisons_table(ranked.ranking)
        if comparisons.rows:
            lines += ["Paired comparisons, each row against the next:", "", *table_lines(comparisons)]
        levels = robustness_table(ranked.ranking)
        if levels is not None:
            lines += ["Test accuracy under noise and attack (mean over seeds):", "", *table_lines(levels)]
    for study in board.studies:
        headers, rows = study_table(study)
        lines += [f"## Across dataset pairs: {study.label}", "", study_verdict(study), "",
                  "| " + " | ".join(headers) + " |", "|" + "|".join("---:" if i != 1 else "---"
                                                                  for i in range(len(headers))) + "|",
                  *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows), ""]
    lines += ["## Legend", "", *(f"- **{term}**: {text}" for term, text in LEGEND), ""]
    return "\n".join(lines)
