"""The ``qenc-bench sweep`` and ``qenc-bench sweep-export`` commands: they parse options and
call :func:`qenc_bench.sweep.run_sweep` and :func:`qenc_bench.results.store.to_results`.

Heavy imports stay inside the commands, so ``qenc-bench --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

SHOWN_FAILURES = 5
OTHER_RUNS = "another sweep file, changed options or another qenc-bench version"


@click.command()
@click.argument("spec_file", metavar="SWEEP.toml", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Results store directory (default sweep-results/<SWEEP stem>/).")
@click.option("--workers", type=int, default=None,
              help="Local worker processes, one BLAS thread each (default: the CPUs this process may use).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on a Dask cluster, e.g. tcp://HOST:8786, instead of local processes (needs qenc-bench[dask]).")
@click.option("--resume/--no-resume", default=True, show_default=True,
              help="Skip runs the store holds; run failed and missing ones. --no-resume refuses a store that holds any.")
@click.option("--rerun", is_flag=True, help="Run every run again, overwriting the store's files.")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="Where dataset files are; overrides the sweep file's data_dir (else $QENC_BENCH_DATA).")
@click.option("--check/--no-check", default=True, show_default=True,
              help="Load every dataset and class pair here before any run "
                   "(--no-check when only the cluster's workers see the data).")
@click.option("--dry-run", is_flag=True, help="Say which runs would run, and run nothing.")
def sweep(spec_file, store, workers, scheduler, resume, rerun, data_dir, check, dry_run) -> None:
    """Run every dataset x class pair x encoder x seed of SWEEP.toml into a resumable store."""
    from rich.console import Console

    from ..signals import exit_code, stop_exit, stop_on_signals
    from ..sweep import SweepInterrupted, default_store, default_workers, load_spec, run_sweep
    from ..sweep.runner import check_options

    check_options(workers, scheduler)  # before anything is announced
    spec = load_spec(spec_file, data_dir=data_dir)
    store = store if store is not None else default_store(spec)
    if not dry_run:
        from ..sweep.runner import check_store

        check_store(Path(store), spec, rerun)
    if dry_run:
        _dry_run(spec, store, resume=resume, rerun=rerun)
        return
    console = Console(stderr=True)
    where = f"the Dask cluster at {scheduler}" if scheduler else f"{workers or default_workers()} local processes"
    others = _other_runs(spec, store)
    click.echo(f"sweep {spec_file}: {len(spec.runs())} runs on {where}, store {store}"
               + (f" ({others} other runs in it: {OTHER_RUNS})" if others else ""), err=True)
    try:
        with stop_on_signals(), _progress(console) as report:
            outcome = run_sweep(spec, store, workers, scheduler, resume, rerun, report, check=check)
    except SweepInterrupted as stop:
        done = stop.outcome
        click.echo(f"stopped: {done.finished} of {done.total} runs are finished and kept in {done.store}; "
                   f"run the same command again to resume", err=True)
        raise stop_exit(stop.exit_code) from None
    except KeyboardInterrupt as stop:
        click.echo("stopped before any run finished; run the same command again to resume", err=True)
        raise stop_exit(exit_code(stop)) from None
    click.echo(f"{outcome.total} runs: {outcome.skipped} already in the store, {outcome.succeeded} ran now, "
               f"{len(outcome.failed)} failed; store {outcome.store}")
    if outcome.failed:
        for failure in outcome.failed[:SHOWN_FAILURES]:
            error = failure.error or {"message": "", "type": "?"}
            first_line = (error["message"].splitlines() or [""])[0]
            click.echo(f"failed: {failure.run_id}: {error['type']}: {first_line}", err=True)
        more = len(outcome.failed) - SHOWN_FAILURES
        if more > 0:
            click.echo(f"... and {more} more", err=True)
        click.echo("each failure is in the store with its traceback; fix the cause and run the same command "
                   "again: only failed and missing runs run", err=True)
        raise SystemExit(1)


@contextmanager
def _progress(console) -> Iterator:
    """A progress callback: a live bar on a terminal, one line per finished run elsewhere."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not console.is_terminal:
        def report(p) -> None:
            if p.run is not None:
                seconds = f" ({p.elapsed:.1f} s)" if p.elapsed is not None else ""
                console.print(f"[{p.done}/{p.total}] {p.status:<6} {p.run.label}{seconds}", markup=False, highlight=False)
        yield report
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("sweep", total=None, failed=0)

        def report(p) -> None:
            last = f"{p.run.label}: {p.status}" if p.run is not None else "sweep"
            bar.update(task, total=p.total, completed=p.done, failed=p.failed, description=last)

        yield report


def _dry_run(spec, store: Path, *, resume: bool, rerun: bool) -> None:
    from ..results.store import ResultStore, is_store
    from ..sweep import run_states

    runs = spec.runs()
    states = run_states(runs, ResultStore.open(store)) if is_store(store) else dict.fromkeys(r.run_id for r in runs)
    counts = {state: sum(s == state for s in states.values()) for state in ("ok", "failed", None)}
    click.echo(f"{len(runs)} runs; in {store}: {counts['ok']} finished, {counts['failed']} failed, "
               f"{counts[None]} missing")
    for run in runs:
        state = states[run.run_id]
        if rerun or state != "ok":
            click.echo(f"would run  {run.run_id}  ({run.label}{', failed before' if state == 'failed' else ''})")
    others = _other_runs(spec, store)
    if others:
        click.echo(f"the store also holds {others} runs not in this sweep ({OTHER_RUNS})")
    if not resume and not rerun and (counts["ok"] or counts["failed"]):
        click.echo("(without --resume or --rerun the sweep would refuse this store)")


def _other_runs(spec, store: Path) -> int:
    """Run files in the store whose id is not one of this sweep's runs."""
    ids = {run.run_id for run in spec.runs()}
    return sum(path.stem not in ids for path in (store / "runs").glob("*.json"))


@click.command(name="sweep-export")
@click.argument("store_dir", metavar="STORE", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the result files: one per dataset, class pair and option set.")
@click.option("--force", is_flag=True, help="Overwrite result files that exist.")
def sweep_export(store_dir, out, force) -> None:
    """Write a sweep store's finished runs as result files for 'qenc-bench report'."""
    from ..errors import ResultFileError
    from ..results import check_new_file, probe_writable
    from ..results.store import result_file_name, to_results

    results = to_results(store_dir)
    if not results:
        raise ResultFileError(f"store {store_dir} holds no finished run")
    paths = [out / result_file_name(result) for result in results]
    probe_writable(out, "--out")
    for path in paths:  # refuse before writing anything
        check_new_file(path, force=force)
    for result, path in zip(results, paths, strict=True):
        result.save(path, force=force)
        click.echo(f"{path}: {result.config['dataset']} {result.config['classes']}, {len(result.records)} runs")
