"""Training: hinge loss, Adam, minibatches, early stopping on validation loss.

Every encoder in a comparison is trained with the same :class:`TrainConfig`. Training stops
when the validation loss has not improved by ``min_delta`` for ``patience`` epochs
(``converged=True``) or at ``max_epochs`` (``converged=False``, flagged in the table); the
weights of the best validation epoch are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from .backends import Backend
from .circuit import Circuit
from .errors import ConfigError
from .metrics import accuracy, hinge_loss

OPTIMIZERS = ("adam", "cobyla")
#: restarts per model by default: the best validation loss of this many seeded initialisations
#: (docs/training.md has the measurement behind the choice)
DEFAULT_RESTARTS = 3


@dataclass(frozen=True)
class TrainConfig:
    """The training budget every encoder of a comparison shares.

    :param optimizer: ``adam`` (minibatch gradients, early stopping) or ``cobyla`` (scipy's
        gradient-free COBYLA on the full training loss, for hardware, as the ATP paper trained on
        IBM devices; ``max_iterations`` loss evaluations at most, no early stopping).
    :param restarts: every model is trained from this many seeded initialisations and the one
        with the best validation loss is kept (the same number for every model; its cost counts).
    """

    learning_rate: float = 0.05
    max_epochs: int = 100
    patience: int = 10
    batch_size: int = 32
    min_delta: float = 1e-4
    optimizer: str = "adam"
    max_iterations: int = 30
    restarts: int = DEFAULT_RESTARTS

    def __post_init__(self) -> None:
        if isinstance(self.restarts, bool) or not isinstance(self.restarts, int) or self.restarts < 1:
            raise ConfigError(f"--restarts must be a positive integer (1: a single initialisation), got {self.restarts!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; choose {' or '.join(OPTIMIZERS)}")
        if self.max_iterations < 1:
            raise ConfigError(f"--maxiter must be at least 1, got {self.max_iterations}")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning rate must be positive, got {self.learning_rate}")
        if self.max_epochs < 1 or self.patience < 1 or self.batch_size < 1:
            raise ConfigError("epochs, patience and batch size must be at least 1")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """One trained model (or the stacked one-vs-rest models: ``weights`` (k, W)).

    :param restarts: initialisations tried; ``chosen_restart`` the one kept (best validation
        loss) and ``restart_losses`` each one's best validation loss (per binary model for
        one-vs-rest: a list per class).
    """

    weights: np.ndarray
    epochs: int
    converged: bool
    best_epoch: int
    validation_loss: float
    validation_accuracy: float
    history: dict[str, list[float]] = field(default_factory=dict)
    restarts: int = 1
    chosen_restart: int | list[int] = 0
    restart_losses: list = field(default_factory=list)

    def training_info(self) -> dict:
        """What a record keeps about how the model was trained."""
        return {"restarts": self.restarts, "chosen_restart": self.chosen_restart,
                "restart_validation_losses": self.restart_losses}


def best_restart(results: list[TrainResult]) -> int:
    """The restart to keep: the lowest validation loss; a tie goes to the earlier restart."""
    return min(range(len(results)), key=lambda i: (results[i].validation_loss, i))


def keep_best_restart(tries: list[TrainResult]) -> TrainResult:
    """The restart :func:`best_restart` picks, recording how many were tried and each one's
    best validation loss."""
    chosen = best_restart(tries)
    return replace(tries[chosen], restarts=len(tries), chosen_restart=chosen,
                   restart_losses=[t.validation_loss for t in tries])


def stack_models(results: list[TrainResult], validation_accuracy: float) -> TrainResult:
    """One-vs-rest: the k binary models (each its restarts' best) as one result, with weights
    (k, W) and the ``validation_accuracy`` of their argmax."""
    return TrainResult(
        weights=np.stack([r.weights for r in results]),
        epochs=max(r.epochs for r in results),
        converged=all(r.converged for r in results),
        best_epoch=max(r.best_epoch for r in results),
        validation_loss=float(np.mean([r.validation_loss for r in results])),
        validation_accuracy=float(validation_accuracy),
        history={f"class {c}": r.history.get("validation_loss", []) for c, r in enumerate(results)},
        restarts=results[0].restarts,
        chosen_restart=[int(r.chosen_restart) for r in results],  # type: ignore[arg-type]
        restart_losses=[r.restart_losses for r in results],
    )


def restart_seed(seed: int, model: int | None, restart: int) -> list[int] | int:
    """The generator seed of one initialisation: restart 0 keeps the seed a single training
    always had (``seed``, or ``[seed, c]`` for class c of one-vs-rest)."""
    base = [seed] if model is None else [seed, model]
    if restart == 0:
        return base[0] if model is None else base
    return [*base, 1_000_003, restart]


class Adam:
    """Adam (Kingma and Ba) on a flat parameter vector, or elementwise on an array of them (a
    row per model, stepping together)."""

    def __init__(self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.b1, self.b2, self.eps = learning_rate, beta1, beta2, eps
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self.t = 0

    def step(self, params: np.ndarray, grad: np.ndarray) -> np.ndarray:
        if self.m is None or self.v is None:
            self.m, self.v = np.zeros_like(params), np.zeros_like(params)
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * grad
        self.v = self.b2 * self.v + (1 - self.b2) * grad * grad
        m_hat = self.m / (1 - self.b1**self.t)
        v_hat = self.v / (1 - self.b2**self.t)
        return params - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def hinge_cotangent(outputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """d(mean hinge loss)/d(outputs) for labels in {0, 1}, along the last axis (a row per model
    for several models' minibatches)."""
    y = 2.0 * labels - 1.0
    return np.where(1.0 - y * outputs > 0, -y, 0.0) / outputs.shape[-1]


def train(
    circuit: Circuit,
    backend: Backend,
    train_features: np.ndarray,
    train_labels: np.ndarray,
    val_features: np.ndarray,
    val_labels: np.ndarray,
    initial_weights: np.ndarray,
    config: TrainConfig,
    rng: np.random.Generator,
    batch_features: Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray] | None = None,
) -> TrainResult:
    """Train the circuit's weights; returns the best-validation weights and what happened.

    With ``config.optimizer == "cobyla"`` the weights are fitted by :func:`train_cobyla`.

    :param batch_features: ``batch_features(batch_indices, weights, rng)`` returns the feature
        rows a minibatch trains on; the default takes ``train_features[batch_indices]``.
        Adversarial training swaps part of each batch for attacked samples here.
    """
    if config.optimizer == "cobyla":
        return train_cobyla(circuit, backend, train_features, train_labels, val_features, val_labels,
                            initial_weights, config)
    weights = np.array(initial_weights, dtype=np.float64)
    optimizer = Adam(config.learning_rate)
    n = len(train_labels)
    best = (np.inf, weights.copy(), 0, 0.0)
    since_best = 0
    history: dict[str, list[float]] = {"train_loss": [], "validation_loss": []}
    converged = False
    epoch = 0
    for epoch in range(1, config.max_epochs + 1):
        order = rng.permutation(n)
        losses = []
        for start in range(0, n, config.batch_size):
            batch = order[start : start + config.batch_size]
            rows = train_features[batch] if batch_features is None else batch_features(batch, weights, rng)
            outputs, vjp = backend.expval_vjp(circuit, rows, weights)
            losses.append(hinge_loss(outputs, train_labels[batch]) * len(batch))
            grad = vjp(hinge_cotangent(outputs, train_labels[batch])).weights
            weights = optimizer.step(weights, grad)
        val_out = backend.expval(circuit, val_features, weights)
        val_loss = hinge_loss(val_out, val_labels)
        history["train_loss"].append(float(np.sum(losses) / n))
        history["validation_loss"].append(val_loss)
        if val_loss < best[0] - config.min_delta:
            best = (val_loss, weights.copy(), epoch, accuracy(val_out, val_labels))
            since_best = 0
        else:
            since_best += 1
            if since_best >= config.patience:
                converged = True
                break
    return TrainResult(
        weights=best[1],
        epochs=epoch,
        converged=converged,
        best_epoch=best[2],
        validation_loss=float(best[0]),
        validation_accuracy=float(best[3]),
        history=history,
    )


@dataclass(frozen=True)
class JointRun:
    """One training of :func:`train_jointly`: what :func:`train` would be called with (the
    generator in the state it would get; no adversarial ``batch_features``)."""

    circuit: Circuit
    train_features: np.ndarray
    train_labels: np.ndarray
    val_features: np.ndarray
    val_labels: np.ndarray
    initial_weights: np.ndarray
    rng: np.random.Generator


class _Group:
    """The active runs of one circuit in :func:`train_jointly`, as arrays with a row per run:
    :func:`train`'s local variables, Adam's moments included (the runs step together, so they
    share Adam's step count)."""

    def __init__(self, circuit: Circuit, ids: list[int], runs: list[JointRun], learning_rate: float):
        members = [runs[i] for i in ids]
        self.circuit, self.ids = circuit, np.array(ids)
        self.features = np.stack([r.train_features for r in members])  # (R, N, F)
        self.labels = np.stack([r.train_labels for r in members]).astype(np.float64)  # (R, N)
        self.val_features = np.stack([r.val_features for r in members])
        self.val_labels = np.stack([r.val_labels for r in members]).astype(np.float64)
        self.weights = np.stack([np.asarray(r.initial_weights, dtype=np.float64) for r in members])  # (R, W)
        self.optimizer = Adam(learning_rate)  # elementwise: one row of moments per run
        self.since_best = np.zeros(len(ids), dtype=int)
        self.orders = np.empty((len(ids), 0), dtype=np.int64)
        self.losses = np.zeros(len(ids))

    def keep(self, rows: np.ndarray) -> None:
        """Only the runs ``rows`` (bool, one per run) stay."""
        for name in ("ids", "features", "labels", "val_features", "val_labels", "weights", "since_best", "orders",
                     "losses"):
            setattr(self, name, getattr(self, name)[rows])
        if self.optimizer.m is not None and self.optimizer.v is not None:
            self.optimizer.m, self.optimizer.v = self.optimizer.m[rows], self.optimizer.v[rows]


def train_jointly(backend: Backend, runs: list[JointRun], config: TrainConfig, *, batch_runs: bool | None = None
                  ) -> tuple[list[TrainResult], dict]:
    """Train many models at once, each exactly as :func:`train` with Adam would: its own
    initial weights, its generator shuffling its minibatches, its Adam moments and its early
    stopping (results equal :func:`train`'s to rounding).

    The runs advance in lock-step, one minibatch step at a time, and a run that stops leaves.
    The runs of one circuit are arrays with a row per run, so the loss, the cotangent, Adam
    and early stopping cost a few array operations per step whatever the number of runs. With
    ``batch_runs`` (default: the backend's ``prefers_row_batches``; it needs
    ``capabilities.row_weights``) each step makes ONE ``expval_vjp`` call per circuit over all
    its runs' minibatches (and one ``expval`` per epoch for their validation), each row with
    its run's weights; otherwise one call per run, as :func:`train` makes, and the results are
    :func:`train`'s bit for bit. Every run needs the same number of training samples, so the
    minibatches line up.

    :returns: one :class:`TrainResult` per run, and the loop's cost:
        ``{"loop_epochs", "minibatch_steps", "calls"}`` (backend calls made).
    """
    if config.optimizer != "adam":
        raise ConfigError(f"train_jointly trains with adam, not {config.optimizer!r}")
    sizes = {len(r.train_labels) for r in runs}
    if len(sizes) > 1:
        raise ConfigError(f"train_jointly needs runs of one training-set size, got sizes {sorted(sizes)}")
    n = sizes.pop() if sizes else 0
    by_circuit: dict[Circuit, list[int]] = {}
    for i, r in enumerate(runs):
        by_circuit.setdefault(r.circuit, []).append(i)
    groups = [_Group(circuit, ids, runs, config.learning_rate) for circuit, ids in by_circuit.items()]
    best_loss = np.full(len(runs), np.inf)
    best_weights = [np.array(r.initial_weights, dtype=np.float64) for r in runs]
    best_epoch, best_accuracy = np.zeros(len(runs), dtype=int), np.zeros(len(runs))
    epochs, converged = np.zeros(len(runs), dtype=int), np.zeros(len(runs), dtype=bool)
    history: list[dict[str, list[float]]] = [{"train_loss": [], "validation_loss": []} for _ in runs]
    cost = {"loop_epochs": 0, "minibatch_steps": 0, "calls": 0}
    together = backend.prefers_row_batches if batch_runs is None else batch_runs
    if together and not backend.capabilities.row_weights:
        raise ConfigError(f"backend {backend.name!r} takes one weight vector per call: train_jointly(batch_runs=False)")
    for epoch in range(1, config.max_epochs + 1):
        groups = [g for g in groups if len(g.ids)]
        if not groups:
            break
        cost["loop_epochs"] = epoch
        for g in groups:
            epochs[g.ids] = epoch
            g.orders = np.stack([runs[i].rng.permutation(n) for i in g.ids]) if n else np.empty((len(g.ids), 0), int)
            g.losses = np.zeros(len(g.ids))
        for start in range(0, n, config.batch_size):
            cost["minibatch_steps"] += 1
            for g in groups:
                cost["calls"] += _joint_step(backend, g, start, config, together)
        for g in groups:
            val_out, calls = _joint_outputs(backend, g.circuit, g.val_features, g.weights, together)
            cost["calls"] += calls
            y = 2.0 * g.val_labels - 1.0
            val_loss = np.mean(np.maximum(0.0, 1.0 - y * val_out), axis=1)
            improved = val_loss < best_loss[g.ids] - config.min_delta
            for row, i in enumerate(g.ids):
                history[i]["train_loss"].append(float(g.losses[row] / n))
                history[i]["validation_loss"].append(float(val_loss[row]))
                if improved[row]:
                    best_weights[i] = g.weights[row].copy()
                    best_accuracy[i] = np.mean((val_out[row] > 0) == (g.val_labels[row] == 1))
            best_loss[g.ids[improved]] = val_loss[improved]
            best_epoch[g.ids[improved]] = epoch
            g.since_best = np.where(improved, 0, g.since_best + 1)
            stop = g.since_best >= config.patience
            converged[g.ids[stop]] = True
            if stop.any():
                g.keep(~stop)
    results = [TrainResult(weights=best_weights[i], epochs=int(epochs[i]), converged=bool(converged[i]),
                           best_epoch=int(best_epoch[i]), validation_loss=float(best_loss[i]),
                           validation_accuracy=float(best_accuracy[i]), history=history[i]) for i in range(len(runs))]
    return results, cost


def _joint_outputs(backend: Backend, circuit: Circuit, features: np.ndarray, weights: np.ndarray, together: bool,
                   with_vjp: bool = False):
    """Outputs (R, B) of R runs on their features (R, B, F), run r with ``weights[r]``; with
    ``with_vjp`` also a function from cotangents (R, B) to weight gradients (R, W). One call
    with per-row weights when ``together``, else a call per run. Returns (outputs[, vjp], calls)."""
    n_runs, batch = features.shape[:2]
    if together and n_runs > 1:
        rows = features.reshape(n_runs * batch, -1)
        row_weights = np.repeat(weights, batch, axis=0)
        if not with_vjp:
            return backend.expval(circuit, rows, row_weights).reshape(n_runs, batch), 1
        values, vjp = backend.expval_vjp(circuit, rows, row_weights)

        def pull_back(cotangents: np.ndarray) -> np.ndarray:
            return vjp(cotangents.reshape(-1)).weights.reshape(n_runs, batch, -1).sum(axis=1)

        return values.reshape(n_runs, batch), pull_back, 1
    if not with_vjp:
        return np.stack([backend.expval(circuit, features[r], weights[r]) for r in range(n_runs)]), n_runs
    pairs = [backend.expval_vjp(circuit, features[r], weights[r]) for r in range(n_runs)]

    def pull_back_each(cotangents: np.ndarray) -> np.ndarray:
        return np.stack([vjp(c).weights for (_, vjp), c in zip(pairs, cotangents, strict=True)])

    return np.stack([values for values, _ in pairs]), pull_back_each, n_runs


def _joint_step(backend: Backend, g: _Group, start: int, config: TrainConfig, together: bool) -> int:
    """One minibatch step of every run of ``g``; returns the calls made."""
    batch = g.orders[:, start : start + config.batch_size]  # (R, b)
    rows = g.features[np.arange(len(g.ids))[:, None], batch]  # (R, b, F)
    labels = np.take_along_axis(g.labels, batch, axis=1)
    outputs, pull_back, calls = _joint_outputs(backend, g.circuit, rows, g.weights, together, with_vjp=True)
    g.losses += np.mean(np.maximum(0.0, 1.0 - (2.0 * labels - 1.0) * outputs), axis=1) * batch.shape[1]
    g.weights = g.optimizer.step(g.weights, pull_back(hinge_cotangent(outputs, labels)))
    return calls


def train_cobyla(
    circuit: Circuit,
    backend: Backend,
    train_features: np.ndarray,
    train_labels: np.ndarray,
    val_features: np.ndarray,
    val_labels: np.ndarray,
    initial_weights: np.ndarray,
    config: TrainConfig,
) -> TrainResult:
    """Gradient-free training: COBYLA on the mean hinge loss of the whole training split, each
    evaluation one batched ``expval`` call (on hardware: one job). ``converged`` is COBYLA's
    own success flag; the epochs field counts loss evaluations."""
    from scipy.optimize import minimize

    needed = len(initial_weights) + 2  # COBYLA's first simplex needs that many evaluations
    if config.max_iterations < needed:
        raise ConfigError(
            f"COBYLA needs at least {needed} loss evaluations for {len(initial_weights)} weights; "
            f"raise --maxiter to {needed} or more (or use a smaller --grid)"
        )
    history: dict[str, list[float]] = {"train_loss": []}

    def loss(weights: np.ndarray) -> float:
        with backend.job_tags(purpose="training"):
            value = hinge_loss(backend.expval(circuit, train_features, weights), train_labels)
        history["train_loss"].append(value)
        return value

    result = minimize(loss, np.asarray(initial_weights, dtype=np.float64), method="COBYLA",
                      options={"maxiter": config.max_iterations, "rhobeg": 0.5})
    with backend.job_tags(purpose="validation"):
        val_out = backend.expval(circuit, val_features, result.x)
    return TrainResult(
        weights=np.asarray(result.x),
        epochs=int(result.nfev),
        converged=bool(result.success),
        best_epoch=int(result.nfev),
        validation_loss=hinge_loss(val_out, val_labels),
        validation_accuracy=accuracy(val_out, val_labels),
        history=history,
    )
