"""``qenc-bench compare``: train and evaluate encoders on one dataset and print a ranking."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from .options import (
    backend_options,
    complete_names,
    component_options,
    csv_names,
    parse_classes,
    parse_grid,
)

RANK_BY = ("accuracy", "entropy", "robustness", "overall")
#: shots above which a run on a backend with remote jobs needs --yes or a --max-shots budget
CONFIRM_SHOTS = 1_000_000


@click.command()
@click.option("--encoders", default="atp,angle", show_default=True, help="Comma-separated encoder names.",
              shell_complete=complete_names("encoder", listed=True))
@click.option("--dataset", default="digits", show_default=True, help="Dataset name ('qenc-bench list datasets').",
              shell_complete=complete_names("dataset"))
@click.option("--classes", default="0,1", show_default=True, callback=parse_classes,
              help="The class pair A,B; three or more classes train one-vs-rest.")
@click.option("--seeds", default=3, show_default=True, type=int, help="Number of seeds (each: subsample, split, init).")
@click.option("--seed", default=0, show_default=True, type=int, help="First seed.")
@click.option("--grid", default="auto", show_default=True, callback=parse_grid,
              help="Resize images to GRID x GRID by area averaging ('auto': 3 for images; 'none': keep full size).")
@click.option("--train-size", default=400, show_default=True, type=int, help="Training samples (balanced).")
@click.option("--test-size", default=200, show_default=True, type=int, help="Test samples (balanced).")
@click.option("--classical", default="logistic,svm", show_default=True,
              help="Classical reference models on the same features ('qenc-bench list classical'); 'none' for none.",
              shell_complete=complete_names("classical", listed=True, extra=("none",)))
@click.option("--classical-option", "classical_options", multiple=True, metavar="NAME:KEY=VALUE",
              help="An option of a classical model's factory, e.g. svm:C=10. Repeatable.")
@click.option("--backend", default="auto", show_default=True, shell_complete=complete_names("backend", extra=("auto",)),
              help="Backend that evaluates the trained models ('auto': per circuit, the fastest installed engine "
                   "that runs it: exact, jax, lightning, pennylane, aer).")
@click.option("--device", default=None, help="Backend device (pennylane: default.qubit, lightning.qubit, ...; "
                                             "jax: cpu or gpu; ibm: e.g. FakeFez or ibm_fez).")
@click.option("--shots", default=None, type=int, help="Shots per expectation value (exact, aer, ibm); default exact values.")
@click.option("--backend-option", "backend_option", multiple=True, metavar="KEY=VALUE",
              help="KEY=VALUE passed to the backend. Repeatable.")
@click.option("--train-backend", default="auto", show_default=True,
              shell_complete=complete_names("backend", extra=("auto",)),
              help="Backend that trains ('auto': the fastest installed engine with gradients that runs the circuit).")
@click.option("--noise", "noise", multiple=True,
              help="Also evaluate under noise: depolarizing:0.03,0.05,0.10 (after every gate) or device:FakeFez "
                   "(a device's noise model, on the ibm backend). Repeatable.")
@click.option("--attack", "attacks", multiple=True,
              help="Attack the test images: NAME:EPS[,EPS...][:key=value,...], e.g. fgsm:0.1,0.3 or pgd:0.1:steps=20.")
@click.option("--adversarial-training", default=None, help="Train on clean and attacked samples, e.g. fgsm:0.1.")
@click.option("--adversarial-ratio", default=0.5, show_default=True, type=float,
              help="Fraction of every minibatch replaced by its attacked version.")
@click.option("--model", default="readout", show_default=True, help="Model around the encoder ('qenc-bench list models').",
              shell_complete=complete_names("model"))
@click.option("--layers", default=1, show_default=True, type=int, help="Layers of the model.")
@click.option("--lr", default=0.05, show_default=True, type=float, help="Adam learning rate.")
@click.option("--epochs", default=100, show_default=True, type=int, help="Maximum epochs (early stopping ends sooner).")
@click.option("--patience", default=10, show_default=True, type=int,
              help="Epochs without validation improvement before stopping.")
@click.option("--batch-size", default=32, show_default=True, type=int)
@click.option("--restarts", default=None, type=int,
              help="Initialisations per model; the best validation loss is kept (default 3, the same for every model).")
@click.option("--optimizer", default="adam", show_default=True, type=click.Choice(["adam", "cobyla"]),
              help="adam: gradients and early stopping; cobyla: gradient-free, for hardware backends.")
@click.option("--maxiter", default=30, show_default=True, type=int, help="COBYLA's loss evaluations.")
@click.option("--encoder-option", "encoder_options", multiple=True, metavar="NAME:KEY=VALUE",
              help="An option of an encoder's factory, e.g. atp:optimizer=warm or pca:k=atp. Repeatable.")
@click.option("--atp-optimizer", default=None, type=click.Choice(["joint", "exact", "grid", "lbfgsb", "warm"]),
              help="Alias of --encoder-option atp:optimizer=NAME (ATP's threshold search; default joint).")
@click.option("--metrics", default="", metavar="NAME,...",
              help="Encoding metrics per encoder and seed: expressibility, entangling, alignment, trainability, or "
                   "'all' ('qenc-bench list metrics').", shell_complete=complete_names("metric", listed=True,
                                                                                        extra=("all",)))
@click.option("--metric-option", "metric_options", multiple=True, metavar="NAME:KEY=VALUE",
              help="An option of a metric, e.g. expressibility:pairs=2000. Repeatable.")
@click.option("--cost-baseline", default="angle", show_default=True,
              help="Encoder whose wall time the 'x baseline' column divides by ('none': no column).")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False), help="Where dataset files are (else $QENC_BENCH_DATA).")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Result JSON (default results/compare-TIMESTAMP.json).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--resume", is_flag=True, help="Finish a stopped run: keep the runs --out holds and run the rest.")
@click.option("--rank-by", default="accuracy", show_default=True, type=click.Choice(RANK_BY),
              help="Metric to rank by ('overall': mean rank over the metrics every encoder has).")
@click.option("--max-shots", default=None, type=int, help="Refuse a hardware run whose estimate exceeds this many shots.")
@click.option("--yes", is_flag=True, help=f"Run a hardware workload of more than {CONFIRM_SHOTS:,} shots without --max-shots.")
@click.option("--dry-run", is_flag=True, help="Check everything and print the cost estimate; train nothing.")
@click.option("--disable-plugin", "disable_plugins", multiple=True, help="Entry-point name of a plugin not to load.")
def compare(**options) -> None:
    """Train and evaluate encoders on one dataset and print a ranking."""
    from ..harness.config import CompareConfig

    o = options
    out_path = Path(o["out"]) if o["out"] else Path("results") / f"compare-{datetime.now():%Y%m%d-%H%M%S}.json"
    config = CompareConfig(**_config_fields(o))
    # a size the user asked for and did not get is a warning (Plan.size_warnings)
    source = click.get_current_context().get_parameter_source
    asked = tuple(name for name in ("train", "test")
                  if source(f"{name}_size") is not click.core.ParameterSource.DEFAULT)
    _run(config, out_path, force=o["force"], resume=o["resume"], rank_by=o["rank_by"], max_shots=o["max_shots"],
         yes=o["yes"], dry_run=o["dry_run"], asked_sizes=asked)


def _config_fields(o: dict) -> dict:
    from ..attacks import parse_attack
    from ..noise import Depolarizing, DeviceNoise, parse_noise
    from ..training import DEFAULT_RESTARTS, TrainConfig

    names = csv_names(o["encoders"])
    encoder_options = component_options(o["encoder_options"], "--encoder-option")
    if o["atp_optimizer"]:
        encoder_options.setdefault("atp", {}).setdefault("optimizer", o["atp_optimizer"])
    classical = () if o["classical"].strip().lower() == "none" else csv_names(o["classical"])
    noise = [n for text in o["noise"] for n in parse_noise(text)]
    restarts = DEFAULT_RESTARTS if o["restarts"] is None else o["restarts"]
    return dict(
        encoders=names, dataset=o["dataset"], classes=o["classes"], seeds=o["seeds"], seed=o["seed"], grid=o["grid"],
        train_size=o["train_size"], test_size=o["test_size"], backend=o["backend"], train_backend=o["train_backend"],
        backend_options=backend_options(o["device"], o["shots"], o["backend_option"]),
        noise=tuple(n.p for n in noise if isinstance(n, Depolarizing)),
        device_noise=tuple(n.device for n in noise if isinstance(n, DeviceNoise)),
        attacks=tuple(parse_attack(a) for a in o["attacks"]),
        adversarial_training=parse_attack(o["adversarial_training"]) if o["adversarial_training"] else None,
        adversarial_ratio=o["adversarial_ratio"], model=o["model"], layers=o["layers"],
        training=TrainConfig(learning_rate=o["lr"], max_epochs=o["epochs"], patience=o["patience"],
                             batch_size=o["batch_size"], optimizer=o["optimizer"], max_iterations=o["maxiter"],
                             restarts=restarts),
        encoder_options=encoder_options, classical=classical,
        classical_options=component_options(o["classical_options"], "--classical-option"),
        cost_baseline=None if o["cost_baseline"].lower() == "none" else o["cost_baseline"],
        metrics=csv_names(o["metrics"]),
        metric_options=component_options(o["metric_options"], "--metric-option"),
        data_dir=o["data_dir"], disable_plugins=tuple(o["disable_plugins"]),
    )


def _previous(out_path: Path, config) -> list:
    """The records of a stopped run of the same configuration in ``out_path`` (``--resume``)."""
    from ..errors import ResultFileError
    from ..results import BenchmarkResult
    from ..resume import settings_difference

    if not out_path.exists():
        raise ResultFileError(f"--resume: {out_path} does not exist; run without --resume to start")
    previous = BenchmarkResult.load(out_path)
    difference = settings_difference(previous.config, config.to_dict())
    if difference:
        raise ResultFileError(f"--resume: {out_path} holds a run with other settings ({difference}); "
                              f"run with the same options, or choose another --out")
    if previous.complete:
        raise ResultFileError(f"--resume: {out_path} is complete; nothing to resume (use --force to run again)")
    return list(previous.records)


def _run(config, out_path: Path, *, force: bool, resume: bool, rank_by: str, max_shots: int | None, yes: bool,
         dry_run: bool, asked_sizes: tuple[str, ...] = ("train", "test")) -> None:
    from ..errors import ConfigError
    from ..harness import Engines, plan, run
    from ..harness.costs import describe, estimates
    from ..leaderboard import leaderboard_of
    from ..render.rich import console, print_groups
    from ..reporters import load_reporters
    from ..results import check_new_file, probe_writable, remove_stale_temporaries
    from ..signals import exit_code, stop_exit, stop_on_signals

    if max_shots is not None and max_shots < 1:
        raise ConfigError(f"--max-shots must be at least 1, got {max_shots}")
    previous = _previous(out_path, config) if resume else []
    if not resume:
        check_new_file(out_path, force=force)
    probe_writable(out_path.parent, "--out")  # an unwritable output fails now, not after the work
    remove_stale_temporaries(out_path)  # what a killed earlier write left beside it
    checked = plan(config)  # every configuration and data error, and any download, before the bar
    errors = console(stderr=True)
    for warning in checked.size_warnings(asked_sizes):
        errors.print(f"[bold yellow]warning:[/] {warning}", highlight=False)
    journal = out_path.with_name(out_path.name + ".jobs.jsonl")
    engines = Engines(checked.backends, config, job_journal=journal)
    costs = estimates(checked, engines)
    for name, estimate in costs:
        click.echo(f"estimate: {describe(name, estimate)}", err=True)
    shots = sum(e.shots for _, e in costs)
    billed = sum(e.shots for _, e in costs if not e.simulated)
    if max_shots is not None and shots > max_shots:
        raise ConfigError(f"the estimate ({shots:,} shots) exceeds --max-shots {max_shots:,}; lower --seeds, "
                          f"--test-size, --shots or --maxiter, or raise the budget")
    if billed > CONFIRM_SHOTS and max_shots is None and not yes:
        raise ConfigError(f"this run would use about {shots:,} shots on hardware; pass --yes to run it, or "
                          f"--max-shots N to cap it (--dry-run shows the estimate)")
    if dry_run:
        engines.close()
        click.echo(f"dry run: {checked.runs} runs planned, nothing trained or submitted")
        return
    finished = list(previous)
    try:
        with stop_on_signals() as stop, _progress(errors, checked.runs, len(previous)) as advance:
            def keep(record) -> None:
                finished.append(record)
                advance(record)

            result = run(checked, keep, previous=previous, job_journal=journal if costs else None,
                         result_file=out_path, engines=engines)
    except (KeyboardInterrupt, Exception) as exc:
        stop.hold()  # a second signal must not cut the writing of what finished
        stopped = isinstance(exc, KeyboardInterrupt)
        if len(finished) > len(previous):  # lose nothing: what finished is written, complete=false
            written = _save_partial(checked, finished, out_path)
            click.echo(f"{'stopped' if stopped else 'failed'}: {len(finished)} of {checked.runs} runs finished and "
                       f"written to {written}; run the same command with --resume to finish", err=True)
        elif stopped:
            click.echo("stopped before any run finished; nothing was written", err=True)
        if stopped:
            raise stop_exit(exit_code(exc)) from None
        raise
    written = _save(result, out_path, force=force or resume)
    for hint in engines.hints:
        errors.print(f"[bold yellow]note:[/] {hint}", highlight=False)
    print_groups(console(), leaderboard_of([result], [str(written)], rank_by), load_reporters(),
                 config.cost_baseline)
    click.echo(f"result written to {written}")


def _save(result, out_path: Path, *, force: bool) -> Path:
    """Write the result; if ``out_path`` cannot be written now (it could when the run started),
    write it to a fallback file in the working folder and say where it went."""
    from ..errors import ResultFileError

    try:
        return result.save(out_path, force=force)
    except ResultFileError as exc:
        fallback = Path(f"qenc-bench-rescued-{datetime.now():%Y%m%d-%H%M%S}.json")
        result.save(fallback)
        raise ResultFileError(f"{exc}; the result was written to {fallback.resolve()} instead") from None


def _save_partial(checked, records, out_path: Path) -> Path:
    return _save(checked.result(records, complete=False), out_path, force=True)


class _progress:
    """A live bar on a terminal; elsewhere one line per finished run (model, seed, accuracy,
    seconds), so a log shows the run is alive."""

    def __init__(self, screen, total: int, done: int):
        self.screen, self.total, self.done = screen, total, done
        self.bar: Any = None

    def __enter__(self):
        if self.screen.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=self.screen, transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("compare", total=self.total, completed=self.done)
        return self.advance

    def advance(self, record) -> None:
        self.done += 1
        what = f"{record.encoder} seed {record.seed}"
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=what)
        else:
            seconds = sum(record.timings.values())
            self.screen.print(f"[{self.done}/{self.total}] {what}: accuracy {record.accuracy:.3f}, {seconds:.1f} s",
                              markup=False, highlight=False)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
