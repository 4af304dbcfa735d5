"""Sweeps: a grid of independent runs from a TOML file (:mod:`.spec`), run on local worker
processes or a Dask cluster into a resumable store (:mod:`.runner`)."""

from .runner import (
    SweepInterrupted,
    SweepOutcome,
    SweepProgress,
    check_runs,
    default_store,
    default_workers,
    execute_run,
    run_states,
    run_sweep,
    select_runs,
)
from .spec import SweepRun, SweepSpec, load_spec, parse_spec

__all__ = [
    "SweepInterrupted",
    "SweepOutcome",
    "SweepProgress",
    "SweepRun",
    "SweepSpec",
    "check_runs",
    "default_store",
    "default_workers",
    "execute_run",
    "load_spec",
    "parse_spec",
    "run_sweep",
    "run_states",
    "select_runs",
]
