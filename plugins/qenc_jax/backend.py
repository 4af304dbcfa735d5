"""The ``jax`` backend: batched statevectors compiled by XLA, one program per circuit structure.

A circuit is planned once (:mod:`.plan`), and each of its three functions (values; values and
per-sample gradients; reduced density matrices of a set of wires) is compiled once per batch
shape, with the features and weights as arguments: training steps, restarts and seeds reuse
the compiled code. A batch runs in chunks of ``chunk_rows(n)`` rows, so the states of a chunk
stay in cache and memory stays bounded; the last chunk is padded to a power of two, so a
circuit sees a handful of shapes (and compiles) at most.

Gradients use the adjoint method (:mod:`.kernels`): per sample two states in flight, whatever
the circuit's depth. ``expval_vjp`` computes values, per-sample weight gradients (N, W) and,
when asked, feature gradients (N, F) in one pass; its pull-back is a contraction with the
cotangent in NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import numpy as np

from qenc_bench import Backend, Circuit, ConfigError, Gradients, IncompatibleComponentsError, partial_trace

from . import kernels
from .capabilities import CAPABILITIES, DEVICES, MEMORY_BUDGET_BYTES, STATES_PER_SAMPLE, chunk_rows
from .plan import Plan, plan_circuit


def _device(name: str) -> jax.Device:
    if name not in DEVICES:
        raise ConfigError(f"backend 'jax': unknown device {name!r}; use {' or '.join(DEVICES)}")
    platform = "gpu" if name == "gpu" else "cpu"
    try:
        devices = jax.devices(platform)
    except RuntimeError:
        devices = []
    if not devices:
        found = ", ".join(sorted({d.platform for d in jax.devices()}))
        raise IncompatibleComponentsError(
            f"backend 'jax' --device gpu needs JAX's CUDA backend, which is not installed or finds no GPU "
            f"(JAX sees: {found}); install it with pip install \"jax[cuda12]\", or use --device cpu"
        )
    return devices[0]


def _padded_size(rows: int, chunk: int) -> int:
    """The compiled batch size for ``rows`` (<= chunk) rows: the next power of two."""
    return min(chunk, 1 << max(0, rows - 1).bit_length())


class _Programs:
    """A circuit's plan and its compiled functions (jit caches one executable per shape)."""

    def __init__(self, circuit: Circuit):
        self.plan: Plan = plan_circuit(circuit)
        plan = self.plan
        self.expval = jax.jit(partial(_expval, plan))
        # one program for training and attacks (the feature gradients cost no pass over a
        # state), one array back: [values | weight gradients | feature gradients] per row
        self.jacobians = jax.jit(partial(_jacobians, plan))
        # one program for statevectors and every set of wires' reduced states (NumPy's partial trace)
        self.states = jax.jit(partial(_states, plan))


def _expval(plan: Plan, features, weights):
    state, sizes = kernels.forward(plan, features, weights)
    return kernels.expval_z(state, sizes, plan.readout)


def _jacobians(plan: Plan, features, weights):
    values, jac_w, jac_f = kernels.values_and_jacobians(plan, features, weights)
    return jax.numpy.concatenate([values[:, None], jac_w, jac_f], axis=1)


def _states(plan: Plan, features, weights):
    state, sizes = kernels.forward(plan, features, weights)
    return kernels.full_statevector(state, sizes)


