"""Rich tables of a result."""

from __future__ import annotations

from rich.table import Table

from .ranking import rank, summarize
from .records import BenchmarkResult


def _pm(mean: float | None, std: float | None, digits: int = 3) -> str:
    if mean is None:
        return "-"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def ranking_table(result: BenchmarkResult, rank_by: str = "accuracy") -> Table:
    cfg = result.config
    records = result.records
    model = records[0].model if records else "?"
    grid = records[0].grid if records else cfg["grid"]
    title = (
        f"{cfg['dataset']} classes {cfg['classes'][0]},{cfg['classes'][1]} · grid {grid} · "
        f"{model} · {cfg['seeds']} seed(s) · ranked by {rank_by}"
    )
    table = Table(title=title, title_justify="left", caption=_caption(result), caption_justify="left")
    for header, justify in (("rank", "right"), ("encoder", "left"), ("test accuracy", "right"),
                            ("entropy (bits)", "right"), ("qubits", "right"), ("2q gates", "right"),
                            ("depth", "right"), ("s / run", "right"), ("notes", "left")):
        table.add_column(header, justify=justify, no_wrap=header != "notes")
    summaries = rank(summarize(records), rank_by)
    noise_labels = sorted({k for s in summaries for k in s.noisy_accuracy})
    for label in noise_labels:
        table.add_column(f"acc @ {label.replace('depolarizing:', 'p=')}", justify="right")
    for i, s in enumerate(summaries, start=1):
        notes = []
        if "tau" in s.extras:
            notes.append(f"tau={s.extras['tau']:.3f}")
        if s.unconverged:
            notes.append(f"[yellow]{s.unconverged}/{s.runs} not converged[/]")
        table.add_row(
            str(i),
            s.encoder,
            _pm(s.accuracy_mean, s.accuracy_std),
            _pm(s.entropy_mean, s.entropy_std),
            f"{s.n_qubits:.3g}",
            f"{s.two_qubit_gates:.3g}",
            f"{s.depth:.3g}",
            f"{s.seconds:.2f}",
            ", ".join(notes),
            *(f"{s.noisy_accuracy[k]:.3f}" if k in s.noisy_accuracy else "-" for k in noise_labels),
        )
    return table


def comparison_warnings(result: BenchmarkResult, chance_margin: float = 0.05) -> list[str]:
    """Warnings that belong above the table: a comparison where no model learned, or where
    runs stopped at the epoch cap, ranks noise or budget rather than encoders."""
    warnings = []
    records = result.records
    if records and all(r.accuracy < 0.5 + chance_margin for r in records):
        warnings.append("every model is within 5 points of chance: the ranking says nothing about the encoders")
    unconverged = sum(not r.converged for r in records)
    if unconverged:
        warnings.append(
            f"{unconverged} of {len(records)} runs hit the epoch cap before early stopping; "
            f"raise --epochs so that every encoder is trained to convergence"
        )
    return warnings


def _caption(result: BenchmarkResult) -> str:
    r = result.records[0] if result.records else None
    if r is None:
        return "no runs"
    sizes = ", ".join(f"{k} {v}" for k, v in r.sizes.items())
    return (f"entropy: von Neumann (log2) of the readout qubit, mean over test samples · samples per seed: "
            f"{sizes} · trained on {r.train_backend}, evaluated on {r.backend}")
