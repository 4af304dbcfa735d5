"""The reporter interface: what a plugin adds to tables and reports about its own models.

The core knows no encoder: ATP's threshold, its threshold plot and anything a third party
wants to show come from reporters (hook ``qenc_bench_register_reporters``). Every table and
report asks every registered reporter, for each row, for ``notes`` (short texts in the notes
column) and ``columns`` (extra columns), and, per group of runs, for ``plots``. A reporter
answers with nothing for rows it does not know, which is the default of every method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .results.records import RunRecord


@dataclass(frozen=True)
class Plot:
    """One figure of an HTML report: ``draw(ax)`` draws into a matplotlib ``Axes`` (set its
    labels too); ``caption`` says what the reader sees."""

    title: str
    caption: str
    draw: Callable[[Any], None]


class Reporter:
    """Override what you add; every method receives one model's records (all its seeds)."""

    name: str = "reporter"

    def notes(self, model: str, records: Sequence[RunRecord]) -> list[str]:
        """Short texts for the model's notes cell (e.g. ``tau=0.123``)."""
        return []

    def columns(self, model: str, records: Sequence[RunRecord]) -> dict[str, str]:
        """Extra cells for the model's row: column header -> text. A column appears when some
        row has it; other rows show ``-``."""
        return {}

    def plots(self, models: Mapping[str, Sequence[RunRecord]]) -> list[Plot]:
        """Figures for a group of runs (model name -> its records), drawn in the HTML report."""
        return []


def load_reporters(registry: Any = None) -> list[Reporter]:
    """Every registered reporter, built (``registry`` defaults to the installed plugins)."""
    if registry is None:
        from .plugins import load_registry

        registry = load_registry()
    return [entry.spec.factory() for entry in registry.entries("reporter")]
