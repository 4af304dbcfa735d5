"""The plots of an HTML report, as (base64 PNG, caption) pairs.

Every error bar is the 95% two-level bootstrap interval the tables and ranks use (never a
standard deviation). matplotlib is imported only here, through its object-oriented API (a
``Figure`` rendered by Agg: no pyplot, no global backend switch).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np

from ..errors import MissingDependencyError
from ..reporters import Plot, Reporter
from ..results.merge import label_level
from ..results.records import RunRecord
from ..stats import CrossRanking, Estimate, Ranking, by_model, estimate, level_sample

ENCODER_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                  "#7f7f7f", "#bcbd22")


def figure(size: tuple[float, float] = (5.6, 3.7)):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("matplotlib", "the HTML report", "pip install 'matplotlib>=3.8,<4'") from None
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(True, color="#e3e6ea", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})  # no tool URL in the file
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def colors(ranking: Ranking) -> dict[str, str]:
    """One colour per model, by rank (quantum models first: they are the ones most plots show),
    the same in every plot of the group."""
    ordered = [s for s in ranking.summaries if not s.is_classical] + [s for s in ranking.summaries if s.is_classical]
    return {s.name: ENCODER_COLORS[i % len(ENCODER_COLORS)] for i, s in enumerate(ordered)}


def _errors(e: Estimate) -> list[list[float]]:
    return [[max(0.0, e.mean - e.low)], [max(0.0, e.high - e.mean)]]


def accuracy_entropy(ranking: Ranking, records: Sequence[RunRecord]) -> tuple[str, str] | None:
    rows = [s for s in ranking.summaries if s.entropy is not None]
    if not rows:
        return None
    fig, ax = figure()
    palette, runs = colors(ranking), by_model(records)
    for s in rows:
        entropy = s.entropy
        assert entropy is not None
        ax.scatter([r.entropy for r in runs[s.name]], [r.accuracy for r in runs[s.name]], s=14,
                   color=palette[s.name], alpha=0.3, linewidths=0)
        ax.errorbar(entropy.mean, s.accuracy.mean, xerr=_errors(entropy), yerr=_errors(s.accuracy), fmt="o",
                    ms=7, capsize=3, color=palette[s.name], label=s.name)
    ax.set_xlabel("readout entanglement entropy (bits)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy vs entanglement", fontsize=11)
    ax.legend(fontsize=8, frameon=False, loc="best")
    return png(fig), ("Mean over seeds with the 95% two-level bootstrap intervals the ranking uses, in both "
                      "directions; faint dots are single seeds. Up and to the left is better.")


def levels(ranking: Ranking, records: Sequence[RunRecord], field: str, prefix: str | None, xlabel: str,
           title: str) -> tuple[str, str] | None:
    """Accuracy with its 95% interval against a level (noise p, or an attack's eps); 0 is clean."""
    fig, ax = figure()
    palette, runs, drawn = colors(ranking), by_model(records), False
    for s in ranking.summaries:
        mine = runs[s.name]
        measured = s.noisy_accuracy if field == "noisy" else s.adversarial_accuracy
        labels = sorted((k for k in measured if prefix is None or k.partition(":")[0] == prefix), key=label_level)
        if not labels:
            continue
        points = [(0.0, s.accuracy)]
        for label in labels:
            samples = [level_sample(r, field, label) for r in mine]
            if all(x is not None for x in samples):
                points.append((label_level(label)[1], estimate(samples, field, label, s.name)))  # type: ignore
        x = [p[0] for p in points]
        y = [p[1].mean for p in points]
        err = np.array([[p[1].mean - p[1].low for p in points], [p[1].high - p[1].mean for p in points]])
        ax.errorbar(x, y, yerr=np.clip(err, 0, None), marker="o", ms=5, capsize=3, color=palette[s.name],
                    label=s.name)
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, frameon=False, loc="best")
    return png(fig), "Mean over seeds with its 95% two-level bootstrap interval; the point at 0 is clean accuracy."


def reporter_plots(records: Sequence[RunRecord], reporters: Sequence[Reporter]) -> list[tuple[str, str]]:
    out = []
    models = by_model(records)
    for reporter in reporters:
        plot: Plot
        for plot in reporter.plots(models):
            fig, ax = figure()
            plot.draw(ax)
            ax.set_title(plot.title, fontsize=11)
            out.append((png(fig), plot.caption))
    return out


def group_plots(ranking: Ranking, records: Sequence[RunRecord], reporters: Sequence[Reporter] = ()
                ) -> list[tuple[str, str]]:
    """(base64 PNG, caption) for every plot the group's data supports."""
    plots = [accuracy_entropy(ranking, records),
             levels(ranking, records, "noisy", None, "depolarizing probability p per gate",
                    "Accuracy under depolarizing noise")]
    attacks = sorted({k.partition(":")[0] for r in records for k in r.adversarial_accuracy})
    plots += [levels(ranking, records, "adversarial", a, f"{a} eps (L-inf, pixels in [0, 1])",
                     f"Accuracy under {a.upper()} attack") for a in attacks]
    return [p for p in plots if p is not None] + reporter_plots(records, reporters)


def critical_difference(cross: CrossRanking) -> tuple[str, str] | None:
    """Demšar's critical-difference diagram: mean ranks on an axis (1 is best), a bar of one CD,
    and a thick line joining models whose mean ranks the Nemenyi test does not resolve."""
    if cross.critical_difference is None or not cross.models:
        return None
    k = len(cross.models)
    fig, ax = figure((6.4, 1.4 + 0.28 * k))
    ax.grid(False)
    for side in ("left", "bottom", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlim(k + 0.3, 0.7)  # rank 1 on the right, as Demšar draws it
    ax.set_ylim(-(k // 2 + 1) - 0.5, 1.6)
    ax.set_yticks([])
    ax.set_xticks(range(1, k + 1))
    ax.xaxis.set_ticks_position("top")
    ax.axhline(0, color="black", lw=1)
    half = (k + 1) // 2
    for i, (name, r) in enumerate(zip(cross.models, cross.mean_ranks, strict=True)):
        left = i >= half  # the worse half is labelled on the left
        row = -(i - half if left else half - 1 - i) - 1
        x_text = k + 0.25 if left else 0.75
        ax.plot([r, r, x_text], [0, row, row], color="#333", lw=0.9)
        ax.text(x_text, row, f" {name} ({r:.2f}) " if not left else f" ({r:.2f}) {name} ",
                ha="left" if not left else "right", va="center", fontsize=8.5)
    for j, clique in enumerate(cross.cliques):
        ranks = [cross.mean_ranks[cross.models.index(m)] for m in clique]
        y = -0.25 - 0.18 * j
        ax.plot([min(ranks) - 0.03, max(ranks) + 0.03], [y, y], color="#d62728", lw=3, solid_capstyle="butt")
    cd = cross.critical_difference
    ax.plot([1, 1 + cd], [1.2, 1.2], color="black", lw=1.5)
    ax.text(1 + cd / 2, 1.35, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8.5)
    return png(fig), (f"Mean rank over {len(cross.blocks)} dataset pairs (1 is best). Models joined by a red bar "
                      f"differ by less than the Nemenyi critical difference (alpha = {cross.alpha:g}): the "
                      f"data do not resolve them.")
