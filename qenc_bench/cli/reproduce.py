"""``qenc-bench reproduce``: the ATP paper's grid, run and reported side by side."""

from __future__ import annotations

import click


@click.command()
@click.argument("study", type=click.Choice(["atp-paper"]))
@click.option("--quick/--full", default=True, show_default=True,
              help="quick: 2 seeds, 200 training / 100 test samples (minutes); full: 5 seeds, 400 / 200.")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="Where dataset files are (else $QENC_BENCH_DATA, the cache, or a download).")
@click.option("--out", "out_dir", default="reproduction", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the per-pair results and the reports; an interrupted run resumes from it.")
@click.option("--dataset", "datasets", multiple=True, help="Only these datasets (repeatable).")
@click.option("--rerun", is_flag=True, help="Run every pair again, even those with a result.")
@click.option("--shots/--no-shots", default=True, show_default=True,
              help="Also run the finite-shot noise experiment on MNIST 0,1.")
def reproduce(study, quick, data_dir, out_dir, datasets, rerun, shots) -> None:
    """Reproduce a published comparison and report it beside the paper's numbers."""
    from pathlib import Path

    from ..leaderboard import leaderboard_of
    from ..render.files import write_leaderboard
    from ..reporters import load_reporters
    from ..reproduce import html_report, markdown_report
    from ..reproduce import reproduce as run
    from ..results import probe_writable, write_text_atomic
    from ..signals import exit_code, stop_exit, stop_on_signals

    out = Path(out_dir)
    probe_writable(out / "results", "--out")
    try:
        with stop_on_signals():
            outcome = run(out / "results", quick=quick, data_dir=data_dir, datasets=tuple(datasets) or None,
                          rerun=rerun, progress=lambda line: click.echo(line, err=True), shots=shots)
    except KeyboardInterrupt as exc:
        click.echo(f"stopped: every finished pair is kept in {out / 'results'}; run the same command again to "
                   f"resume", err=True)
        raise stop_exit(exit_code(exc)) from None
    if not outcome.results:
        raise click.ClickException("no pair could be run: " + "; ".join(outcome.skipped.values()))
    write_text_atomic(out / "reproduction.md", markdown_report(outcome, quick))
    write_text_atomic(out / "reproduction.html", html_report(outcome, quick))
    keys = list(outcome.results)
    board = leaderboard_of([outcome.results[k] for k in keys], [str(out / "results" / k) for k in keys], "accuracy")
    write_leaderboard(board, load_reporters(), markdown=out / "leaderboard.md", html_file=out / "leaderboard.html",
                      force=True)
    for key, why in outcome.skipped.items():
        click.echo(f"skipped {key}: {why}")
    click.echo(f"wrote {out / 'reproduction.md'}, {out / 'reproduction.html'}, "
               f"{out / 'leaderboard.md'} and {out / 'leaderboard.html'}")
