"""Rich tables of a result."""

from __future__ import annotations

from rich.table import Table

from .ranking import Stat, rank, summarize
from .records import BenchmarkResult


def format_stat(stat: Stat | None, digits: int = 3) -> str:
    """``mean ± std`` over seeds."""
    if stat is None:
        return "-"
    return f"{stat.mean:.{digits}f} ± {stat.std:.{digits}f}"


def format_interval(stat: Stat | None, digits: int = 3) -> str:
    """``[lo, hi]``, the 95% confidence interval of the mean, or ``-`` with one seed."""
    if stat is None or stat.interval is None:
        return "-"
    lo, hi = stat.interval
    return f"[{lo:.{digits}f}, {hi:.{digits}f}]"


def rank_label(s) -> str:
    """``1``, ``1=`` (shared: intervals overlap) or ``1?`` (one seed: no interval)."""
    return f"{s.rank}{'=' if s.shared else ''}{'?' if s.provisional else ''}"


def summary_notes(s, markup: bool = True) -> list[str]:
    """ATP's threshold, cost relative to angle encoding, unconverged runs."""
    notes = []
    if "tau" in s.extras:
        notes.append(f"tau={s.extras['tau']:.3f}")
    if "cost_vs_angle" in s.extras:
        notes.append(f"{s.extras['cost_vs_angle']:.2f}x angle's time")
    if s.unconverged:
        text = f"{s.unconverged}/{s.runs} not converged"
        notes.append(f"[yellow]{text}[/]" if markup else text)
    return notes


def ranking_table(result: BenchmarkResult, rank_by: str = "accuracy") -> Table:
    cfg = result.config
    records = result.records
    model = records[0].model if records else "?"
    grid = records[0].grid if records else cfg.get("grid")
    title = (
        f"{cfg['dataset']} classes {','.join(map(str, cfg['classes']))}"
        f"{' (one-vs-rest)' if len(cfg['classes']) > 2 else ''} · grid {grid} · "
        f"{model} · {cfg['seeds']} seed(s) · ranked by {rank_by}"
    )
    summaries = rank(summarize(records), rank_by)
    table = Table(title=title, title_justify="left", caption_justify="left")
    for header, justify in (("rank", "right"), ("encoder", "left"), ("test accuracy", "right"), ("95% CI", "right"),
                            ("entropy", "right"), ("qubits", "right"), ("2q", "right"),
                            ("depth", "right"), ("s/run", "right"), ("notes", "left")):
        table.add_column(header, justify=justify, no_wrap=header != "notes")
    noise_labels = sorted({k for s in summaries for k in s.noisy_accuracy})
    attack_labels = sorted({k for s in summaries for k in s.adversarial_accuracy})
    for s in summaries:
        table.add_row(
            rank_label(s),
            s.encoder,
            format_stat(s.accuracy),
            format_interval(s.accuracy),
            format_stat(s.entropy),
            f"{s.n_qubits:.3g}",
            f"{s.two_qubit_gates:.3g}",
            f"{s.depth:.3g}",
            f"{s.seconds:.2f}",
            ", ".join(summary_notes(s)),
        )
    table.caption = _caption(result, summaries, noise_labels, attack_labels)
    return table


def robustness_table(result: BenchmarkResult, rank_by: str = "accuracy") -> Table | None:
    """Noisy and adversarial accuracy per level, in the ranking's order; None if none measured."""
    summaries = rank(summarize(result.records), rank_by)
    noise_labels = sorted({k for s in summaries for k in s.noisy_accuracy})
    attack_labels = sorted({k for s in summaries for k in s.adversarial_accuracy})
    if not noise_labels and not attack_labels:
        return None
    table = Table(title="robustness (test accuracy, mean over seeds)", title_justify="left")
    table.add_column("encoder")
    table.add_column("clean", justify="right")
    for label in noise_labels:
        table.add_column(label.replace("depolarizing:", "depol p="), justify="right")
    for label in attack_labels:
        name, eps, *options = label.split(":", 2)
        table.add_column(f"{name} eps={eps}" + (f" ({options[0]})" if options else ""), justify="right")
    table.add_column("robustness", justify="right", no_wrap=True)
    for s in summaries:
        table.add_row(
            s.encoder,
            f"{s.accuracy.mean:.3f}",
            *(f"{s.noisy_accuracy[k]:.3f}" if k in s.noisy_accuracy else "-" for k in noise_labels),
            *(f"{s.adversarial_accuracy[k]:.3f}" if k in s.adversarial_accuracy else "-" for k in attack_labels),
            format_stat(s.metrics["robustness"]),
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


def _caption(result: BenchmarkResult, summaries, noise_labels=(), attack_labels=()) -> str:
    r = result.records[0] if result.records else None
    if r is None:
        return "no runs"
    sizes = ", ".join(f"{k} {v}" for k, v in r.sizes.items())
    def by_backend(attribute: str) -> str:
        users: dict[str, list[str]] = {}
        for rec in result.records:
            names = users.setdefault(getattr(rec, attribute), [])
            if rec.encoder not in names:
                names.append(rec.encoder)
        if len(users) == 1:
            return next(iter(users))
        return "; ".join(f"{b} ({', '.join(e)})" for b, e in users.items())

    training = f"trained on {by_backend('train_backend')}"
    lines = [
        f"entropy: von Neumann entropy in bits of the readout qubit, mean over test samples · samples per seed: "
        f"{sizes} · {training}, evaluated on {by_backend('backend')} · qubits, 2q, depth: the whole circuit"
    ]
    if any(s.shared for s in summaries):
        lines.append("'=': shared rank, the 95% confidence intervals overlap")
    if attack_labels:
        lines.append("attacks: L-inf on pixels in [0, 1], margin loss, gradient through the encoder "
                     f"({r.attack_gradient}); robustness = mean of the noisy and adversarial accuracies")
    elif noise_labels:
        lines.append("robustness = mean of the noisy accuracies")
    if any(s.provisional for s in summaries):
        lines.append("'?': one seed, no confidence interval: run --seeds 3 or more before trusting a rank")
    return "\n".join(lines)
