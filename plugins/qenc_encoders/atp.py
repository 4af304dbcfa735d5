"""Adaptive Threshold Pruning (Afane et al., CVPR 2025, arXiv 2503.21815).

On the training split compute the class-average maps xbar0 and xbar1. Pixel j is pruned
when ``xbar0_j < tau and xbar1_j < tau``, i.e. when its breakpoint ``max(xbar0_j, xbar1_j)``
is below tau. With k > 2 classes (one-vs-rest) the rule generalises to k maps: a pixel is
pruned when it is below tau in every class-average map. Pruned pixels are set to zero and their qubits are dropped; the kept pixels
are angle-encoded. The threshold is chosen to maximise VALIDATION accuracy of the trained
model (never test accuracy).

The mask only changes at the breakpoints, so there are at most d + 1 distinct masks. Three
threshold optimisers are offered (``optimizer=``):

- ``exact``: train once per distinct non-empty mask with tau <= tau_max, keep the best;
- ``grid``: a regular grid of ``grid_points`` taus in [0, tau_max];
- ``lbfgsb``: the paper's way, scipy's L-BFGS-B on tau with a finite-difference step
  ``fd_step`` wide enough to see a piecewise-constant objective;
- ``warm``: at about the paper's cost. Train the unpruned model once; score every mask by the
  validation accuracy of those weights restricted to the mask's qubits (no training); fine-tune
  the ``finetune`` best masks from that warm start for a short budget (``finetune_epochs``,
  default a tenth of the full training's epochs, at least 3); keep the best on validation,
  the unpruned model included.

Each optimiser calls an objective that trains only on masks not seen before; the number of
trainings and the candidates are recorded. Ties in validation accuracy go to the mask with
fewer qubits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qenc_bench import FitContext, Split
from qenc_bench.errors import ConfigError

from .angle import AngleEncoder


def class_average_maps(train: Split) -> tuple[np.ndarray, ...]:
    """Mean feature vector of every class on the training split (class 0, class 1, ...)."""
    return tuple(train.x[train.y == c].mean(axis=0) for c in range(int(train.y.max()) + 1))


def prune_mask(maps: tuple[np.ndarray, ...] | list[np.ndarray], tau: float) -> np.ndarray:
    """True for pixels that are pruned: below tau in every class-average map (for two classes,
    the paper's rule: below tau in both)."""
    return np.all(np.stack(maps) < tau, axis=0)


def candidate_thresholds(breakpoints: np.ndarray, tau_max: float) -> np.ndarray:
    """One tau per distinct non-empty mask with tau <= tau_max: 0, then the midpoints between
    consecutive distinct breakpoints (the mask is constant between two breakpoints)."""
    levels = np.unique(breakpoints)
    mids = np.minimum((levels[:-1] + levels[1:]) / 2.0, tau_max)  # a mask reachable below tau_max
    return np.concatenate([[0.0], mids[levels[:-1] < tau_max]])


Objective = Callable[[float], float]


def search_exact(objective: Objective, breakpoints: np.ndarray, tau_max: float, **_) -> float:
    taus = candidate_thresholds(breakpoints, tau_max)
    scores = [objective(t) for t in taus]
    return float(taus[int(np.argmax(scores))])  # lowest tau of the best; ties resolved by caller


def search_grid(objective: Objective, breakpoints: np.ndarray, tau_max: float, grid_points: int = 11, **_) -> float:
    taus = np.linspace(0.0, tau_max, grid_points)
    scores = [objective(t) for t in taus]
    return float(taus[int(np.argmax(scores))])


def search_lbfgsb(
    objective: Objective, breakpoints: np.ndarray, tau_max: float, fd_step: float | None = None, maxiter: int = 15, **_
) -> float:
    from scipy.optimize import minimize

    step = fd_step if fd_step is not None else tau_max / 10.0
    best = {"tau": 0.0, "score": -np.inf}

    def loss(t: np.ndarray) -> float:
        tau = float(np.clip(t[0], 0.0, tau_max))
        score = objective(tau)
        if score > best["score"]:
            best.update(tau=tau, score=score)
        return -score

    minimize(loss, x0=[tau_max / 2.0], method="L-BFGS-B", bounds=[(0.0, tau_max)],
             options={"eps": step, "maxiter": maxiter})
    return best["tau"]


THRESHOLD_OPTIMIZERS: dict[str, Callable[..., float] | None] = {
    "exact": search_exact,
    "grid": search_grid,
    "lbfgsb": search_lbfgsb,
    "warm": None,  # needs the training context, see ATPEncoder._fit_warm
}


class ATPEncoder(AngleEncoder):
    """ATP: prune dim pixels (and their qubits) by a validated threshold, then angle-encode.

    :param optimizer: ``exact`` (default), ``grid`` or ``lbfgsb`` (see the module docstring).
    :param tau_max: the largest threshold considered (default: the largest breakpoint, so at
        least one pixel is always kept).
    :param tau: a fixed threshold; skips the search (no extra trainings).
    """

    name = "atp"

    def __init__(self, optimizer: str = "exact", tau_max: float | None = None, tau: float | None = None, **search_options):
        if optimizer not in THRESHOLD_OPTIMIZERS:
            raise ConfigError(
                f"unknown ATP optimizer {optimizer!r}; known: {', '.join(THRESHOLD_OPTIMIZERS)}"
            )
        super().__init__()
        self.optimizer, self.tau_max, self.tau, self.search_options = optimizer, tau_max, tau, search_options

    def fit(self, train: Split, validation: Split, context: FitContext) -> ATPEncoder:
        self.maps_ = class_average_maps(train)
        breakpoints = np.max(np.stack(self.maps_), axis=0)
        tau_max = float(self.tau_max if self.tau_max is not None else breakpoints.max())
        scores: dict[tuple[int, ...], float] = {}
        self.candidates_: list[dict] = []

        def objective(tau: float) -> float:
            kept = tuple(np.flatnonzero(~prune_mask(self.maps_, tau)).tolist())
            if not kept:
                return 0.0
            if kept not in scores:
                candidate = AngleEncoder(columns=kept).fit(train, validation, context)
                scores[kept] = context.score(candidate)
                context.trainings += 1
            self.candidates_.append({"tau": float(tau), "qubits": len(kept), "validation_accuracy": scores[kept]})
            return scores[kept]

        if self.tau is not None:
            tau = float(self.tau)
        elif self.optimizer == "warm":
            tau = self._fit_warm(train, validation, context, breakpoints, tau_max, scores)
        else:
            tau = THRESHOLD_OPTIMIZERS[self.optimizer](objective, breakpoints, tau_max, **self.search_options)
            # among the masks as good as the one found, keep the one with the fewest qubits
            best = max(scores.values())
            for c in sorted(self.candidates_, key=lambda c: (c["qubits"], c["tau"])):
                if c["validation_accuracy"] == best:
                    tau = c["tau"]
                    break
        self.tau_ = tau
        self.pruned_ = prune_mask(self.maps_, tau)
        self.kept_ = np.flatnonzero(~self.pruned_)
        if len(self.kept_) == 0:
            raise ConfigError(f"ATP threshold tau={tau} prunes every pixel; choose a lower tau")
        self.trainings_ = context.trainings if self.optimizer == "warm" else len(scores)
        self.columns = self.kept_  # angle encoding of the kept pixels; pruned ones get no qubit
        return super().fit(train, validation, context)

    def _fit_warm(self, train: Split, validation: Split, context: FitContext, breakpoints, tau_max, scores) -> float:
        finetune = int(self.search_options.get("finetune", 1))
        full = AngleEncoder().fit(train, validation, context)
        full_result = context.train(full)
        context.trainings += 1
        n = full.n_qubits
        finetune_epochs = self.search_options.get("finetune_epochs") or max(3, full_result.epochs // 10)
        proxies = []
        for tau in candidate_thresholds(breakpoints, tau_max):
            kept = np.flatnonzero(~prune_mask(self.maps_, float(tau)))
            if len(kept) in (0, n):
                continue
            candidate = AngleEncoder(columns=kept).fit(train, validation, context)
            warm = context.restrict_weights(full_result.weights, n, kept)
            proxy = context.validation_accuracy(candidate, warm)
            proxies.append((proxy, -len(kept), float(tau), candidate, warm))
            self.candidates_.append({"tau": float(tau), "qubits": len(kept), "proxy_accuracy": proxy})
        best = (full_result.validation_accuracy, -n, 0.0, full_result)
        for proxy, neg_qubits, tau, candidate, warm in sorted(proxies, key=lambda p: p[:2], reverse=True)[:finetune]:
            result = context.train(candidate, initial_weights=warm, max_epochs=finetune_epochs, patience=3)
            context.trainings += 1
            self.candidates_.append({"tau": tau, "qubits": -neg_qubits, "validation_accuracy": result.validation_accuracy,
                                     "finetune_epochs": result.epochs})
            if (result.validation_accuracy, neg_qubits) > best[:2]:
                best = (result.validation_accuracy, neg_qubits, tau, result)
        context.final = best[3]
        scores[("warm",)] = best[0]
        return best[2]

    def info(self) -> dict:
        return {
            "tau": self.tau_,
            "optimizer": "fixed" if self.tau is not None else self.optimizer,
            "kept_pixels": self.kept_.tolist(),
            "pruned_pixels": np.flatnonzero(self.pruned_).tolist(),
            "trainings": self.trainings_,
            "candidates": self.candidates_,
            "class_average_maps": [m.round(6).tolist() for m in self.maps_],
        }
