"""Aggregate records per encoder over seeds and rank them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError
from .records import RunRecord

RANK_BY = {
    # metric: (record attribute, higher is better)
    "accuracy": ("accuracy", True),
    "entropy": ("entropy", False),
}


@dataclass(frozen=True)
class Summary:
    """One encoder's numbers over its seeds."""

    encoder: str
    runs: int
    accuracy_mean: float
    accuracy_std: float
    entropy_mean: float | None
    entropy_std: float | None
    n_qubits: float
    two_qubit_gates: float
    depth: float
    seconds: float
    unconverged: int
    extras: dict
    noisy_accuracy: dict[str, float]


def _mean_std(values: list[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=float)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0


def summarize(records: list[RunRecord] | tuple[RunRecord, ...]) -> list[Summary]:
    by_encoder: dict[str, list[RunRecord]] = defaultdict(list)
    for r in records:
        by_encoder[r.encoder].append(r)
    out = []
    for name, runs in by_encoder.items():
        acc = _mean_std([r.accuracy for r in runs])
        ent = [r.entropy for r in runs if r.entropy is not None]
        ent_ms = _mean_std(ent) if ent else (None, None)
        extras = {}
        taus = [r.encoder_info["tau"] for r in runs if "tau" in r.encoder_info]
        if taus:
            extras["tau"] = float(np.mean(taus))
        out.append(
            Summary(
                encoder=name,
                runs=len(runs),
                accuracy_mean=acc[0],
                accuracy_std=acc[1],
                entropy_mean=ent_ms[0],
                entropy_std=ent_ms[1],
                n_qubits=float(np.mean([r.n_qubits for r in runs])),
                two_qubit_gates=float(np.mean([r.two_qubit_gates for r in runs])),
                depth=float(np.mean([r.depth for r in runs])),
                seconds=float(np.mean([sum(r.timings.values()) for r in runs])),
                unconverged=sum(not r.converged for r in runs),
                extras=extras,
                noisy_accuracy={
                    label: float(np.mean([r.noisy_accuracy[label] for r in runs if label in r.noisy_accuracy]))
                    for label in sorted({k for r in runs for k in r.noisy_accuracy})
                },
            )
        )
    return out


def rank(summaries: list[Summary], by: str = "accuracy") -> list[Summary]:
    """Best first by ``by``; ties broken by the other metric (accuracy, then lower entropy)."""
    if by not in RANK_BY:
        raise ConfigError(f"cannot rank by {by!r}; choose one of {', '.join(RANK_BY)}")

    def key(s: Summary):
        acc = -s.accuracy_mean
        ent = s.entropy_mean if s.entropy_mean is not None else np.inf
        return (acc, ent) if by == "accuracy" else (ent, acc)

    return sorted(summaries, key=key)
