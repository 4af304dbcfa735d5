"""Option parsers and shell completion shared by the commands (click only: nothing heavy)."""

from __future__ import annotations

from typing import Any

import click
from click.shell_completion import CompletionItem

from ..attacks import _option_value


def csv_names(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def parse_classes(ctx, param, value: str) -> tuple[int, ...]:
    parts = csv_names(value)
    try:
        classes = tuple(int(p) for p in parts)
    except ValueError:
        classes = ()
    if len(classes) < 2:
        raise click.BadParameter(f"expected two or more class indices like 0,1 (or 0,1,2 for one-vs-rest), got {value!r}")
    return classes


def parse_grid(ctx, param, value: str) -> int | str | None:
    if value.lower() in ("none", "auto"):
        return None if value.lower() == "none" else "auto"
    try:
        grid = int(value)
    except ValueError:
        raise click.BadParameter(f"expected an integer or 'none', got {value!r}") from None
    if grid < 1:
        raise click.BadParameter(f"must be at least 1, got {grid}")
    return grid


def key_values(pairs: tuple[str, ...], option: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a dict (values typed: numbers, booleans, text)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        options[key.strip().replace("-", "_")] = _option_value(value.strip())
    return options


def component_options(pairs: tuple[str, ...], option: str) -> dict[str, dict[str, Any]]:
    """``NAME:KEY=VALUE`` pairs (``--encoder-option atp:optimizer=warm``) per component name."""
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        name, sep, rest = pair.partition(":")
        if not sep or not name.strip() or "=" not in rest:
            raise click.BadParameter(f"expected NAME:KEY=VALUE (e.g. atp:optimizer=warm), got {pair!r}",
                                     param_hint=option)
        out.setdefault(name.strip(), {}).update(key_values((rest,), option))
    return out


def backend_options(device: str | None, shots: int | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    options = key_values(pairs, "--backend-option")
    if device is not None:
        options["device"] = device
    if shots is not None:
        if shots < 1:
            raise click.BadParameter(f"must be at least 1, got {shots}", param_hint="--shots")
        options["shots"] = shots
    return options


def complete_names(kind: str, *, listed: bool = False, extra: tuple[str, ...] = ()):
    """A click ``shell_complete`` callback with the registered names of ``kind`` (for a
    comma-separated list, the last item is completed)."""

    def complete(ctx, param, incomplete: str) -> list[CompletionItem]:
        from ..plugins import load_registry

        head, _, last = incomplete.rpartition(",") if listed else ("", "", incomplete)
        prefix = f"{head}," if head else ""
        try:
            names = [*extra, *load_registry().names(kind)]
        except Exception:  # completion must never fail the shell
            return []
        return [CompletionItem(prefix + n) for n in names if n.startswith(last)]

    return complete
