"""Training: hinge loss, Adam, minibatches, early stopping on validation loss.

Every encoder in a comparison is trained with the same :class:`TrainConfig`. Training stops
when the validation loss has not improved by ``min_delta`` for ``patience`` epochs
(``converged=True``) or at ``max_epochs`` (``converged=False``, flagged in the table); the
weights of the best validation epoch are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

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


def restart_seed(seed: int, model: int | None, restart: int) -> list[int] | int:
    """The generator seed of one initialisation: restart 0 keeps the seed a single training
    always had (``seed``, or ``[seed, c]`` for class c of one-vs-rest)."""
    base = [seed] if model is None else [seed, model]
    if restart == 0:
        return base[0] if model is None else base
    return [*base, 1_000_003, restart]


class Adam:
    """Adam (Kingma and Ba) on a flat parameter vector."""

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
    """d(mean hinge loss)/d(outputs) for labels in {0, 1}."""
    y = 2.0 * labels - 1.0
    return np.where(1.0 - y * outputs > 0, -y, 0.0) / len(outputs)


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