class JaxBackend(Backend):
    """Statevector simulation of any :class:`~qenc_bench.Circuit` with JAX (complex128).

    :param device: ``"cpu"`` (default) or ``"gpu"`` (JAX's CUDA backend).
    """

    name = "jax"
    capabilities = CAPABILITIES
    input_gradient_method = "adjoint method (exact)"

    def __init__(self, device: str = "cpu"):
        jax.config.update("jax_enable_x64", True)  # complex128 states; float32 would lose 1e-10
        self.device_name = device
        self.device = _device(device)
        self._default_device = self.device == jax.devices()[0]
        self._programs: dict[Circuit, _Programs] = {}

    def info(self) -> dict:
        return {"device": self.device_name, "jax": jax.__version__, "platform": self.device.platform}

    def check(self, circuit: Circuit) -> None:
        limit = self.capabilities.max_qubits
        if circuit.n_qubits > limit:
            need = STATES_PER_SAMPLE * 16 * 2**circuit.n_qubits / 2**30
            raise IncompatibleComponentsError(
                f"backend 'jax' runs at most {limit} qubits ({STATES_PER_SAMPLE} complex128 statevectors per "
                f"sample within {MEMORY_BUDGET_BYTES / 2**30:g} GiB); this circuit has {circuit.n_qubits} "
                f"({need:g} GiB per sample)"
            )

    def _program(self, circuit: Circuit) -> _Programs:
        self.check(circuit)
        if circuit not in self._programs:
            self._programs[circuit] = _Programs(circuit)
        return self._programs[circuit]

    def _chunks(self, circuit: Circuit, features: np.ndarray):
        """(rows, padded features on the device) per chunk of the batch."""
        chunk = chunk_rows(circuit.n_qubits)
        for start in range(0, len(features), chunk):
            block = features[start : start + chunk]
            size = _padded_size(len(block), chunk)
            if size > len(block):
                block = np.concatenate([block, np.zeros((size - len(block), block.shape[1]))])
            yield slice(start, start + min(chunk, len(features) - start)), self._put(block)

    def _put(self, array: np.ndarray):
        """On the default device, NumPy arrays go to the compiled call as they are (one copy
        fewer per call); elsewhere they are placed on the device first."""
        return array if self._default_device else jax.device_put(array, self.device)

    def _inputs(self, features, weights):
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2:
            raise ConfigError(f"backend 'jax': features must be (N, F), got shape {features.shape}")
        return features, self._put(np.asarray(weights, dtype=np.float64))

    def expval(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        programs = self._program(circuit)
        features, weights = self._inputs(features, weights)
        out = np.empty(len(features))
        for rows, block in self._chunks(circuit, features):
            out[rows] = np.asarray(programs.expval(block, weights))[: rows.stop - rows.start]
        return out

    def expval_vjp(self, circuit, features, weights, *, features_grad: bool = False):
        programs = self._program(circuit)
        features, device_weights = self._inputs(features, weights)
        n = len(features)
        values = np.empty(n)
        jac_w = np.empty((n, circuit.n_weights))
        jac_f = np.empty((n, features.shape[1])) if features_grad else None
        w = circuit.n_weights
        for rows, block in self._chunks(circuit, features):
            out = np.asarray(programs.jacobians(block, device_weights))[: rows.stop - rows.start]
            values[rows] = out[:, 0]
            jac_w[rows] = out[:, 1 : 1 + w]
            if features_grad:
                jac_f[rows] = out[:, 1 + w :]

        def pull_back(cotangent: np.ndarray) -> Gradients:
            cotangent = np.asarray(cotangent, dtype=np.float64)
            return Gradients(
                weights=cotangent @ jac_w,
                features=cotangent[:, None] * jac_f if features_grad else None,
            )

        return values, pull_back

    def reduced_density_matrix(self, circuit, features, weights, wires: Sequence[int]) -> np.ndarray:
        programs = self._program(circuit)
        wires = tuple(int(w) for w in wires)
        if len(set(wires)) != len(wires) or not all(0 <= w < circuit.n_qubits for w in wires):
            raise ConfigError(f"backend 'jax': wires {wires} must be distinct wires of 0..{circuit.n_qubits - 1}")
        features, weights = self._inputs(features, weights)
        k = len(wires)
        out = np.empty((len(features), 2**k, 2**k), dtype=complex)
        for rows, block in self._chunks(circuit, features):
            states = np.asarray(programs.states(block, weights))[: rows.stop - rows.start]
            out[rows] = partial_trace(states, circuit.n_qubits, wires)
        return out

    def statevector(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(N, 2^n) final states, wire 0 the most significant bit (PennyLane's order)."""
        programs = self._program(circuit)
        features, weights = self._inputs(features, weights)
        out = np.empty((len(features), 2**circuit.n_qubits), dtype=complex)
        for rows, block in self._chunks(circuit, features):
            out[rows] = np.asarray(programs.states(block, weights))[: rows.stop - rows.start]
        return out
