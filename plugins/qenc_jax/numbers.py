"""The per-sample numbers of a plan's steps, computed for all steps at once.

Every angle the plan reads is one column of an angle table (B, P), gathered from
``[features | weights]`` in one take. From it, in a handful of array operations for the whole
plan (so XLA compiles a few kernels, not a few per gate):

- every single-qubit factor ``c I + s (-i G)`` (rotations, ``c, s = cos, sin(theta/2)``) or
  fixed matrix (X, H), (B, Q, F, 2, 2) for Q wire slots of at most F factors (identity
  padding);
- each slot's product, then each local step's matrix: a slot's 2x2, or the 4x4 Kronecker
  product of two slots;
- the angles of two-qubit rotations (B,) and of uniformly controlled rotations (B, 2^k)
  (a scatter by control pattern, then a Walsh-Hadamard transform).

:func:`contract` is the function whose gradient in the angle table, with the adjoint sweep's
sensitivities held fixed, is the gradient of the outputs' sum (see :mod:`.kernels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from .plan import Local, Pair, Plan, Uniform

_PAULI = {
    "RX": np.array([[0, 1], [1, 0]], dtype=complex),
    "RY": np.array([[0, -1j], [1j, 0]]),
    "RZ": np.array([[1, 0], [0, -1]], dtype=complex),
}
_FIXED = {"X": np.array([[0, 1], [1, 0]], dtype=complex), "H": np.array([[1, 1], [1, -1]]) / np.sqrt(2)}
#: where each factor's matrix can be non-zero (for the state kernels to skip structural zeros)
_SUPPORT = {"X": np.array([[0, 1], [1, 0]], bool), "RZ": np.eye(2, dtype=bool)}


@dataclass(frozen=True)
class Tables:
    """Static index tables of a plan (NumPy, built once per plan)."""

    columns: np.ndarray  # (P,) column of [features | weights] per angle
    slot_angle: np.ndarray  # (Q, F) angle per factor, -1 for none
    cos_part: np.ndarray  # (Q, F, 2, 2) coefficient of cos(theta / 2)
    sin_part: np.ndarray  # (Q, F, 2, 2) coefficient of sin(theta / 2)
    fixed_part: np.ndarray  # (Q, F, 2, 2) the rest (fixed gates, identity padding)
    local: dict  # step index -> (group, position in group): group 1 (one wire) or 2 (two wires)
    slots_1: np.ndarray  # (S1,) slot of each one-wire local step
    slots_2: np.ndarray  # (S2, 2) slots of each two-wire local step
    support: dict  # step index -> (d, d) bool: entries that can be non-zero
    pair_angle: dict  # step index -> angle column of a parametrised Pair
    uniform: dict  # step index -> (patterns (K,), angle columns (K,), 2^k)


def _support(factors) -> np.ndarray:
    m = np.eye(2, dtype=bool)
    for gate, _ in factors:
        m = (_SUPPORT.get(gate, np.ones((2, 2), bool)).astype(int) @ m.astype(int)) > 0
    return m


@lru_cache(maxsize=128)
def tables(plan: Plan, n_features: int) -> Tables:
    angles: dict = {}

    def angle(param) -> int:
        return angles.setdefault(param, len(angles))

    slots, local, slots_1, slots_2, support, pair_angle, uniform = [], {}, [], [], {}, {}, {}
    for k, step in enumerate(plan.steps):
        if isinstance(step, Local):
            ids = []
            for factors in step.factors:
                ids.append(len(slots))
                slots.append([(gate, None if param is None else angle(param)) for gate, param in factors])
            group = slots_1 if len(ids) == 1 else slots_2
            local[k] = (len(ids), len(group))
            group.append(ids[0] if len(ids) == 1 else ids)
            masks = [_support(f) for f in step.factors]
            support[k] = masks[0] if len(masks) == 1 else np.kron(masks[0], masks[1]).astype(bool)
        elif isinstance(step, Pair) and step.param is not None:
            pair_angle[k] = angle(step.param)
        elif isinstance(step, Uniform):
            uniform[k] = (np.array([v for v, _ in step.terms]), np.array([angle(p) for _, p in step.terms]),
                          2 ** len(step.controls))
    width = max([len(s) for s in slots] + [1])
    q = max(len(slots), 1)
    slot_angle = np.full((q, width), -1)
    cos_part = np.zeros((q, width, 2, 2), complex)
    sin_part = np.zeros((q, width, 2, 2), complex)
    fixed_part = np.zeros((q, width, 2, 2), complex)
    fixed_part[:, :] = np.eye(2)
    for i, factors in enumerate(slots):
        for j, (gate, a) in enumerate(factors):
            if gate in _FIXED:
                fixed_part[i, j] = _FIXED[gate]
            else:
                slot_angle[i, j] = a
                fixed_part[i, j] = 0
                cos_part[i, j] = np.eye(2)
                sin_part[i, j] = -1j * _PAULI[gate]
    columns = np.array([i if source == "feature" else n_features + i for (source, i) in angles], dtype=np.int64)
    return Tables(columns, slot_angle, cos_part, sin_part, fixed_part, local,
                  np.array(slots_1, dtype=np.int64), np.array(slots_2, dtype=np.int64).reshape(-1, 2),
                  support, pair_angle, uniform)


def angle_table(t: Tables, features, weights):
    """(B, P): every angle the plan reads; ``weights`` is (W,) or per sample (B, W)."""
    batch = features.shape[0]
    both = jnp.concatenate([features, jnp.broadcast_to(weights, (batch, weights.shape[-1]))], axis=1)
    return jnp.take(both, t.columns, axis=1)


def walsh_hadamard(a):
    """``out_p = sum_v a_v (-1)^popcount(v & p)`` over the last axis (length 2^k)."""
    size = a.shape[-1]
    for bit in range(size.bit_length() - 1):
        x = a.reshape(a.shape[:-1] + (size >> (bit + 1), 2, 1 << bit))
        x0, x1 = x[..., :1, :], x[..., 1:, :]
        a = jnp.concatenate([x0 + x1, x0 - x1], axis=-2).reshape(a.shape)
    return a


def _matmul(a, b):
    """Batched 2x2 (or 4x4) products over the last two axes, as broadcasts (no dot kernel)."""
    return jnp.sum(a[..., :, :, None] * b[..., None, :, :], axis=-2)


@dataclass
class Numbers:
    """The numbers of every step: ``one`` (B, S1, 2, 2) and ``two`` (B, S2, 4, 4) local
    matrices, two-qubit angles (B,) and uniform angles (B, 2^k) by step index, and for each
    of those the phase ``exp(-i theta / 2)`` that the state kernels read (the trigonometry
    happens here, once per sample, never once per amplitude)."""

    one: object
    two: object
    pair: dict
    uniform: dict
    phase: dict

    def of(self, t: Tables, k: int):
        if k in t.local:
            group, position = t.local[k]
            return (self.one if group == 1 else self.two)[:, position]
        return self.phase.get(k)


# a pytree, so the numbers pass between compiled programs as arrays
jax.tree_util.register_dataclass(Numbers, data_fields=["one", "two", "pair", "uniform", "phase"], meta_fields=[])


def numbers(t: Tables, angles) -> Numbers:
    batch = angles.shape[0]
    if angles.shape[1]:
        theta = jnp.where(t.slot_angle >= 0, jnp.take(angles, np.maximum(t.slot_angle, 0), axis=1), 0.0) / 2
    else:
        theta = jnp.zeros((batch,) + t.slot_angle.shape)
    factors = (jnp.cos(theta)[..., None, None] * t.cos_part + jnp.sin(theta)[..., None, None] * t.sin_part
               + t.fixed_part)  # (B, Q, F, 2, 2)
    product = factors[:, :, 0]
    for j in range(1, factors.shape[2]):
        product = _matmul(factors[:, :, j], product)
    one = jnp.take(product, t.slots_1, axis=1) if len(t.slots_1) else None
    two = None
    if len(t.slots_2):
        a = jnp.take(product, t.slots_2[:, 0], axis=1)
        b = jnp.take(product, t.slots_2[:, 1], axis=1)
        two = (a[..., :, None, :, None] * b[..., None, :, None, :]).reshape(batch, len(t.slots_2), 4, 4)
    pair = {k: angles[:, a] for k, a in t.pair_angle.items()}
    uniform = {}
    for k, (patterns, columns, size) in t.uniform.items():
        by_pattern = jnp.zeros((batch, size), angles.dtype).at[:, patterns].add(jnp.take(angles, columns, axis=1))
        uniform[k] = walsh_hadamard(by_pattern)
    phase = {k: jnp.exp(-0.5j * theta) for k, theta in (pair | uniform).items()}
    return Numbers(one, two, pair, uniform, phase)


def contract(t: Tables, sensitivities: list, n: Numbers):
    """``sum 2 Re sum_IJ T_IJ C_IJ`` over local steps + ``sum g theta`` over rotations."""
    total = 0.0
    for group, stack in ((1, n.one), (2, n.two)):
        ks = sorted((position, k) for k, (g, position) in t.local.items() if g == group)
        if ks:
            sens = jnp.stack([sensitivities[k] for _, k in ks], axis=1)
            total = total + 2 * jnp.sum(jnp.real(sens * stack))
    for k, theta in list(n.pair.items()) + list(n.uniform.items()):
        total = total + jnp.sum(sensitivities[k] * theta)
    return total
