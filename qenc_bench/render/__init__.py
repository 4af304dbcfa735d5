"""Renderers. :mod:`.table` decides what a ranking table says; :mod:`.rich` (terminal),
:mod:`.markdown`, :mod:`.html` (with :mod:`.plots`) and :mod:`.export` (CSV, JSON) only format
it, so every command shows the same table for the same records."""

from .files import write_leaderboard
from .table import Table, comparisons_table, ranking_table, robustness_table

__all__ = ["Table", "comparisons_table", "ranking_table", "robustness_table", "write_leaderboard"]
