"""What a ranking table says, decided once for every format.

:func:`ranking_table` turns a :class:`~qenc_bench.stats.Ranking` (and the reporters' notes and
columns) into a :class:`Table`: columns, one row per model with its cells as text and as raw
values, and the footer lines that say what the numbers are. The Rich, Markdown, HTML, CSV and
JSON renderers only format a :class:`Table`, so ``compare``, ``show`` and ``report`` print the
same table for the same records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..reporters import Reporter
from ..results.records import RunRecord
from ..stats import MIN_SEEDS, Estimate, Ranking, Summary, by_model

INTERVAL_TEXT = ("95% intervals: two-level bootstrap over seeds and, within each seed, test samples "
                 "(percentile, 4000 resamples)")
RANK_TEXT = ("rank: 1 + the rows resolved above it at 95% by a paired bootstrap of per-sample outcomes, "
             "Holm-corrected over all pairs; '=' marks a rank shared by rows the data cannot tell apart")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    text: bool = False  # left-aligned text rather than a number


@dataclass(frozen=True)
class Row:
    cells: dict[str, str]
    values: dict[str, Any]
    first: bool = False
    classical: bool = False


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    footer: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


def number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def interval(e: Estimate | None, digits: int = 3) -> str:
    return "-" if e is None else f"[{e.low:.{digits}f}, {e.high:.{digits}f}]"


def with_interval(e: Estimate | None, digits: int = 3) -> str:
    return "-" if e is None else f"{e.mean:.3f} {interval(e, digits)}"


def significant(e: Estimate | None) -> str:
    """An encoding metric, whose scale varies by orders of magnitude (1e-4 to 1e3): three
    significant digits, its interval two."""
    return "-" if e is None else f"{e.mean:.3g} [{e.low:.2g}, {e.high:.2g}]"


def rank_label(s: Summary, provisional: bool) -> str:
    """``1``, ``1=`` (shared: not resolved from a neighbour), ``-`` (unranked), with ``?`` when
    the ranking is provisional (fewer than 3 seeds)."""
    if s.rank is None:
        return "-"
    return f"{s.rank}{'=' if s.shared else ''}{'?' if provisional else ''}"


def model_label(s: Summary) -> str:
    return f"{s.name} (classical)" if s.is_classical else s.name


def _notes(s: Summary, runs: Sequence[RunRecord], reporters: Sequence[Reporter]) -> list[str]:
    notes = [note for r in reporters for note in r.notes(s.name, runs)]
    if s.unconverged:
        notes.append(f"{s.unconverged}/{s.runs} not converged")
    return notes


def _estimate_values(prefix: str, e: Estimate | None) -> dict[str, Any]:
    if e is None:
        return {prefix: None, f"{prefix}_low": None, f"{prefix}_high": None, f"{prefix}_sd": None}
    return {prefix: e.mean, f"{prefix}_low": e.low, f"{prefix}_high": e.high, f"{prefix}_sd": e.std}


def ranking_table(ranking: Ranking, records: Sequence[RunRecord], reporters: Sequence[Reporter] = (), *,
                  title: str = "", baseline: str | None = None) -> Table:
    """The table of a ranking (see the module docstring)."""
    runs_of = by_model(records)
    summaries = ranking.summaries
    robust = any(s.metrics["robustness"] is not None for s in summaries)
    extra_columns: list[str] = []
    extra: dict[str, dict[str, str]] = {}
    for s in summaries:
        cells = {}
        for reporter in reporters:
            cells.update(reporter.columns(s.name, runs_of[s.name]))
        extra[s.name] = cells
        extra_columns += [c for c in cells if c not in extra_columns]
    costs = any(s.relative_cost is not None for s in summaries)
    metric_names = sorted({m for s in summaries for m in s.encoding})
    columns = [Column("rank", "rank"), Column("encoder", "encoder", text=True),
               Column("accuracy", "accuracy [95% interval]"), Column("entropy", "entropy [95%]"),
               *([Column("robustness", "robustness [95%]")] if robust else []),
               Column("seeds", "seeds"), Column("qubits", "qubits"), Column("two_qubit_gates", "2q"),
               Column("depth", "depth"), Column("seconds", "s/run"),
               *([Column("relative_cost", "x angle" if baseline in (None, "angle") else f"x {baseline}")] if costs else []),
               *(Column(f"metric:{m}", f"{m} [95%]") for m in metric_names),
               *(Column(f"extra:{c}", c) for c in extra_columns),
               Column("notes", "notes", text=True)]
    rows = []
    provisional = ranking.provisional
    for s in summaries:
        cells = {
            "rank": rank_label(s, provisional),
            "encoder": model_label(s),
            "accuracy": with_interval(s.accuracy),
            "entropy": with_interval(s.entropy, 2),
            "robustness": with_interval(s.metrics["robustness"]),
            "seeds": str(len(s.seeds)),
            "qubits": f"{s.n_qubits:.3g}" if not s.is_classical else "-",
            "two_qubit_gates": f"{s.two_qubit_gates:.3g}" if not s.is_classical else "-",
            "depth": f"{s.depth:.3g}" if not s.is_classical else "-",
            "seconds": f"{s.seconds:.2f}",
            "relative_cost": f"{s.relative_cost:.2f}" if s.relative_cost is not None else "-",
            "notes": ", ".join(_notes(s, runs_of[s.name], reporters)),
        }
        cells.update({f"extra:{c}": extra[s.name].get(c, "-") for c in extra_columns})
        cells.update({f"metric:{m}": significant(s.encoding.get(m)) for m in metric_names})
        values: dict[str, Any] = {"rank": s.rank, "shared_rank": s.shared, "encoder": s.name, "kind": s.kind,
                                  "seeds": len(s.seeds), "runs": s.runs,
                                  **_estimate_values("accuracy", s.accuracy),
                                  **_estimate_values("entropy", s.entropy),
                                  **_estimate_values("robustness", s.metrics["robustness"]),
                                  "test_samples": s.accuracy.samples, "n_qubits": s.n_qubits,
                                  "two_qubit_gates": s.two_qubit_gates, "depth": s.depth,
                                  "seconds_per_run": s.seconds, "relative_cost": s.relative_cost,
                                  "unconverged": s.unconverged,
                                  **{f"noisy:{k}": v for k, v in s.noisy_accuracy.items()},
                                  **{f"adversarial:{k}": v for k, v in s.adversarial_accuracy.items()},
                                  **{c: extra[s.name].get(c) for c in extra_columns},
                                  **{k: v for m in metric_names for k, v in
                                     _estimate_values(f"metric:{m}", s.encoding.get(m)).items()},
                                  "notes": cells["notes"]}
        rows.append(Row(cells, values, first=s.rank == 1, classical=s.is_classical))
    return Table(title, tuple(columns), tuple(rows), tuple(footer_lines(ranking, records)))


def _by(records: Sequence[RunRecord], attribute: str) -> str:
    users: dict[str, list[str]] = {}
    for rec in records:
        if rec.is_classical:
            continue
        names = users.setdefault(str(getattr(rec, attribute)), [])
        if rec.encoder not in names:
            names.append(rec.encoder)
    if len(users) == 1:
        return next(iter(users))
    return "; ".join(f"{b} ({', '.join(e)})" for b, e in users.items())


def _backend_summaries(records: Sequence[RunRecord]) -> list[str]:
    lines = []
    for rec in records:
        line = rec.backend_info.get("summary") if isinstance(rec.backend_info, dict) else None
        if isinstance(line, str) and line not in lines:
            lines.append(line)
    return lines


def footer_lines(ranking: Ranking, records: Sequence[RunRecord]) -> list[str]:
    """What the table's numbers are: sizes, engines, how measured, the intervals and ranks."""
    if not records:
        return ["no runs"]
    quantum = [r for r in records if not r.is_classical] or list(records)
    r = quantum[0]
    sizes = ", ".join(f"{k} {v}" for k, v in r.sizes.items())
    restarts = sorted({int(q.training.get("restarts", 1)) for q in quantum})
    measured = _by(records, "measurement")
    lines = [
        f"samples per seed: {sizes} · trained on {_by(records, 'train_backend')}, evaluated on "
        f"{_by(records, 'backend')} ({'exact expectation values' if measured == 'exact' else measured}) · "
        f"best of {'/'.join(map(str, restarts))} restart(s) per model on validation loss",
        f"{INTERVAL_TEXT}; entropy: von Neumann entropy in bits of the readout qubit, mean over test samples; "
        f"qubits, 2q, depth: the whole circuit",
        RANK_TEXT + f" (ranked by {ranking.rank_by})",
    ]
    lines += _backend_summaries(records)
    if any(not s.is_classical for s in ranking.summaries) and any(s.is_classical for s in ranking.summaries):
        lines.append("(classical): a reference model on the same grid features, splits and seeds")
    if any(s.relative_cost is not None for s in ranking.summaries):
        lines.append("x baseline: wall time (fit, train, evaluate) over the baseline encoder's on the same seed")
    if r.adversarial_accuracy:
        lines.append("attacks: L-inf on pixels in [0, 1], margin loss, gradient through the encoder "
                     f"({r.attack_gradient}); robustness = share of noisy and adversarial evaluations survived")
    elif r.noisy_accuracy:
        lines.append("robustness = share of the noisy evaluations a test sample survives")
    if any(s.encoding for s in ranking.summaries):
        lines.append("encoding metrics (docs/metrics.md): mean over seeds [95% bootstrap interval over seeds]")
    if ranking.provisional:
        lines.append(f"'?': fewer than {MIN_SEEDS} seeds: intervals and ranks are provisional "
                     f"(run --seeds {MIN_SEEDS} or more before trusting them)")
    lines += list(ranking.notes)
    return lines


