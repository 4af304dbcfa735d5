"""What tables and reports show about ATP's runs: its chosen threshold (a note) and the
validation accuracy of every threshold candidate it scored (a plot), through the reporter
hook, so the core knows nothing of ATP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from qenc_bench import Plot, Reporter, RunRecord

SEED_COLORS = ("#3b0f70", "#8c2981", "#de4968", "#fe9f6d", "#1b7e8a", "#5ec962", "#7a7a7a", "#c0a000")


def _is_atp(records: Sequence[RunRecord]) -> bool:
    return bool(records) and all(isinstance(r.encoder_info, dict) and "tau" in r.encoder_info
                                 and "kept_pixels" in r.encoder_info for r in records)


def _candidates(record: RunRecord) -> list[tuple[float, float]]:
    points = {}
    for c in record.encoder_info.get("candidates", []):
        if isinstance(c, dict) and "tau" in c and "validation_accuracy" in c:
            points[float(c["tau"])] = float(c["validation_accuracy"])
    return sorted(points.items())


class ATPReporter(Reporter):
    name = "atp"

    def notes(self, model: str, records: Sequence[RunRecord]) -> list[str]:
        if not _is_atp(records):
            return []
        taus = [float(r.encoder_info["tau"]) for r in records]
        kept = [len(r.encoder_info["kept_pixels"]) for r in records]
        return [f"tau={np.mean(taus):.3f}", f"{np.mean(kept):.3g} pixels kept"]

    def plots(self, models: Mapping[str, Sequence[RunRecord]]) -> list[Plot]:
        plots = []
        for name, records in models.items():
            if not _is_atp(records):
                continue
            curves = [(r, _candidates(r)) for r in records]
            curves = [(r, points) for r, points in curves if points]
            if not curves:
                continue

            def draw(ax, curves=curves) -> None:
                for i, (r, points) in enumerate(curves):
                    taus, accs = zip(*points, strict=True)
                    color = SEED_COLORS[i % len(SEED_COLORS)]
                    ax.plot(taus, accs, marker="o", ms=4, lw=1.2, color=color, alpha=0.85, label=f"seed {r.seed}")
                    tau = float(r.encoder_info["tau"])
                    chosen = dict(points).get(tau, r.validation_accuracy)
                    ax.plot([tau], [chosen], marker="*", ms=14, color=color, markeredgecolor="black",
                            markeredgewidth=0.6, linestyle="none")
                ax.set_xlabel("threshold τ")
                ax.set_ylabel("validation accuracy")
                ax.legend(fontsize=8, frameon=False, loc="lower left", ncol=2 if len(curves) > 4 else 1)

            plots.append(Plot(title=f"{name}: validation accuracy vs threshold",
                              caption="Each point is a threshold candidate the search trained and scored on the "
                                      "validation split (never the test split); ★ marks the chosen τ of each seed.",
                              draw=draw))
        return plots
