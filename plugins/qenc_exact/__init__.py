"""The ``exact`` backend: the paper's readout model solved in closed form, O(n) per sample.

Why it is exact (derivation in docs/readout-model.md). The readout qubit r is prepared in
|->, an eigenstate of X with eigenvalue -1, so each coupling ``IsingXX(theta_j)`` on (j, r)
acts on data qubit j alone, as ``RX(-theta_j)``. Data qubit j then has Bloch vector b_j and
``z_j = -b_jy sin(theta_j) + b_jz cos(theta_j)``. The ``IsingZZ(phi_j)`` layer applies
``RZ(+phi_j)`` to every data qubit when the readout is |0> and ``RZ(-phi_j)`` when it is |1>,
giving (|A>|0> - |B>|1>)/sqrt(2) with |A>, |B> product states and

    <A|B> = prod_j c_j,   c_j = cos(phi_j) + i z_j sin(phi_j).

After the final H on the readout, ``<Z_r> = -Re prod_j c_j``; the readout's reduced state has
eigenvalues (1 +- |prod_j c_j|) / 2, and any cut has Schmidt rank <= 2, so a cut's entropy is
H2((1 + |prod_{j in D} c_j|) / 2) with D the data qubits on the side without the readout.

Depolarizing noise after every gate (the convention of :mod:`qenc_bench.noise`: a 1-qubit
channel of strength l1 = 4p/3 after 1-qubit gates, a 2-qubit channel of strength l2 = 16p/15
after 2-qubit gates) keeps a closed form, O(n) per sample:

- after the feature map's 1-qubit gates, data qubit j's Bloch vector shrinks by (1 - l1) per gate;
- the readout's preparation (X, H, each followed by noise) leaves a mixture of the X
  eigenstates, |-> with weight (1 + (1 - l1)^2) / 2 and |+> with the rest;
- during the XX layer the readout stays a mixture of X eigenstates s = -1, +1; from s, the
  coupling to data qubit k acts as RX(s theta_k) on it. The channel after it either leaves the
  pair alone (1 - l2) or replaces both by the maximally mixed state (l2): data qubit k is then
  fully mixed (z_k = 0) and the readout sign uniformly random. This is a two-state chain over
  s, walked gate by gate in circuit order, carrying the product of the c_k;
- in the ZZ layer (Heisenberg picture) every Pauli string of the evolved observable acts on
  the readout, so each channel after a ZZ coupling scales the output by (1 - l2), and the one
  after the final H by (1 - l1).

The result, <Z_r> = (1 - l1)(1 - l2)^(ZZ couplings) sum_s s Re v_s, agrees with Aer's
density-matrix simulation to 1e-10 (tests/test_exact_noise.py).

Circuits outside this family (entangling feature maps, more than one coupling layer, other
ansatzes) are refused with an error naming a statevector backend to use instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from qenc_bench import (
    AutoPolicy,
    Backend,
    BackendSpec,
    Capabilities,
    Circuit,
    ConfigError,
    Gradients,
    IncompatibleComponentsError,
    binary_entropy,
    hookimpl,
)

CAPABILITIES = Capabilities(
    gradients=True, input_gradients=True, noise=True, entropy=True, shots=True, max_qubits=1_000_000
)
_SINGLE = {"X", "H", "RX", "RY", "RZ"}


@dataclass(frozen=True)
class _Group:
    """Ops of one gate type at the same position of their wires' sequences: applied at once."""

    gate: str
    slots: np.ndarray  # data-wire slots (index into the data-wire axis)
    feature_cols: np.ndarray  # feature column per op, -1 when the angle is a weight
    weight_idx: np.ndarray  # weight index per op, -1 when the angle is a feature


@dataclass(frozen=True)
class _Plan:
    data_wires: tuple[int, ...]
    groups: tuple[_Group, ...]
    xx_weight: np.ndarray  # per data slot, weight index of its IsingXX (-1: none)
    zz_weight: np.ndarray
    xx_order: tuple[int, ...] = ()  # data slots in the order of their IsingXX gates


def _refuse(reason: str) -> IncompatibleComponentsError:
    return IncompatibleComponentsError(
        f"backend 'exact' solves only the readout model (one XX then ZZ coupling layer, "
        f"product-state feature map): {reason}; use --backend auto, jax or pennylane"
    )