def robustness_table(ranking: Ranking) -> Table | None:
    """Clean, noisy and adversarial test accuracy per level (means over seeds) in rank order;
    None when nothing was measured under noise or attack."""
    from ..results.merge import label_level

    summaries = [s for s in ranking.summaries if s.noisy_accuracy or s.adversarial_accuracy]
    noise = sorted({k for s in summaries for k in s.noisy_accuracy}, key=label_level)
    attacks = sorted({k for s in summaries for k in s.adversarial_accuracy}, key=label_level)
    if not noise and not attacks:
        return None

    def attack_header(label: str) -> str:
        name, eps, *options = label.split(":", 2)
        return f"{name} eps={eps}" + (f" ({options[0]})" if options else "")

    columns = [Column("encoder", "encoder", text=True), Column("clean", "clean"),
               *(Column(f"noisy:{k}", f"depol p={k.partition(':')[2]}") for k in noise),
               *(Column(f"adversarial:{k}", attack_header(k)) for k in attacks)]
    rows = []
    for s in summaries:
        values = {"encoder": s.name, "clean": s.accuracy.mean,
                  **{f"noisy:{k}": s.noisy_accuracy.get(k) for k in noise},
                  **{f"adversarial:{k}": s.adversarial_accuracy.get(k) for k in attacks}}
        cells = {k: (v if isinstance(v, str) else number(v)) for k, v in values.items()}
        rows.append(Row(cells, values))
    return Table("robustness (test accuracy, mean over seeds)", tuple(columns), tuple(rows))


