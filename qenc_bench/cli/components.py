"""``qenc-bench plugins`` and ``qenc-bench list KIND``."""

from __future__ import annotations

import click

KIND_CHOICES = {"datasets": "dataset", "encoders": "encoder", "backends": "backend", "attacks": "attack",
                "models": "model", "classical": "classical", "reporters": "reporter", "commands": "command",
                "metrics": "metric"}


@click.command()
@click.option("--disable-plugin", "disable_plugins", multiple=True)
def plugins(disable_plugins) -> None:
    """Show each loaded plugin, its distribution and version, and what it registers."""
    from rich.console import Console
    from rich.table import Table

    from ..plugins import KINDS, Registry, get_plugin_manager

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


@click.command(name="list")
@click.argument("kind", type=click.Choice(sorted(KIND_CHOICES)))
@click.option("--disable-plugin", "disable_plugins", multiple=True)
def list_components(kind, disable_plugins) -> None:
    """List the registered datasets, encoders, backends, attacks, models, classical models,
    reporters or plugin commands."""
    from ..plugins import load_registry

    registry = load_registry(disable_plugins)
    entries = registry.entries(KIND_CHOICES[kind])
    if not entries:
        click.echo(f"no {kind} registered")
    for e in entries:
        click.echo(f"{e.spec.name:<16} {e.spec.description}  [{e.plugin}]")
