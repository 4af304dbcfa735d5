"""The ``qenc-bench report`` and ``qenc-bench show`` commands: each parses its options and
calls the functions of :mod:`qenc_bench.report` and :mod:`qenc_bench.report_html`.

Errors are :class:`~qenc_bench.errors.QencBenchError` subclasses; the ``qenc-bench`` group
prints them as one line.
"""

from __future__ import annotations

import click

RANK_CHOICE = click.Choice(["accuracy", "entropy", "robustness", "overall"])


def _console():
    from rich.console import Console

    console = Console()
    console.width = max(console.width, 120)
    return console


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path())
@click.option("--markdown", default=None, type=click.Path(dir_okay=False), help="Write the leaderboard as Markdown.")
@click.option("--html", "html_file", default=None, type=click.Path(dir_okay=False),
              help="Write a self-contained HTML page with the tables and plots.")
@click.option("--rank-by", default="accuracy", show_default=True, type=RANK_CHOICE,
              help="Metric to rank by ('overall': mean rank over the metrics every encoder has).")
@click.option("--force", is_flag=True, help="Overwrite --markdown / --html if they exist.")
def report(results, markdown, html_file, rank_by, force) -> None:
    """Merge result files (or sweep stores) into leaderboards: one ranked table per comparable
    setting."""
    from .report import leaderboard
    from .report_html import check_output, write_leaderboard

    for target in (markdown, html_file):
        if target is not None:
            check_output(target, force=force, inputs=results)  # before any file is read
    groups = leaderboard(results, rank_by)
    screen = _console()
    for ranked in groups:
        _print_group(screen, ranked)
    runs = sum(len(g.group.records) for g in groups)
    click.echo(f"{len(results)} result file(s), {runs} runs, {len(groups)} group(s)")
    for path in write_leaderboard(groups, [str(r) for r in results], rank_by, markdown=markdown,
                                  html_file=html_file, force=force):
        click.echo(f"written: {path}")


@click.command()
@click.argument("result", type=click.Path())
@click.option("--rank-by", default="accuracy", show_default=True, type=RANK_CHOICE,
              help="Metric to rank by ('overall': mean rank over the metrics every encoder has).")
def show(result, rank_by) -> None:
    """Print a stored result as the table 'qenc-bench compare' printed (a sweep store: a table
    per comparison)."""
    from .report import load_sources, merge, rank_group
    from .tables import comparison_warnings, ranking_table, robustness_table

    results, sources = load_sources([result])
    screen = _console()
    groups = merge(results, sources)
    if len(results) != 1 or len(groups) != 1:  # a sweep store, or a file with several settings
        for group in groups:
            _print_group(screen, rank_group(group, rank_by))
        return
    loaded = results[0]
    for warning in comparison_warnings(loaded):
        screen.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    screen.print(ranking_table(loaded, rank_by))
    robustness = robustness_table(loaded, rank_by)
    if robustness is not None:
        screen.print(robustness)


def _print_group(screen, ranked) -> None:
    """Warnings, the ranking table titled with the group's label, and the robustness table."""
    from .tables import ranking_table, robustness_table

    for note in ranked.notes:
        screen.print(f"[bold yellow]warning:[/] {note}", highlight=False)
    result = ranked.group.as_result()
    table = ranking_table(result, ranked.rank_by)
    table.title = f"{ranked.group.label} · {len(ranked.group.seeds)} seed(s) · ranked by {ranked.rank_by}"
    screen.print(table)
    robustness = robustness_table(result, ranked.rank_by)
    if robustness is not None:
        screen.print(robustness)
