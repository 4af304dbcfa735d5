"""The ``qenc-bench`` command line. Each command parses options and calls a plain function of
the package (:mod:`qenc_bench.harness`, :mod:`qenc_bench.leaderboard`, :mod:`qenc_bench.sweep`,
:mod:`qenc_bench.reproduce`), which a notebook can call too.

No quantum SDK is imported here: ``qenc-bench --help`` stays fast. Plugins may add commands
(``qenc_bench_register_commands``); they are listed beside the built-in ones.
"""

from __future__ import annotations

import sys

import click

from ..errors import QencBenchError


class QencGroup(click.Group):
    """Turns every :class:`QencBenchError` and ``OSError`` into a one-line message and exit
    status 1, and adds the commands plugins register beside the built-in ones."""

    def _plugin_commands(self) -> dict[str, click.Command]:
        from ..plugins import load_registry

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
        except OSError as exc:  # an output that cannot be written, a full disk: one line, not a traceback
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            click.echo(f"Error:{where}: {exc.strerror or exc}", err=True)
            ctx.exit(1)


@click.group(cls=QencGroup)
@click.version_option(package_name="qenc-bench")
def main() -> None:
    """Benchmark quantum data encodings side by side: accuracy, entanglement, resources."""


from .compare import compare  # noqa: E402  (click only; the work is imported inside each command)
from .components import list_components, plugins  # noqa: E402
from .reproduce import reproduce  # noqa: E402
from .results import report, show  # noqa: E402
from .sweep import sweep, sweep_export  # noqa: E402

for _command in (compare, plugins, list_components, report, show, sweep, sweep_export, reproduce):
    main.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
