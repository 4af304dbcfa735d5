"""The ``qenc-bench`` command line. Each command parses options and calls a plain function.

No quantum SDK is imported here: ``qenc-bench --help`` stays fast.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from .errors import QencBenchError

KIND_CHOICES = {"datasets": "dataset", "encoders": "encoder", "backends": "backend", "attacks": "attack",
                "models": "model"}


class _Group(click.Group):
    """Turns every :class:`QencBenchError` into a one-line message and exit status 1, and adds
    the commands plugins register (``qenc_bench_register_commands``) beside the built-in ones."""

    def _plugin_commands(self) -> dict[str, click.Command]:
        from .plugins import load_registry

        try:
            entries = load_registry().entries("command")
        except QencBenchError:  # a broken plugin: its error shows when a command loads plugins
            return {}
        commands = {}
        for entry in entries:
            if entry.spec.name in self.commands:
                raise click.ClickException(f"plugin {entry.plugin!r} registers command {entry.spec.name!r}, "
                                           f"which is a built-in command; rename it")
            command = entry.spec.factory()
            command.name = entry.spec.name
            commands[entry.spec.name] = command
        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands().get(cmd_name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except QencBenchError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _classes(ctx, param, value: str) -> tuple[int, ...]:
    parts = _csv(value)
    try:
        classes = tuple(int(p) for p in parts)
    except ValueError:
        classes = ()
    if len(classes) < 2:
        raise click.BadParameter(f"expected two or more class indices like 0,1 (or 0,1,2 for one-vs-rest), got {value!r}")
    return classes


def _backend_options(device: str | None, shots: int | None, pairs: tuple[str, ...]) -> dict:
    from .attacks import _option_value

    options: dict = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--backend-option")
        options[key.strip().replace("-", "_")] = _option_value(value.strip())
    if device is not None:
        options["device"] = device
    if shots is not None:
        if shots < 1:
            raise click.BadParameter(f"must be at least 1, got {shots}", param_hint="--shots")
        options["shots"] = shots
    return options


def _grid(ctx, param, value: str) -> int | str | None:
    if value.lower() in ("none", "auto"):
        return None if value.lower() == "none" else "auto"
    try:
        grid = int(value)
    except ValueError:
        raise click.BadParameter(f"expected an integer or 'none', got {value!r}") from None
    if grid < 1:
        raise click.BadParameter(f"must be at least 1, got {grid}")
    return grid


@click.group(cls=_Group)
@click.version_option(package_name="qenc-bench")
def main() -> None:
    """Benchmark quantum data encodings side by side: accuracy, entanglement, resources."""


@main.command()
@click.option("--encoders", default="atp,angle", show_default=True, help="Comma-separated encoder names.")
@click.option("--dataset", default="digits", show_default=True, help="Dataset name ('qenc-bench list datasets').")
@click.option("--classes", default="0,1", show_default=True, callback=_classes, help="The class pair A,B; three or more classes train one-vs-rest.")
@click.option("--seeds", default=3, show_default=True, type=int, help="Number of seeds (each: subsample, split, init).")
@click.option("--seed", default=0, show_default=True, type=int, help="First seed.")
@click.option("--grid", default="auto", show_default=True, callback=_grid, help="Resize images to GRID x GRID by area averaging ('auto': 3 for images; 'none': keep full size).")
@click.option("--train-size", default=400, show_default=True, type=int, help="Training samples (balanced).")
@click.option("--test-size", default=200, show_default=True, type=int, help="Test samples (balanced).")
@click.option("--backend", default="auto", show_default=True,
              help="Backend that evaluates the trained models: pennylane, aer, exact, ... ('auto': exact where the "
                   "circuit allows, else aer, else pennylane).")
@click.option("--device", default=None, help="Backend device (pennylane: default.qubit|lightning.qubit; ibm: e.g. FakeSherbrooke).")
@click.option("--shots", default=None, type=int, help="Shots per expectation value (aer, ibm); default exact where possible.")
@click.option("--backend-option", "backend_option", multiple=True, help="KEY=VALUE passed to the backend. Repeatable.")
@click.option("--train-backend", default="auto", show_default=True, help="Backend that trains ('auto': exact when the circuit allows, else --backend).")
@click.option("--noise", "noise", multiple=True,
              help="Also evaluate under noise: depolarizing:0.03,0.05,0.10 (after every gate) or device:FakeSherbrooke "
                   "(a device's noise model, on the ibm backend). Repeatable.")
@click.option("--attack", "attacks", multiple=True,
              help="Attack the test split: NAME:EPS[,EPS...][:key=value,...], e.g. fgsm:0.1,0.3 or pgd:0.1:steps=20. Repeatable.")
@click.option("--adversarial-training", default=None, help="Train on clean and attacked samples, e.g. fgsm:0.1.")
@click.option("--adversarial-ratio", default=0.5, show_default=True, type=float,
              help="Fraction of every minibatch replaced by its attacked version.")
@click.option("--model", default="readout", show_default=True, help="Model around the encoder ('qenc-bench list models').")
@click.option("--layers", default=1, show_default=True, type=int, help="Layers of the model.")
@click.option("--lr", default=0.05, show_default=True, type=float, help="Adam learning rate.")
@click.option("--epochs", default=100, show_default=True, type=int, help="Maximum epochs (early stopping ends sooner).")
@click.option("--patience", default=10, show_default=True, type=int, help="Epochs without validation improvement before stopping.")
@click.option("--batch-size", default=32, show_default=True, type=int)
@click.option("--optimizer", default="adam", show_default=True, type=click.Choice(["adam", "cobyla"]),
              help="adam: gradients and early stopping; cobyla: gradient-free, for hardware backends.")
@click.option("--maxiter", default=30, show_default=True, type=int, help="COBYLA's loss evaluations.")
@click.option("--atp-optimizer", default=None, type=click.Choice(["exact", "grid", "lbfgsb", "warm", "joint"]),
              help="ATP threshold search (default exact; 'joint' trains every candidate mask at once on the exact "
                   "backend: the same choice as exact at about half of angle's cost; 'warm' at about 1.1x).")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False), help="Where dataset files are (else $QENC_BENCH_DATA).")
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="Result JSON (default results/compare-TIMESTAMP.json).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--rank-by", default="accuracy", show_default=True,
              type=click.Choice(["accuracy", "entropy", "robustness", "overall"]),
              help="Metric to rank by ('overall': mean rank over the metrics every encoder has).")
@click.option("--disable-plugin", "disable_plugins", multiple=True, help="Entry-point name of a plugin not to load.")
def compare(encoders, dataset, classes, seeds, seed, grid, train_size, test_size, backend, device, shots,
            backend_option, train_backend,
            noise, attacks, adversarial_training, adversarial_ratio, model, layers, lr, epochs, patience, batch_size, optimizer, maxiter, atp_optimizer, data_dir, out, force, rank_by,
            disable_plugins) -> None:
    """Train and evaluate encoders on one dataset and print a ranking."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .attacks import parse_attack
    from .harness import CompareConfig, plan, run
    from .noise import Depolarizing, DeviceNoise, parse_noise
    from .records import check_writable
    from .tables import comparison_warnings, ranking_table, robustness_table
    from .training import TrainConfig

    out_path = Path(out) if out else Path("results") / f"compare-{datetime.now():%Y%m%d-%H%M%S}.json"
    check_writable(out_path, force=force)
    names = _csv(encoders)
    options = {"atp": {"optimizer": atp_optimizer}} if atp_optimizer and "atp" in names else {}
    config = CompareConfig(
        encoders=names, dataset=dataset, classes=classes, seeds=seeds, seed=seed, grid=grid,
        train_size=train_size, test_size=test_size, backend=backend, train_backend=train_backend,
        backend_options=_backend_options(device, shots, backend_option),
        noise=tuple(n.p for text in noise for n in parse_noise(text) if isinstance(n, Depolarizing)),
        device_noise=tuple(n.device for text in noise for n in parse_noise(text) if isinstance(n, DeviceNoise)),
        attacks=tuple(parse_attack(a) for a in attacks),
        adversarial_training=parse_attack(adversarial_training) if adversarial_training else None,
        adversarial_ratio=adversarial_ratio,
        model=model, layers=layers, training=TrainConfig(learning_rate=lr, max_epochs=epochs, patience=patience,
                                            batch_size=batch_size, optimizer=optimizer,
                                            max_iterations=maxiter),
        encoder_options=options, data_dir=data_dir, disable_plugins=tuple(disable_plugins),
    )
    console = Console(stderr=True)
    checked = plan(config)  # every configuration and data error, and any download, before the bar
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("compare", total=checked.runs)
        result = run(checked, progress=lambda what: bar.update(task, advance=1, description=what))
    screen = Console()
    screen.width = max(screen.width, 120)
    for warning in comparison_warnings(result):
        screen.print(f"[bold yellow]warning:[/] {warning}")
    screen.print(ranking_table(result, rank_by))
    robustness = robustness_table(result, rank_by)
    if robustness is not None:
        screen.print(robustness)
    result.save(out_path, force=force)
    click.echo(f"result written to {out_path}")


