"""Reproducing published comparisons side by side: the run (:mod:`.study`) and its report
(:mod:`.report`)."""

from .report import Cell, html_report, markdown_report, side_by_side
from .study import CHOICES, SIZES, Reproduction, paper_grid, paper_tables, reproduce

__all__ = ["CHOICES", "SIZES", "Cell", "Reproduction", "html_report", "markdown_report", "paper_grid", "paper_tables",
           "reproduce", "side_by_side"]