@lru_cache(maxsize=64)
def _plan(circuit: Circuit) -> _Plan:
    r = circuit.readout
    data_wires = tuple(w for w in range(circuit.n_qubits) if w != r)
    slot = {w: i for i, w in enumerate(data_wires)}
    n = len(data_wires)
    position = [0] * n
    grouped: dict[tuple[int, str], list] = {}
    readout_ops: list[str] = []
    xx = np.full(n, -1)
    zz = np.full(n, -1)
    xx_order: list[int] = []
    stage = "prep"  # prep -> xx -> zz -> done
    for op in circuit.ops:
        if op.gate in _SINGLE and op.wires == (r,):
            if stage == "prep":
                readout_ops.append(op.gate)
                continue
            if stage in ("xx", "zz") and op.gate == "H":
                stage = "done"
                continue
            raise _refuse(f"{op.gate} on the readout after the couplings")
        if stage == "done":
            raise _refuse(f"{op.gate} after the final H on the readout")
        if op.gate in _SINGLE:
            if stage != "prep":
                raise _refuse(f"{op.gate} on data wire {op.wires[0]} after the couplings")
            s = slot[op.wires[0]]
            grouped.setdefault((position[s], op.gate), []).append((s, op))
            position[s] += 1
            continue
        if op.gate not in ("IsingXX", "IsingZZ") or r not in op.wires or op.source != "weight":
            raise _refuse(f"{op.gate} on wires {op.wires} (only weighted IsingXX/IsingZZ to the readout)")
        s = slot[op.wires[0] if op.wires[1] == r else op.wires[1]]
        if op.gate == "IsingXX":
            if stage not in ("prep", "xx"):
                raise _refuse("an IsingXX after the ZZ layer (more than one layer)")
            if readout_ops != ["X", "H"]:
                raise _refuse(f"the readout must be prepared by X then H, got {readout_ops}")
            stage = "xx"
            table = xx
            xx_order.append(s)
        else:
            if stage == "prep" and readout_ops != ["X", "H"]:
                raise _refuse(f"the readout must be prepared by X then H, got {readout_ops}")
            stage = "zz"
            table = zz
        if table[s] != -1:
            raise _refuse(f"two {op.gate} couplings on data wire {data_wires[s]}")
        table[s] = op.index
    if stage != "done":
        raise _refuse("the circuit must end with H on the readout")
    groups = []
    for (_, gate), members in sorted(grouped.items(), key=lambda kv: kv[0][0]):
        slots = np.array([s for s, _ in members])
        fcols = np.array([op.index if op.source == "feature" else -1 for _, op in members])
        widx = np.array([op.index if op.source == "weight" else -1 for _, op in members])
        groups.append(_Group(gate, slots, fcols, widx))
    return _Plan(data_wires, tuple(groups), xx, zz, tuple(xx_order))


