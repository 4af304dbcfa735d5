"""Rich renderings of :class:`~.table.Table` s, for the terminal (``compare``, ``show``, ``report``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rich.console import Console
from rich.table import Table as RichTable

from ..reporters import Reporter
from ..results.records import RunRecord
from ..stats import Ranking
from .table import Table, ranking_table, robustness_table


def to_rich(table: Table) -> RichTable:
    out = RichTable(title=table.title or None, title_justify="left", caption_justify="left")
    for c in table.columns:
        out.add_column(c.header, justify="left" if c.text else "right", no_wrap=c.key != "notes")
    for row in table.rows:
        out.add_row(*(row.cells.get(c.key, "-") for c in table.columns),
                    style="dim" if row.classical else None)
    if table.footer:
        out.caption = "\n".join(table.footer)
    return out


def split_metrics(table: Table) -> tuple[Table, Table | None]:
    """The ranking table without its encoding-metric columns, and those columns (beside rank
    and encoder) as a second table: side by side they would not fit a terminal."""
    metric = [c for c in table.columns if c.key.startswith("metric:")]
    if not metric:
        return table, None
    keep = tuple(c for c in table.columns if c not in metric)
    key = tuple(c for c in table.columns if c.key in ("rank", "encoder"))
    metrics = Table(title="encoding metrics", columns=key + tuple(metric), rows=table.rows,
                    footer=tuple(line for line in table.footer if line.startswith("encoding metrics")))
    footer = tuple(line for line in table.footer if not line.startswith("encoding metrics"))
    return replace(table, columns=keep, footer=footer), metrics


def console(stderr: bool = False, width: int = 140) -> Console:
    screen = Console(stderr=stderr)
    screen.width = max(screen.width, width)
    return screen


def print_ranking(screen: Console, ranking: Ranking, records: Sequence[RunRecord], title: str,
                  warnings: Sequence[str] = (), reporters: Sequence[Reporter] = (), baseline: str | None = None) -> None:
    """Warnings, the ranking table and, when measured, the robustness table."""
    for warning in warnings:
        screen.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    main, metrics = split_metrics(ranking_table(ranking, records, reporters, title=title, baseline=baseline))
    screen.print(to_rich(main))
    if metrics is not None:
        screen.print(to_rich(metrics))
    robustness = robustness_table(ranking)
    if robustness is not None:
        screen.print(to_rich(robustness))


def print_groups(screen: Console, board, reporters: Sequence[Reporter] = (), baseline: str | None = "angle") -> None:
    """Every group of a leaderboard as ``compare``, ``show`` and ``report`` print it: the same
    grouping, title, warnings and tables for the same records."""
    for ranked in board.groups:
        title = f"{ranked.group.label} · {len(ranked.group.seeds)} seed(s) · ranked by {ranked.rank_by}"
        print_ranking(screen, ranked.ranking, ranked.group.records, title, ranked.notes, reporters, baseline)
