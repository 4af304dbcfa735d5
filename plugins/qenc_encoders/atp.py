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
  the unpruned model included;
- ``joint`` (the default): the exhaustive search's answer at the least cost. Every distinct
  mask is trained fully, exactly as ``exact`` trains it (same initial weights for every
  restart, minibatch order, Adam, early stopping, the best restart by validation loss; the
  harness describes that training in a :class:`~qenc_bench.TrainingPlan`), but all masks and
  restarts at once in ONE loop; each candidate keeps its own Adam state, generator and early
  stopping, the loop ends when the last one stops, and the chosen candidate's training is
  handed to the harness as the final model (``FitContext.final``), so nothing is trained
  twice. It selects what ``exact`` selects. Two loops:

  - the **closed form**, on the one-layer ``readout`` model with angle encoding (whatever
    backend trains it: the closed form is checked against it numerically). The output is the
    ``exact`` backend's (see :func:`~qenc_encoders.atp_closed_form.readout_expval`): a pruned qubit is the full circuit's
    qubit with its factor c_j forced to 1 (phi_j = 0 and no gradient), so K candidates are K
    rows of a weight matrix and one minibatch step serves them all. With few pixels (MNIST at
    3x3: 9 candidates) it costs about half of angle encoding's training on the ``exact``
    backend, see ``benchmarks/bench_atp_search.py``; with many pixels the arithmetic
    dominates and runs are split into successive loops (``max_chunk``);
  - the **engine loop**, on any other model (``hea``, ``reuploading``: a pruned qubit changes
    their circuit, not a row of weights): :func:`~qenc_bench.train_jointly` on the training
    backend, every candidate's trainings in lock-step, bit for bit the harness's. Its cost is
    the candidates' own arithmetic (on ``hea`` at 3x3, about 3x angle encoding's training,
    measured in docs/encoders.md), the price of the exhaustive answer; ``warm`` is cheaper and
    chose worse masks there.

  ``info()["search"]`` records the loop, the candidates trained, the loop's epochs and
  minibatch steps. It needs Adam and no adversarial training; otherwise it falls back to
  ``fallback`` (default ``warm``, about one training plus short fine-tunes, or ``exact`` when
  the context can only score candidates; ``exact`` keeps the answer at the exhaustive cost),
  and ``info()["search"]["fallback"]`` says why.

Each optimiser calls an objective that trains only on masks not seen before; the number of
trainings and the candidates are recorded. Ties in validation accuracy go to the mask with
fewer qubits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qenc_bench import (
    ConfigError,
    FitContext,
    JointRun,
    Split,
    TrainResult,
    keep_best_restart,
    stack_models,
    train_jointly,
)

from .angle import AngleEncoder
from .atp_closed_form import candidate_expval, readout_ops, train_runs_jointly


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
    "joint": None,  # needs the harness's training plan, see ATPEncoder._fit_joint
}


def _joint_result(plan, runs: list[TrainResult], outputs: Callable[[np.ndarray], np.ndarray],
                  validation_labels: np.ndarray) -> TrainResult:
    """A candidate's TrainResult as the harness's training would report it, from its planned
    runs' results (in ``plan.runs`` order): per binary model the restart with the best
    validation loss; for one-vs-rest the k models stacked, scored by the argmax of
    ``outputs(weights (k, W))`` (M, k) on validation."""
    per_model = []
    for model in range(plan.models):
        tries = sorted((planned.restart, j) for j, planned in enumerate(plan.runs) if planned.model == model)
        per_model.append(keep_best_restart([runs[j] for _, j in tries]))
    if len(per_model) == 1:
        return per_model[0]
    weights = np.stack([r.weights for r in per_model])
    return stack_models(per_model, np.mean(np.argmax(outputs(weights), axis=1) == validation_labels))