def _angles(group: _Group, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    angles = np.empty((len(features), len(group.slots)))
    f = group.feature_cols >= 0
    angles[:, f] = features[:, group.feature_cols[f]]
    angles[:, ~f] = weights[group.weight_idx[~f]]
    return angles


def _rotate(gate: str, b: np.ndarray, a: np.ndarray | None) -> np.ndarray:
    """Bloch vectors b (..., 3) after one single-qubit gate (angles a broadcast to b[..., 0])."""
    x, y, z = b[..., 0], b[..., 1], b[..., 2]
    if gate == "X":
        return np.stack([x, -y, -z], axis=-1)
    if gate == "H":
        return np.stack([z, -y, x], axis=-1)
    c, s = np.cos(a), np.sin(a)
    if gate == "RX":
        return np.stack([x, c * y - s * z, s * y + c * z], axis=-1)
    if gate == "RY":
        return np.stack([c * x + s * z, y, -s * x + c * z], axis=-1)
    return np.stack([c * x - s * y, s * x + c * y, z], axis=-1)  # RZ


def _rotate_back(gate: str, b_in: np.ndarray, a: np.ndarray | None, g: np.ndarray):
    """Reverse mode of :func:`_rotate`: (grad w.r.t. b_in, grad w.r.t. the angle or None)."""
    gx, gy, gz = g[..., 0], g[..., 1], g[..., 2]
    if gate == "X":
        return np.stack([gx, -gy, -gz], axis=-1), None
    if gate == "H":
        return np.stack([gz, -gy, gx], axis=-1), None
    x, y, z = b_in[..., 0], b_in[..., 1], b_in[..., 2]
    c, s = np.cos(a), np.sin(a)
    if gate == "RX":
        gb = np.stack([gx, c * gy + s * gz, -s * gy + c * gz], axis=-1)
        ga = gy * (-s * y - c * z) + gz * (c * y - s * z)
    elif gate == "RY":
        gb = np.stack([c * gx - s * gz, gy, s * gx + c * gz], axis=-1)
        ga = gx * (-s * x + c * z) + gz * (-c * x - s * z)
    else:
        gb = np.stack([c * gx + s * gy, -s * gx + c * gy, gz], axis=-1)
        ga = gx * (-s * x - c * y) + gy * (c * x - s * y)
    return gb, ga


def _gather(table: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.where(table >= 0, weights[np.maximum(table, 0)], 0.0)


class ExactReadoutBackend(Backend):
    """Closed-form evaluation of the readout model; see the module docstring.

    :param shots: ``None`` for exact expectation values; else ``expval`` and ``noisy_expval``
        sample: each value is the mean of ``shots`` measurements of Z on the readout, drawn from
        the closed-form probability P(+1) = (1 + <Z>) / 2 (a binomial, as a device would give).
        Gradients stay exact (training is shot-free).
    :param seed: seeds the shot sampling.
    """

    name = "exact"
    capabilities = CAPABILITIES
    input_gradient_method = "closed form (exact)"

    def __init__(self, shots: int | None = None, seed: int | None = None):
        if shots is not None and (isinstance(shots, bool) or not isinstance(shots, (int, np.integer)) or shots < 1):
            raise ConfigError(f"shots must be a positive integer or left out (exact), got {shots!r}")
        self.shots = None if shots is None else int(shots)
        self._rng = np.random.default_rng(seed)

    def _sampled(self, values: np.ndarray) -> np.ndarray:
        if self.shots is None:
            return values
        ups = self._rng.binomial(self.shots, np.clip((1.0 + values) / 2.0, 0.0, 1.0))
        return 2.0 * ups / self.shots - 1.0

    def check(self, circuit: Circuit) -> None:
        _plan(circuit)

    def _forward(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray):
        plan = _plan(circuit)
        features = np.asarray(features, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64)
        n_samples = len(features)
        bloch = np.zeros((n_samples, len(plan.data_wires), 3))
        bloch[..., 2] = 1.0
        tape = []
        for group in plan.groups:
            angles = None if group.gate in ("X", "H") else _angles(group, features, weights)
            b_in = bloch[:, group.slots, :]
            bloch[:, group.slots, :] = _rotate(group.gate, b_in, angles)
            tape.append((group, b_in, angles))
        theta = _gather(plan.xx_weight, weights)
        phi = _gather(plan.zz_weight, weights)
        z = -bloch[..., 1] * np.sin(theta) + bloch[..., 2] * np.cos(theta)
        c = np.cos(phi) + 1j * z * np.sin(phi)  # (N, n)
        return plan, bloch, tape, theta, phi, z, c

    def expval(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        c = self._forward(circuit, features, weights)[-1]
        return self._sampled(-np.prod(c, axis=1).real)

    def coupling_factors(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The factors c_j (N, n_data) whose product is <A|B>."""
        return self._forward(circuit, features, weights)[-1]

    def expval_vjp(self, circuit, features, weights, *, features_grad: bool = False):
        plan, bloch, tape, theta, phi, z, c = self._forward(circuit, features, weights)
        values = -np.prod(c, axis=1).real
        n_weights = len(weights)

        def vjp(cotangent: np.ndarray) -> Gradients:
            cot = np.asarray(cotangent, dtype=np.float64)[:, None]
            ones = np.ones((len(c), 1), dtype=complex)
            before = np.cumprod(np.concatenate([ones, c[:, :-1]], axis=1), axis=1)
            after = np.cumprod(np.concatenate([ones, c[:, :0:-1]], axis=1), axis=1)[:, ::-1]
            others = before * after  # prod over k != j, stable where a factor vanishes
            d_phi = -(others * (-np.sin(phi) + 1j * z * np.cos(phi))).real * cot
            d_z = others.imag * np.sin(phi) * cot
            d_theta = d_z * (-bloch[..., 1] * np.cos(theta) - bloch[..., 2] * np.sin(theta))
            g_bloch = np.zeros_like(bloch)
            g_bloch[..., 1] = d_z * -np.sin(theta)
            g_bloch[..., 2] = d_z * np.cos(theta)
            g_w = np.zeros(n_weights)
            for table, d in ((plan.xx_weight, d_theta), (plan.zz_weight, d_phi)):
                has = table >= 0
                np.add.at(g_w, table[has], d[:, has].sum(axis=0))
            g_f = np.zeros_like(features, dtype=np.float64) if features_grad else None
            for group, b_in, angles in reversed(tape):
                g_out = g_bloch[:, group.slots, :]
                g_in, g_angle = _rotate_back(group.gate, b_in, angles, g_out)
                g_bloch[:, group.slots, :] = g_in
                if g_angle is None:
                    continue
                f = group.feature_cols >= 0
                if g_f is not None and f.any():
                    np.add.at(g_f, (slice(None), group.feature_cols[f]), g_angle[:, f])
                if (~f).any():
                    np.add.at(g_w, group.weight_idx[~f], g_angle[:, ~f].sum(axis=0))
            return Gradients(weights=g_w, features=g_f)

        return values, vjp

    def check_noise(self, circuit: Circuit) -> None:
        super().check_noise(circuit)
        _plan(circuit)  # any circuit of the family: the noisy closed form has no size limit

    def noisy_expval(self, circuit: Circuit, features, weights, noise) -> np.ndarray:
        """``<Z_r>`` with depolarizing noise after every gate, in closed form (module docstring)."""
        plan, bloch, _, theta, phi, _, _ = self._forward(circuit, features, weights)
        l1, l2 = noise.aer_lambda_1q, noise.aer_lambda_2q
        gates_per_slot = np.zeros(len(plan.data_wires))
        for group in plan.groups:
            np.add.at(gates_per_slot, group.slots, 1)
        b = bloch * ((1.0 - l1) ** gates_per_slot)[None, :, None]
        cos_phi, sin_phi = np.cos(phi), np.sin(phi)

        def factor(slot: int, sign: float) -> np.ndarray:
            z = sign * b[:, slot, 1] * np.sin(theta[slot]) + b[:, slot, 2] * np.cos(theta[slot])
            return cos_phi[slot] + 1j * z * sin_phi[slot]

        q_minus = (1.0 + (1.0 - l1) ** 2) / 2.0
        v = {-1.0: np.full(len(b), q_minus, dtype=complex), 1.0: np.full(len(b), 1.0 - q_minus, dtype=complex)}
        for k in plan.xx_order:  # the two-state chain over the readout's X sign
            reset = l2 * 0.5 * cos_phi[k] * (v[-1.0] + v[1.0])
            v = {sign: (1.0 - l2) * v[sign] * factor(k, sign) + reset for sign in (-1.0, 1.0)}
        uncoupled = [j for j in range(len(plan.data_wires)) if plan.xx_weight[j] < 0]
        rest = np.prod([factor(j, 1.0) for j in uncoupled], axis=0) if uncoupled else 1.0
        zz_couplings = int(np.sum(plan.zz_weight >= 0))
        total = (v[1.0] - v[-1.0]) * rest
        return self._sampled((1.0 - l1) * (1.0 - l2) ** zz_couplings * total.real)

    def entropy(self, circuit: Circuit, features, weights, wires: Sequence[int]) -> np.ndarray:
        plan, *_, c = self._forward(circuit, features, weights)
        wires = set(wires)
        data = [i for i, w in enumerate(plan.data_wires) if (w in wires) != (circuit.readout in wires)]
        overlap = np.abs(np.prod(c[:, data], axis=1)) if data else np.ones(len(c))
        return binary_entropy((1.0 + np.clip(overlap, 0.0, 1.0)) / 2.0)


@hookimpl
def qenc_bench_register_backends(register):
    register(
        BackendSpec(
            name="exact",
            factory=ExactReadoutBackend,
            description="closed-form readout model: O(n) per sample, any number of qubits, depolarizing noise in closed form",
            capabilities=CAPABILITIES,
            auto=AutoPolicy(priority=10),
        )
    )
