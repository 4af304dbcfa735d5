"""``qenc-bench show`` and ``qenc-bench report``: a stored result (or many) as tables and
leaderboards, ranked and grouped exactly as ``compare`` printed them."""

from __future__ import annotations

import click

RANK_CHOICE = click.Choice(["accuracy", "entropy", "robustness", "overall"])
FORMATS = ("table", "markdown", "csv", "json")


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path())
@click.option("--markdown", default=None, type=click.Path(dir_okay=False), help="Write the leaderboard as Markdown.")
@click.option("--html", "html_file", default=None, type=click.Path(dir_okay=False),
              help="Write a self-contained HTML page with the tables and plots.")
@click.option("--csv", "csv_file", default=None, type=click.Path(dir_okay=False),
              help="Write every group's table as CSV (one row per model, with an encoder column).")
@click.option("--rank-by", default="accuracy", show_default=True, type=RANK_CHOICE,
              help="Metric to rank by ('overall': mean rank over the metrics every encoder has).")
@click.option("--force", is_flag=True, help="Overwrite --markdown / --html / --csv if they exist.")
def report(results, markdown, html_file, csv_file, rank_by, force) -> None:
    """Merge result files (or sweep stores) into leaderboards: one ranked table per comparable
    setting, and the ranking across dataset pairs."""
    from pathlib import Path

    from ..leaderboard import leaderboard
    from ..render.files import check_report_targets, write_leaderboard
    from ..render.rich import console, print_groups
    from ..reporters import load_reporters
    from ..results import probe_writable

    targets = {"--markdown": markdown, "--html": html_file, "--csv": csv_file}
    check_report_targets(targets, force=force, inputs=results)  # before any file is read
    for target in targets.values():
        if target is not None:
            probe_writable(Path(target).parent, "report")
    board = leaderboard(results, rank_by)
    reporters = load_reporters()
    screen = console()
    print_groups(screen, board, reporters)
    for study in board.studies:
        from ..render.markdown import study_verdict

        screen.print(f"[bold]across dataset pairs[/] ({study.label}): {study_verdict(study)}", highlight=False)
    runs = sum(len(g.group.records) for g in board.groups)
    click.echo(f"{len(results)} result file(s), {runs} runs, {len(board.groups)} group(s)")
    for path in write_leaderboard(board, reporters, markdown=markdown, html_file=html_file, csv_file=csv_file,
                                  force=force):
        click.echo(f"written: {path}")


@click.command()
@click.argument("result", type=click.Path())
@click.option("--rank-by", default="accuracy", show_default=True, type=RANK_CHOICE,
              help="Metric to rank by ('overall': mean rank over the metrics every encoder has).")
@click.option("--format", "fmt", default="table", show_default=True, type=click.Choice(FORMATS),
              help="table (as compare printed it), markdown, csv (one row per model) or json.")
def show(result, rank_by, fmt) -> None:
    """Print a stored result as 'qenc-bench compare' printed it (a sweep store: a table per
    comparison), or as Markdown, CSV or JSON."""
    from ..errors import ResultFileError
    from ..leaderboard import leaderboard
    from ..reporters import load_reporters

    board = leaderboard([result], rank_by)
    if not board.groups:
        raise ResultFileError(f"{result} holds no records")
    reporters = load_reporters()
    if fmt == "table":
        from ..render.rich import console, print_groups

        print_groups(console(), board, reporters)
        return
    from ..render.table import ranking_table

    tables = [({"group": g.group.label, "dataset": g.group.setting.dataset,
                "classes": ",".join(map(str, g.group.setting.classes))},
               ranking_table(g.ranking, g.group.records, reporters)) for g in board.groups]
    if fmt == "csv":
        from ..render.export import to_csv

        click.echo(to_csv(tables), nl=False)
    elif fmt == "json":
        from ..render.export import to_json

        extra = [{"notes": list(g.notes), "comparisons": [vars(c) for c in g.ranking.comparisons]}
                 for g in board.groups]
        click.echo(to_json(tables, extra), nl=False)
    else:
        from ..render.markdown import table_lines

        lines = []
        for (context, table), ranked in zip(tables, board.groups, strict=True):
            lines += [f"## {context['group']}", "", *(f"> **Warning:** {n}" for n in ranked.notes)]
            lines += ["", *table_lines(table), *(f"- {line}" for line in table.footer), ""]
        click.echo("\n".join(lines))
