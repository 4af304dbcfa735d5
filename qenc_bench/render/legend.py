"""The words under every leaderboard: what each column and mark means. One list for Markdown
and HTML."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata

LEGEND: tuple[tuple[str, str], ...] = (
    ("rank", "one more than the number of rows resolved above it (better, with the difference resolved at 95% "
             "by a paired bootstrap of the per-sample outcomes, Holm-corrected over every pair of the table; the "
             "models of one seed share its test samples), never better than the row before. '=' marks a rank "
             "shared by rows the data cannot tell apart; '?' a provisional ranking (fewer than 3 seeds); '-' a "
             "row without the metric."),
    ("test accuracy", "accuracy of the sign of the readout qubit's ⟨Z⟩ (one-vs-rest: of the class whose model "
                      "outputs the most) on the held-out test split; mean over seeds."),
    ("95% interval", "two-level bootstrap: seeds resampled with replacement, then each chosen seed's test samples "
                     "with replacement; the percentile interval of 4000 resamples of the mean. It covers the "
                     "seed-to-seed spread (subsample, split, initial weights) and the finite test split, and lies "
                     "inside [0, 1]. Results without per-sample outcomes resample their seeds only."),
    ("entropy", "von Neumann entropy in bits of the readout qubit's reduced state after the trained circuit, "
                "mean over test samples, with its 95% interval. Lower is ranked better."),
    ("robustness", "the share of noisy and adversarial evaluations a test sample survives (its outcomes averaged "
                   "over every noise level and attack measured), with its 95% interval."),
    ("qubits, 2q, depth", "of the whole circuit (encoder and model), mean over seeds (ATP prunes a different "
                          "number of qubits per seed)."),
    ("(classical)", "a classical reference model (scikit-learn) trained on the same grid features, splits and "
                    "seeds as the quantum models."),
    ("x baseline", "the run's wall time (encoder fit, training, evaluation) over the baseline encoder's "
                   "(angle encoding) on the same seed: the overhead the ATP paper reports."),
    ("paired comparisons", "each row against the next: the mean difference, its 95% paired-bootstrap interval, "
                           "the Holm-adjusted p-value of no difference, and whether the samples could be paired."),
    ("across dataset pairs", "models ranked on each dataset pair by mean score, then by their mean rank over the "
                             "pairs (Demšar 2006): the Friedman test asks whether any differ; two models differ "
                             "when their mean ranks are further apart than the Nemenyi critical difference (CD)."),
    ("notes", "what a plugin reports about its model (ATP: its threshold tau); 'k/n not converged': runs that "
              "hit the epoch cap before early stopping."),
)


def header_facts(n_groups: int, runs: int, sources: Sequence[str], rank_by: str) -> str:
    try:
        version = metadata.version("qenc-bench")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        version = "?"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{len(sources)} result file{'s' if len(sources) != 1 else ''} · {runs} runs · "
            f"{n_groups} group{'s' if n_groups != 1 else ''} · ranked by {rank_by} · "
            f"generated {when} by qenc-bench {version}")


def seed_ranges(seeds: Sequence[int]) -> str:
    """``0-2, 10-12`` for [0, 1, 2, 10, 11, 12]."""
    if not seeds:
        return "none"
    out, ordered = [], sorted(seeds)
    start = prev = ordered[0]
    for s in [*ordered[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ", ".join(out)
