"""``qenc-bench ibm-jobs JOURNAL``: a run's IBM Quantum jobs, and collecting finished ones.

The command only parses options and calls :func:`show_jobs`, which a notebook can call too.
"""

from __future__ import annotations

import click

from .capabilities import require_runtime


def show_jobs(journal_path: str, *, collect_results: bool = False, account_file: str | None = None,
              timeout: float = 60.0, echo=click.echo) -> int:
    """Print each journalled job's state; with ``collect_results``, write the records of
    finished test jobs into their result files. Returns the number of records written."""
    require_runtime("qenc-bench ibm-jobs")
    from .account import connect
    from .collect import collect, job_states
    from .journal import DRY_RUN, LOCAL, JobJournal

    journal = JobJournal(journal_path)
    entries = journal.entries()
    previews = sum(1 for e in entries if e["event"] == DRY_RUN)
    local = sum(1 for e in entries if e["event"] == LOCAL)
    jobs = journal.jobs()
    if not jobs:
        counted = [f"{previews} dry-run previews" if previews else "", f"{local} local runs on fake devices"
                   if local else ""]
        shown = "; ".join(c for c in counted if c)
        echo(f"{journal.path}: no submitted jobs" + (f" ({shown})" if shown else ""))
        return 0
    connection = connect(account_file, needed_for="looking up the jobs of a journal")
    rows = [("job id", "device", "purpose", "encoder", "seed", "circuits", "shots", "submitted", "state", "record")]
    for state in job_states(journal, connection):
        job, tags = state.job, state.job.tags
        record = "collected" if job.collected else ("collectable" if job.collectable else "-")
        rows.append((job.job_id, str(job.submitted.get("device", "?")), str(tags.get("purpose", "?")),
                     str(tags.get("encoder", "-")), str(tags.get("seed", "-")), str(job.submitted.get("circuits", "?")),
                     str(job.submitted.get("shots", "?")), str(job.submitted.get("time", "?")), state.state, record))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if not collect_results:
        return 0
    report = collect(journal, connection, timeout=timeout)
    for path, encoder, seed in report.written:
        echo(f"collected: {encoder} seed {seed} -> {path}")
    for reason in report.skipped:
        echo(f"not collected: {reason}")
    return len(report.written)


@click.command("ibm-jobs")
@click.argument("journal", type=click.Path(dir_okay=False))
@click.option("--collect", "collect_results", is_flag=True,
              help="Fetch finished test jobs and complete their records in the result file their run named.")
@click.option("--timeout", default=60.0, show_default=True, type=float,
              help="Seconds to wait for each job's result when collecting.")
@click.option("--account-file", default=None, type=click.Path(dir_okay=False),
              help="The saved IBM Quantum account file (default ~/.qiskit/qiskit-ibm.json).")
def ibm_jobs(journal: str, collect_results: bool, timeout: float, account_file: str | None) -> None:
    """Show the IBM Quantum jobs a run logged in JOURNAL (its job journal, next to --out) and
    their state; with --collect, write the records of finished test jobs into their result
    file (records already there are kept)."""
    show_jobs(journal, collect_results=collect_results, account_file=account_file, timeout=timeout)
