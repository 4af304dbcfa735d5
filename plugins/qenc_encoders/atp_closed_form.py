"""ATP's ``joint`` search on the one-layer readout model: every candidate mask and restart
trained at once in the model's closed form (the ``exact`` backend's).

A pruned qubit is the full circuit's qubit with its factor c_j forced to 1 (phi_j = 0 and no
gradient), so K candidates are K rows of a weight matrix and one minibatch step, in NumPy,
serves them all, each with its own initial weights, generator, Adam moments and early
stopping. :class:`~qenc_encoders.atp.ATPEncoder` checks the closed form against the training
backend before it uses it; other models train in the engine loop
(:func:`qenc_bench.train_jointly`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from qenc_bench import Adam, Op


def readout_expval(angles: np.ndarray, kept: np.ndarray, theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """The readout model on angle-encoded features, in closed form (the ``exact`` backend's):
    ``<Z> = -Re prod_{j kept} c_j`` with ``c_j = cos(phi_j) + i cos(a_j - theta_j) sin(phi_j)``.

    :param angles: (N, d) the angles ``a = pi x`` of all d pixels.
    :param kept: (R, d) bool, the qubits of each of R models; a dropped qubit's factor is 1.
    :param theta: (R, d) IsingXX weights; :param phi: (R, d) IsingZZ weights (entries of
        dropped qubits are ignored).
    :returns: (R, N) outputs.
    """
    kept = np.asarray(kept, dtype=bool)
    phi = np.where(kept, phi, 0.0)  # phi_j = 0 makes c_j = 1 exactly
    z = np.cos(np.asarray(angles)[None, :, :] - np.asarray(theta)[:, None, :])
    c = np.cos(phi)[:, None, :] + 1j * z * np.sin(phi)[:, None, :]
    return -np.prod(c, axis=2).real


def candidate_expval(x: np.ndarray, kept, weights: np.ndarray) -> np.ndarray:
    """The readout model of the candidate that keeps pixels ``kept`` (in order), for rows of its
    own weights ``weights`` (R, 2 len(kept)): [XX weights | ZZ weights], as the circuit orders
    them. ``x`` (N, d) holds all d pixels; returns (R, N)."""
    cols, n = list(kept), len(kept)
    weights = np.atleast_2d(weights)
    mask = np.zeros((len(weights), x.shape[1]), dtype=bool)
    mask[:, cols] = True
    theta, phi = np.zeros(mask.shape), np.zeros(mask.shape)
    theta[:, cols], phi[:, cols] = weights[:, :n], weights[:, n:]
    return readout_expval(np.pi * x, mask, theta, phi)


_EPOCH_GATHER_LIMIT = 2**22  # complex numbers (64 MB): larger epochs gather every minibatch


@dataclass
class _RunResult:
    """One binary model's training in the joint loop (weights in the full d-qubit layout)."""

    theta: np.ndarray
    phi: np.ndarray
    epochs: int = 0
    converged: bool = False
    best_epoch: int = 0
    validation_loss: float = np.inf
    validation_accuracy: float = 0.0
    history: dict = field(default_factory=lambda: {"train_loss": [], "validation_loss": []})


def train_runs_jointly(angles_train: np.ndarray, angles_val: np.ndarray, kept: np.ndarray, theta0: np.ndarray,
                       phi0: np.ndarray, rngs: list, train_labels: np.ndarray, val_labels: np.ndarray,
                       config) -> tuple[list[_RunResult], dict]:
    """Train R binary readout models (one per row of ``kept``) at once, each exactly as
    :func:`qenc_bench.training.train` would with Adam: its own initial weights, its own
    generator shuffling its minibatches, its own Adam moments and early stopping on validation
    hinge loss (best-validation weights kept). Runs that stop leave the loop; it ends with the
    last one.

    :param angles_train: (N, d), :param angles_val: (M, d): ``pi x`` for all d pixels.
    :param kept: (R, d) bool; :param theta0, phi0: (R, d) initial weights (full layout).
    :param rngs: R generators; :param train_labels: (R, N), :param val_labels: (R, M) in {0, 1}.
    :returns: one result per run, and the loop's cost: ``{"loop_epochs", "minibatch_steps"}``.
    """
    kept = np.asarray(kept, dtype=bool)
    n_runs, d = kept.shape
    n = angles_train.shape[0]
    batch = config.batch_size
    # pixels on the first axis: products over qubits reduce over a leading axis (fast)
    e_train = np.ascontiguousarray(np.exp(1j * angles_train).T)  # (d, N): e^{i a}
    e_val = np.ascontiguousarray(np.exp(1j * angles_val).T)
    results = [_RunResult(theta=np.array(theta0[r], dtype=np.float64), phi=np.where(kept[r], phi0[r], 0.0))
               for r in range(n_runs)]
    ids = np.arange(n_runs)  # the active runs
    weights = np.concatenate([theta0.T, np.where(kept, phi0, 0.0).T]).astype(np.float64)  # (2d, R)
    grad_mask = np.concatenate([kept.T, kept.T]).astype(np.float64)
    adam = Adam(config.learning_rate)  # elementwise: a column of moments per run
    ys_active = 2.0 * np.asarray(train_labels, dtype=np.float64) - 1.0  # rows: the active runs
    ys_val = 2.0 * np.asarray(val_labels, dtype=np.float64) - 1.0
    val_positive = ys_val > 0
    best_loss = np.full(n_runs, np.inf)
    since_best = np.zeros(n_runs, dtype=int)
    batch_sizes = np.array([min(batch, n - i // batch * batch) for i in range(n)], dtype=np.float64)
    step = 0
    loop_epochs = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for epoch in range(1, config.max_epochs + 1):
            loop_epochs = epoch
            n_active = len(ids)
            orders = np.stack([rngs[r].permutation(n) for r in ids])  # (A, N)
            rows = np.arange(n_active)[:, None]
            # this epoch's samples in minibatch order (each minibatch a slice), unless too large
            gathered = d * n_active * n <= _EPOCH_GATHER_LIMIT
            if gathered:
                e_epoch = np.take(e_train, orders.ravel(), axis=1).reshape(d, n_active, n)
            ys_epoch = ys_active[rows, orders]
            cot_epoch = -ys_epoch / batch_sizes  # the hinge cotangent where the margin is positive
            margins = []  # per minibatch 1 - y f: the epoch's training loss, summed at its end
            c = np.empty((d, n_active, batch), dtype=complex)
            grad = np.empty((2 * d, n_active))
            for start in range(0, n, batch):
                stop_at = min(start + batch, n)
                if stop_at - start != c.shape[2]:
                    c = np.empty((d, n_active, stop_at - start), dtype=complex)
                cos_w, sin_w = np.cos(weights), np.sin(weights)
                sp, cp = sin_w[d:], cos_w[d:]
                e_batch = e_epoch[:, :, start:stop_at] if gathered else np.take(
                    e_train, orders[:, start:stop_at].ravel(), axis=1).reshape(d, n_active, stop_at - start)
                u = e_batch * (cos_w[:d] - 1j * sin_w[:d])[:, :, None]  # e^{i (a - theta)}
                c.real[...] = cp[:, :, None]  # c_j = cos(phi_j) + i z_j sin(phi_j), z = Re u
                np.multiply(u.real, sp[:, :, None], out=c.imag)
                prod = np.multiply.reduce(c, axis=0)  # (A, nb)
                margin = 1.0 + ys_epoch[:, start:stop_at] * prod.real  # 1 - y f with f = -Re prod
                margins.append(margin)
                cot = np.where(margin > 0, cot_epoch[:, start:stop_at], 0.0)  # d(mean hinge)/df
                q = (prod * cot)[None] / c  # cot * prod_{k != j} c_k
                s_re = q.real.sum(axis=2)  # sum_b cot Re(others)
                s_im = (q.imag * u).sum(axis=2)  # sum_b cot Im(others) e^{i (a - theta)}
                _gradient(grad, sp, cp, s_re, s_im, grad_mask)
                if not math.isfinite(grad.sum()):  # a factor is exactly 0: products without it
                    q = _products_without_each(c) * cot[None]
                    _gradient(grad, sp, cp, q.real.sum(axis=2), (q.imag * u).sum(axis=2), grad_mask)
                step += 1
                weights = adam.step(weights, grad)
            train_loss = np.maximum(np.concatenate(margins, axis=1), 0.0).sum(axis=1)
            theta, phi = weights[:d], weights[d:]
            z = (e_val[:, None, :] * (np.cos(theta) - 1j * np.sin(theta))[:, :, None]).real  # (d, A, M)
            out = -np.multiply.reduce(np.cos(phi)[:, :, None] + 1j * (z * np.sin(phi)[:, :, None]), axis=0).real
            val_loss = np.mean(np.maximum(0.0, 1.0 - ys_val[ids] * out), axis=1)
            val_acc = np.mean((out > 0) == val_positive[ids], axis=1)
            improved = val_loss < best_loss[ids] - config.min_delta
            stop = np.zeros(n_active, dtype=bool)
            for i, r in enumerate(ids):
                res = results[r]
                res.epochs = epoch
                res.history["train_loss"].append(float(train_loss[i] / n))
                res.history["validation_loss"].append(float(val_loss[i]))
                if improved[i]:
                    best_loss[r] = val_loss[i]
                    res.theta, res.phi = theta[:, i].copy(), phi[:, i].copy()
                    res.best_epoch, res.validation_loss = epoch, float(val_loss[i])
                    res.validation_accuracy = float(val_acc[i])
                    since_best[r] = 0
                else:
                    since_best[r] += 1
                    if since_best[r] >= config.patience:
                        res.converged = stop[i] = True
            if stop.all():
                break
            if stop.any():  # the stopped runs leave the loop
                keep = ~stop
                ids, ys_active = ids[keep], ys_active[keep]
                weights, adam.m, adam.v, grad_mask = (np.ascontiguousarray(a[:, keep])
                                                      for a in (weights, adam.m, adam.v, grad_mask))
    return results, {"loop_epochs": loop_epochs, "minibatch_steps": step}


def _gradient(out: np.ndarray, sp, cp, s_re, s_im, grad_mask) -> None:
    """d(loss)/d(theta) then d(loss)/d(phi) into ``out`` (2d, A), zero for dropped qubits."""
    d = len(sp)
    np.multiply(sp, s_im.imag, out=out[:d])
    np.multiply(sp, s_re, out=out[d:])
    out[d:] += cp * s_im.real
    out *= grad_mask


def _products_without_each(c: np.ndarray) -> np.ndarray:
    """prod_{k != j} c_k along axis 0 for every j, by prefix and suffix products."""
    ones = np.ones_like(c[:1])
    before = np.cumprod(np.concatenate([ones, c[:-1]]), axis=0)
    after = np.cumprod(np.concatenate([ones, c[:0:-1]]), axis=0)[::-1]
    return before * after


@lru_cache(maxsize=64)
def readout_ops(n: int) -> tuple[Op, ...]:
    """The one-layer readout model's ops on angle encoding of n pixels (weights: XX then ZZ)."""
    r = n
    return (Op("X", (r,)), Op("H", (r,)), *(Op("RX", (j,), "feature", j) for j in range(n)),
            *(Op("IsingXX", (j, r), "weight", j) for j in range(n)),
            *(Op("IsingZZ", (j, r), "weight", n + j) for j in range(n)), Op("H", (r,)))
