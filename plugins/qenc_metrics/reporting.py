"""Plots for the HTML leaderboard that relate accuracy to the encoding metrics: one point per
encoder (means over seeds; error bars one standard deviation over seeds), drawn only when the
records hold the metric."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qenc_bench import Plot, Reporter, RunRecord

#: metric name -> (axis label, caption's reading of it)
PLOTTED = {
    "alignment": ("kernel-target alignment of the fidelity kernel (training split)",
                  "higher alignment: the encoding's kernel already separates the classes"),
    "expressibility": ("expressibility: KL to Haar of the data's pair fidelities (nats)",
                       "lower KL: the data's states spread over the Hilbert space like Haar-random states"),
}


@dataclass(frozen=True)
class EncoderPoint:
    """One encoder's means and seed-to-seed standard deviations (0 with one seed)."""

    name: str
    metric: float
    metric_std: float
    accuracy: float
    accuracy_std: float
    seeds: int


def metric_value(record: RunRecord, metric: str) -> float | None:
    entry = record.metrics.get(metric)
    value = entry.get("value") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else None


def encoder_points(models: Mapping[str, Sequence[RunRecord]], metric: str) -> list[EncoderPoint]:
    """The quantum models whose every seed has ``metric``, as points."""
    points = []
    for name, records in models.items():
        if not records or any(r.is_classical for r in records):
            continue
        values = [metric_value(r, metric) for r in records]
        if any(v is None for v in values):
            continue
        metric_values = np.array(values, dtype=np.float64)
        accuracies = np.array([r.accuracy for r in records])
        ddof = 1 if len(records) > 1 else 0
        points.append(EncoderPoint(name, float(metric_values.mean()), float(metric_values.std(ddof=ddof)),
                                   float(accuracies.mean()), float(accuracies.std(ddof=ddof)), len(records)))
    return points


def _draw(points: list[EncoderPoint], xlabel: str):
    values = [p.metric for p in points]
    logarithmic = min(values) > 0 and max(values) > 10 * min(values)  # e.g. KL over qubit counts

    def draw(ax) -> None:
        for p in points:
            ax.errorbar([p.metric], [p.accuracy], xerr=[p.metric_std], yerr=[p.accuracy_std], fmt="o", ms=6,
                        capsize=3, lw=1.0, color="#3b0f70")
            ax.annotate(p.name, (p.metric, p.accuracy), textcoords="offset points", xytext=(5, 5), fontsize=8)
        if logarithmic:
            ax.set_xscale("log")
        ax.set_xlabel(f"{xlabel}{', log scale' if logarithmic else ''}")
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)

    return draw


class EncodingMetricsReporter(Reporter):
    name = "encoding-metrics"

    def plots(self, models: Mapping[str, Sequence[RunRecord]]) -> list[Plot]:
        plots = []
        for metric, (xlabel, reading) in PLOTTED.items():
            points = encoder_points(models, metric)
            if not points:
                continue
            seeds = "/".join(map(str, sorted({p.seeds for p in points})))
            plots.append(Plot(
                title=f"Accuracy against {metric}",
                caption=f"One point per encoder: test accuracy and {metric}, each the mean over its "
                        f"{seeds} seed(s); error bars are one standard deviation over the seeds "
                        f"(none with one seed). {reading[0].upper()}{reading[1:]}. Definitions: docs/metrics.md.",
                draw=_draw(points, xlabel)))
        return plots