class ATPEncoder(AngleEncoder):
    """ATP: prune dim pixels (and their qubits) by a validated threshold, then angle-encode.

    :param optimizer: ``joint`` (default), ``exact``, ``grid``, ``lbfgsb`` or ``warm`` (see the
        module docstring).
    :param tau_max: the largest threshold considered (default: the largest breakpoint, so at
        least one pixel is always kept).
    :param tau: a fixed threshold; skips the search (no extra trainings).
    :param search_options: the optimiser's own: ``grid_points`` (grid), ``fd_step`` and
        ``maxiter`` (lbfgsb), ``finetune`` and ``finetune_epochs`` (warm), ``fallback`` (joint:
        the optimiser used where the joint loop does not apply, default ``warm``) and
        ``max_chunk`` (joint: at most this many complex numbers per minibatch array, pixels x
        runs x batch size; more runs are trained in successive loops; default 2**18).
    """

    name = "atp"

    def __init__(self, optimizer: str = "joint", tau_max: float | None = None, tau: float | None = None, **search_options):
        if optimizer not in THRESHOLD_OPTIMIZERS:
            raise ConfigError(
                f"unknown ATP optimizer {optimizer!r}; known: {', '.join(THRESHOLD_OPTIMIZERS)}"
            )
        fallback = search_options.get("fallback", "warm")
        if optimizer == "joint" and (fallback not in THRESHOLD_OPTIMIZERS or fallback == "joint"):
            raise ConfigError(f"unknown ATP fallback optimizer {fallback!r}; known: "
                              f"{', '.join(o for o in THRESHOLD_OPTIMIZERS if o != 'joint')}")
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

        self.search_: dict = {"strategy": self.optimizer}
        optimizer = self.optimizer
        if self.tau is None and optimizer == "joint":
            tau, reason = self._fit_joint(train, validation, context, breakpoints, tau_max)
            if reason is not None:  # not the model the joint loop computes: another strategy
                # warm needs the harness's training; a context that only scores gets the exhaustive search
                optimizer = self.search_options.get("fallback", "warm" if context.train is not None else "exact")
                self.search_.update(fallback=optimizer, reason=reason)
        if self.tau is not None:
            tau = float(self.tau)
        elif optimizer == "warm":
            tau = self._fit_warm(train, validation, context, breakpoints, tau_max, scores)
        elif optimizer != "joint":
            tau = THRESHOLD_OPTIMIZERS[optimizer](objective, breakpoints, tau_max, **self._search_kwargs())
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
        self.trainings_ = context.trainings if optimizer in ("warm", "joint") else len(scores)
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
        for _proxy, neg_qubits, tau, candidate, warm in sorted(proxies, key=lambda p: p[:2], reverse=True)[:finetune]:
            result = context.train(candidate, initial_weights=warm, max_epochs=finetune_epochs, patience=3)
            context.trainings += 1
            self.candidates_.append({"tau": tau, "qubits": -neg_qubits, "validation_accuracy": result.validation_accuracy,
                                     "finetune_epochs": result.epochs})
            if (result.validation_accuracy, neg_qubits) > best[:2]:
                best = (result.validation_accuracy, neg_qubits, tau, result)
        context.final = best[3]
        scores[("warm",)] = best[0]
        return best[2]

    def _search_kwargs(self) -> dict:
        return {k: v for k, v in self.search_options.items() if k not in ("fallback", "max_chunk")}

    def _joint_unsupported(self, plan) -> str | None:
        """Why the joint loop cannot reproduce the harness's training of a candidate, or None."""
        if plan is None:
            return "the harness trains with adversarial batches"
        if plan.config.optimizer != "adam":
            return f"the training optimizer is {plan.config.optimizer!r}, not 'adam'"
        return None

    def _fit_joint(self, train: Split, validation: Split, context: FitContext, breakpoints, tau_max):
        """The ``joint`` search; returns (tau, None), or (None, why) when it does not apply."""
        if context.training_plan is None:
            return None, "the harness gives no training plan"
        masks: dict[tuple[int, ...], float] = {}  # kept columns -> lowest tau giving them
        for tau in candidate_thresholds(breakpoints, tau_max):
            kept = tuple(np.flatnonzero(~prune_mask(self.maps_, float(tau))).tolist())
            if kept and kept not in masks:
                masks[kept] = float(tau)
        entries = []  # (kept, tau, candidate, plan)
        for kept, tau in masks.items():
            candidate = AngleEncoder(columns=kept).fit(train, validation, context)
            plan = context.training_plan(candidate)
            reason = self._joint_unsupported(plan)
            if reason is not None:
                return None, reason
            entries.append((kept, tau, candidate, plan))
        closed = self._closed_form_applies(entries, validation)
        if closed:
            results, cost = self._closed_form_runs(entries, train, validation)
            self.search_.update(loop="closed form", chunks=cost.pop("chunks"))
        else:
            results, cost = self._engine_loop(entries, train, validation)
            self.search_["loop"] = "engine"

        best = None
        for i, (kept, tau, candidate, plan) in enumerate(entries):
            outputs = self._validation_outputs(plan, candidate, kept, validation, closed=closed)
            result = _joint_result(plan, [results[(i, j)] for j in range(len(plan.runs))], outputs, validation.y)
            context.trainings += 1
            self.candidates_.append({"tau": tau, "qubits": len(kept), "validation_accuracy": result.validation_accuracy,
                                     "epochs": result.epochs})
            rank = (result.validation_accuracy, -len(kept), -tau)
            if best is None or rank > best[0]:
                best = (rank, tau, result)
        context.final = best[2]
        self.search_.update(candidates_trained=len(entries), runs=sum(len(e[3].runs) for e in entries), **cost)
        return best[1], None

    def _closed_form_applies(self, entries, validation: Split) -> bool:
        """Whether every candidate's model is the one-layer readout model and the closed form
        is the training backend's (checked numerically on the largest candidate)."""
        for _, _, candidate, plan in entries:
            n, circuit = candidate.n_qubits, plan.circuit
            if circuit.ops != readout_ops(n) or circuit.readout != n or circuit.n_weights != 2 * n:
                return False
        kept, _, candidate, plan = max(entries, key=lambda e: len(e[0]))
        first = plan.runs[0].initial_weights
        ours = candidate_expval(validation.x, kept, first)[0]
        theirs = plan.backend.expval(plan.circuit, candidate.transform(validation.x), first)
        return bool(np.allclose(ours, theirs, rtol=0.0, atol=1e-9))

    def _closed_form_runs(self, entries, train: Split, validation: Split) -> tuple[dict, dict]:
        """Every (candidate, planned training) in the readout model's closed form, chunked to
        bound memory on large images: {(i, j): TrainResult} and the loops' cost."""
        d = train.x.shape[1]
        runs = [(i, j) for i, e in enumerate(entries) for j in range(len(e[3].runs))]
        batch = entries[0][3].config.batch_size
        chunk = max(1, int(self.search_options.get("max_chunk", 2**18)) // max(1, d * batch))
        results, cost = {}, {"loop_epochs": 0, "minibatch_steps": 0}
        for start in range(0, len(runs), chunk):
            part = runs[start:start + chunk]
            kept_rows = np.zeros((len(part), d), dtype=bool)
            theta0, phi0 = np.zeros((len(part), d)), np.zeros((len(part), d))
            for row, (i, j) in enumerate(part):
                cols = list(entries[i][0])
                weights = entries[i][3].runs[j].initial_weights
                kept_rows[row, cols] = True
                theta0[row, cols] = weights[:len(cols)]
                phi0[row, cols] = weights[len(cols):]
            planned = [entries[i][3].runs[j] for i, j in part]
            part_results, part_cost = train_runs_jointly(
                np.pi * train.x, np.pi * validation.x, kept_rows, theta0, phi0, [r.rng for r in planned],
                np.stack([r.train_labels for r in planned]), np.stack([r.validation_labels for r in planned]),
                entries[0][3].config)
            for (i, j), r in zip(part, part_results, strict=True):
                cols = list(entries[i][0])
                results[(i, j)] = TrainResult(weights=np.concatenate([r.theta[cols], r.phi[cols]]), epochs=r.epochs,
                                              converged=r.converged, best_epoch=r.best_epoch,
                                              validation_loss=float(r.validation_loss),
                                              validation_accuracy=float(r.validation_accuracy), history=r.history)
            for key in cost:
                cost[key] += part_cost[key]
        cost["chunks"] = -(-len(runs) // chunk)
        return results, cost

    def _engine_loop(self, entries, train: Split, validation: Split) -> tuple[dict, dict]:
        """Every (candidate, planned training) of any other model on its training backend, in
        one lock-step loop per backend (:func:`~qenc_bench.train_jointly`): {(i, j): TrainResult}
        and the loop's cost."""
        by_backend: dict[int, list] = {}
        for i, (_, _, candidate, plan) in enumerate(entries):
            x_train, x_val = candidate.transform(train.x), candidate.transform(validation.x)
            for j, planned in enumerate(plan.runs):
                run = JointRun(plan.circuit, x_train, planned.train_labels, x_val, planned.validation_labels,
                               planned.initial_weights, planned.rng)
                by_backend.setdefault(id(plan.backend), [plan.backend, plan.config, []])[2].append(((i, j), run))
        results, cost = {}, {"loop_epochs": 0, "minibatch_steps": 0, "calls": 0}
        for backend, config, keyed in by_backend.values():
            trained, part_cost = train_jointly(backend, [run for _, run in keyed], config)
            results.update(zip([key for key, _ in keyed], trained, strict=True))
            for key in cost:
                cost[key] = max(cost[key], part_cost[key]) if key == "loop_epochs" else cost[key] + part_cost[key]
        return results, cost

    @staticmethod
    def _validation_outputs(plan, candidate, kept, validation: Split, closed: bool):
        """``outputs(weights (k, W))`` -> (M, k): the k binary models on the validation split,
        for one-vs-rest's argmax (the closed form, or the training backend as the harness)."""
        if closed:
            return lambda weights: candidate_expval(validation.x, kept, weights).T
        x_val = candidate.transform(validation.x)
        return lambda weights: np.stack([plan.backend.expval(plan.circuit, x_val, w) for w in weights], axis=1)

    def info(self) -> dict:
        return {
            "tau": self.tau_,
            "optimizer": "fixed" if self.tau is not None else self.optimizer,
            "kept_pixels": self.kept_.tolist(),
            "pruned_pixels": np.flatnonzero(self.pruned_).tolist(),
            "trainings": self.trainings_,
            "candidates": self.candidates_,
            "search": self.search_ if self.tau is None else {"strategy": "fixed"},
            "class_average_maps": [m.round(6).tolist() for m in self.maps_],
        }
