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
    title = (
        f"{cfg['dataset']} classes {cfg['classes'][0]},{cfg['classes'][1]} · grid {cfg['grid']} · "
        f"{model} · {cfg['seeds']} seed(s) · ranked by {rank_by}"
    )
    table = Table(title=title, title_justify="left", caption=_caption(result), caption_justify="left")
    for header, justify in (("rank", "right"), ("encoder", "left"), ("test accuracy", "right"),
                            ("entropy (bits)", "right"), ("qubits", "right"), ("2q gates", "right"),
                            ("depth", "right"), ("s / run", "right"), ("notes", "left")):
        table.add_column(header, justify=justify, no_wrap=header != "notes")
    for i, s in enumerate(rank(summarize(records), rank_by), start=1):
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
        )
    return table


def _caption(result: BenchmarkResult) -> str:
    r = result.records[0] if result.records else None
    if r is None:
        return "no runs"
    sizes = ", ".join(f"{k} {v}" for k, v in r.sizes.items())
    return (f"entropy: von Neumann (log2) of the readout qubit, mean over test samples · samples per seed: "
            f"{sizes} · trained on {r.train_backend}, evaluated on {r.backend}")