@main.command()
@click.option("--disable-plugin", "disable_plugins", multiple=True)
def plugins(disable_plugins) -> None:
    """Show each loaded plugin, its distribution and version, and what it registers."""
    from rich.console import Console
    from rich.table import Table

    from .plugins import KINDS, Registry, get_plugin_manager

    pm = get_plugin_manager(disable_plugins)
    registry = Registry.from_plugin_manager(pm)
    table = Table(title="qenc-bench plugins")
    for col in ("plugin", "distribution", "version", "registers"):
        table.add_column(col)
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:  # blocked with --disable-plugin
            continue
        dist, version = pm.distribution_of(name)
        what = [f"{kind} {e.spec.name}" for kind in KINDS for e in registry.entries(kind) if e.plugin == name]
        table.add_row(name, dist, version, ", ".join(what) or "-")
    Console().print(table)


@main.command(name="list")
@click.argument("kind", type=click.Choice(sorted(KIND_CHOICES)))
@click.option("--disable-plugin", "disable_plugins", multiple=True)
def list_components(kind, disable_plugins) -> None:
    """List the registered datasets, encoders, backends, attacks or models."""
    from .plugins import load_registry

    registry = load_registry(disable_plugins)
    entries = registry.entries(KIND_CHOICES[kind])
    if not entries:
        click.echo(f"no {kind} registered")
    for e in entries:
        click.echo(f"{e.spec.name:<16} {e.spec.description}  [{e.plugin}]")


from .commands_report import report, show  # noqa: E402  (click only; the work is imported lazily)

from .commands_reproduce import reproduce  # noqa: E402
from .commands_sweep import sweep, sweep_export  # noqa: E402

main.add_command(report)
main.add_command(show)
main.add_command(sweep)
main.add_command(sweep_export)
main.add_command(reproduce)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