def comparisons_table(ranking: Ranking, adjacent_only: bool = True) -> Table:
    """The paired comparisons behind the ranks: each row against the next (or every pair)."""
    names = [s.name for s in ranking.summaries if s.rank is not None]
    pairs = list(zip(names, names[1:], strict=False)) if adjacent_only else [(c.a, c.b) for c in ranking.comparisons]
    columns = (Column("pair", "pair", text=True), Column("difference", "difference"),
               Column("interval", "95% interval"), Column("p", "p (Holm)"), Column("paired", "paired", text=True),
               Column("verdict", "verdict", text=True))
    rows = []
    for a, b in pairs:
        c = ranking.comparison(a, b)
        if c is None:
            continue
        verdict = "resolved" if c.resolved() else "not resolved"
        values: dict[str, Any] = {"pair": f"{a} - {b}", "difference": c.difference, "low": c.low, "high": c.high, "p": c.p,
                  "p_holm": c.p_holm, "paired": c.paired, "seeds": c.seeds, "verdict": verdict}
        cells = {"pair": f"{a} - {b}", "difference": f"{c.difference:+.3f}",
                 "interval": f"[{c.low:+.3f}, {c.high:+.3f}]", "p": f"{c.p_holm:.3g}",
                 "paired": "yes" if c.paired else "no", "verdict": verdict}
        rows.append(Row(cells, values))
    return Table(f"paired comparisons ({ranking.rank_by})", columns, tuple(rows))
