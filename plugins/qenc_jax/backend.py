"""The ``jax`` backend: batched statevectors compiled by XLA, one program per circuit structure.

A circuit is planned once (:mod:`.plan`), and each of its three functions (values; values and
per-sample gradients; statevectors, for reduced density matrices) is compiled once per batch
shape, with the features and weights as arguments (and, for plans with two-qubit or uniformly
controlled rotations, a fourth that computes the per-sample numbers apart, see
:class:`_Programs`): training steps, restarts and seeds reuse
the compiled code. A batch runs in chunks of ``chunk_rows(n)`` rows, so the states of a chunk
stay in cache and memory stays bounded; the last chunk is padded to a power of two of at least
``MIN_PADDED_ROWS`` rows, so a circuit sees a handful of shapes (and compiles) at most.

Gradients use the adjoint method (:mod:`.kernels`): per sample two states in flight, whatever
the circuit's depth. ``expval_vjp`` computes values, per-sample weight gradients (N, W) and,
when asked, feature gradients (N, F) in one pass; its pull-back is a contraction with the
cotangent in NumPy.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import partial

import jax
import numpy as np

from qenc_bench import (
    Backend,
    Circuit,
    ConfigError,
    Gradients,
    IncompatibleComponentsError,
    cache_dir,
    partial_trace,
)

from . import kernels
from .capabilities import CAPABILITIES, DEVICES, MEMORY_BUDGET_BYTES, STATES_PER_SAMPLE, chunk_rows
from .plan import Pair, Plan, Uniform, plan_circuit

#: compiles at least this long are kept in the persistent cache (when it is ours)
PERSIST_MIN_COMPILE_SECONDS = 0.1
#: the persistent cache's size bound (when it is ours): least recently used programs go first
PERSIST_MAX_BYTES = 2**30


def _persistent_cache() -> None:
    """Keep compiled programs across processes (JAX's persistent compilation cache) under the
    user cache, ``<cache>/jax``, unless JAX's own cache directory is configured: a repeated run,
    a sweep's workers and the next seed's process skip the seconds each compile costs. It keeps
    compiles of ``PERSIST_MIN_COMPILE_SECONDS`` or more, at most ``PERSIST_MAX_BYTES`` (file
    locked, so processes share it). Turned off by ``JAX_ENABLE_COMPILATION_CACHE=false``; an
    unwritable cache only turns it off."""
    if jax.config.jax_compilation_cache_dir or os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return
    path = cache_dir() / "jax"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    if os.access(path, os.W_OK):
        jax.config.update("jax_compilation_cache_dir", str(path))
        if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
            # JAX keeps only compiles of 1 s or more by default; ATP's candidate circuits and a
            # metric's programs compile in 0.1-0.6 s each, and many of them add up
            jax.config.update("jax_persistent_cache_min_compile_time_secs", PERSIST_MIN_COMPILE_SECONDS)
        if "JAX_COMPILATION_CACHE_MAX_SIZE" not in os.environ and importlib.util.find_spec("filelock"):
            # a bound turns on JAX's eviction, which takes a file lock around every read and
            # write: a sweep's worker processes share the cache without reading a half-written
            # program (without a bound, JAX writes unlocked and the cache grows forever)
            jax.config.update("jax_compilation_cache_max_size", PERSIST_MAX_BYTES)
        if jax.config.jax_compilation_cache_max_size != -1:
            _repair_access_times(path)


def _repair_access_times(path) -> None:
    """Give every entry of a bounded cache the access-time file JAX's eviction reads. Entries
    written without a bound (by an earlier version, or with ``JAX_COMPILATION_CACHE_MAX_SIZE=-1``)
    have none, and then every later write failed with a warning and was lost. They get the
    oldest time, so they are the first to go."""
    for entry in path.glob("*-cache"):
        atime = entry.with_name(entry.name[: -len("-cache")] + "-atime")
        if not atime.exists():
            try:
                atime.write_bytes((0).to_bytes(8, "little"))
            except OSError:
                return


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


#: the fewest rows a compiled call takes (the training minibatch's default): smaller batches
#: (the last minibatch of an epoch, a metric's few states) are padded up to it, so they share
#: its program instead of compiling their own (a compile costs 1-12 s, padding microseconds)
MIN_PADDED_ROWS = 32


def _padded_size(rows: int, chunk: int) -> int:
    """The compiled batch size for ``rows`` (<= chunk) rows: the next power of two, at least
    ``MIN_PADDED_ROWS`` and at most the chunk."""
    return min(chunk, max(MIN_PADDED_ROWS, 1 << max(0, rows - 1).bit_length()))


def _pad(block: np.ndarray, size: int) -> np.ndarray:
    """``block`` with zero rows appended up to ``size`` rows."""
    if size == len(block):
        return block
    return np.concatenate([block, np.zeros((size - len(block),) + block.shape[1:])])


def numbers_apart(plan: Plan) -> bool:
    """Whether the plan's numbers are compiled apart from its state passes: when it has
    two-qubit or uniformly controlled rotations, whose phases XLA otherwise evaluates once per
    amplitude. A plan of single-qubit matrices and permutations keeps one program per task
    (a separate call would cost 0.1 ms per chunk, 5-17% of a small circuit's gradient)."""
    return any(isinstance(s, Uniform) or isinstance(s, Pair) and s.param is not None for s in plan.steps)


class _Programs:
    """A circuit's plan and its compiled programs (jit caches one executable per shape).

    Values, gradients and statevectors are a program each. Where :func:`numbers_apart` says
    so, the per-sample numbers (angles, rotation matrices, phases) are one more program,
    compiled apart, whose output the others take as arguments: in one program XLA fused each
    sample's trigonometry into the loops over its amplitudes and evaluated it once per
    amplitude, and the readout model's couplings ran 4-7x slower (docs/engines.md)."""

    def __init__(self, circuit: Circuit):
        self.plan: Plan = plan_circuit(circuit)
        plan, static = self.plan, ("n_features",)
        programs = {
            "expval": partial(_expval, plan),
            # the sweep and the chain rule (per sample, no state) in one program; the feature
            # gradients cost no pass over a state: attacks and training share it
            "gradients": partial(_gradients, plan, n_weights=circuit.n_weights),
            # statevectors serve every set of wires' reduced states (NumPy's partial trace)
            "states": partial(_states, plan),
        }
        if numbers_apart(plan):
            self._numbers = jax.jit(partial(kernels.angles_and_numbers, plan))
        else:
            self._numbers = None
            programs = {name: partial(_with_numbers, plan, program) for name, program in programs.items()}
        self._programs = {name: jax.jit(program, static_argnames=static) for name, program in programs.items()}

    def cache_sizes(self) -> dict[str, int]:
        """Compiled executables per program (one per batch shape; no ``numbers`` entry when
        the numbers are computed inside the other programs)."""
        sizes = {name: program._cache_size() for name, program in self._programs.items()}
        return sizes if self._numbers is None else {"numbers": self._numbers._cache_size(), **sizes}

    def _run(self, name: str, features, weights):
        program, n_features = self._programs[name], features.shape[1]
        if self._numbers is None:
            return program(features, weights, n_features=n_features)
        return program(*self._numbers(features, weights), n_features=n_features)

    def expval(self, features, weights):
        """Values (B,)."""
        return self._run("expval", features, weights)

    def values_and_gradients(self, features, weights):
        """Values (B,) and gradients (B, F + W) in ``[features | weights]``."""
        return self._run("gradients", features, weights)

    def states(self, features, weights):
        """Final statevectors (B, 2^n), wire 0 the most significant bit."""
        return self._run("states", features, weights)


def _with_numbers(plan: Plan, program, features, weights, n_features: int):
    return program(*kernels.angles_and_numbers(plan, features, weights), n_features=n_features)


def _expval(plan: Plan, angles, n, n_features: int):
    state, sizes = kernels.final_states(plan, angles, n, n_features)
    return kernels.expval_z(state, sizes, plan.readout)


def _gradients(plan: Plan, angles, n, n_features: int, n_weights: int):
    values, sensitivities = kernels.sweep(plan, angles, n, n_features)
    return values, kernels.input_gradients(plan, angles, sensitivities, n_features, n_weights)


def _states(plan: Plan, angles, n, n_features: int):
    return kernels.full_statevector(*kernels.final_states(plan, angles, n, n_features))


class JaxBackend(Backend):
    """Statevector simulation of any :class:`~qenc_bench.Circuit` with JAX (complex128).

    :param device: ``"cpu"`` (default) or ``"gpu"`` (JAX's CUDA backend).
    """

    name = "jax"
    capabilities = CAPABILITIES
    input_gradient_method = "adjoint method (exact)"

    def __init__(self, device: str = "cpu"):
        jax.config.update("jax_enable_x64", True)  # complex128 states; float32 would lose 1e-10
        _persistent_cache()
        self.device_name = device
        self.device = _device(device)
        self._default_device = self.device == jax.devices()[0]
        # on a CPU a call's cost grows with its rows from the smallest circuits up (measured:
        # training 27 candidate models in one call per step was no faster than a call per
        # model, docs/encoders.md); a GPU's calls cost their launch, which batching shares
        self.prefers_row_batches = self.device.platform == "gpu"
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

    def _chunks(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray):
        """(rows, padded features, weights) on the device per chunk of the batch; per-row
        weights (N, W) are cut and padded with the features, a shared vector (W,) is placed once."""
        chunk = chunk_rows(circuit.n_qubits)
        per_row = weights.ndim == 2
        shared = None if per_row else self._put(weights)
        for start in range(0, len(features), chunk):
            rows = slice(start, min(start + chunk, len(features)))
            block = features[rows]
            size = _padded_size(len(block), chunk)
            if per_row:
                yield rows, self._put(_pad(block, size)), self._put(_pad(weights[rows], size))
            else:
                yield rows, self._put(_pad(block, size)), shared

    def _put(self, array: np.ndarray):
        """On the default device, NumPy arrays go to the compiled call as they are (one copy
        fewer per call); elsewhere they are placed on the device first."""
        return array if self._default_device else jax.device_put(array, self.device)

    def _inputs(self, circuit: Circuit, features, weights):
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2:
            raise ConfigError(f"backend 'jax': features must be (N, F), got shape {features.shape}")
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape not in ((circuit.n_weights,), (len(features), circuit.n_weights)):
            raise ConfigError(f"backend 'jax': weights must be ({circuit.n_weights},) or one row per sample "
                              f"({len(features)}, {circuit.n_weights}), got shape {weights.shape}")
        return features, weights

    def expval(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``<Z_readout>`` (N,); ``weights`` (W,), or (N, W): one weight vector per row."""
        programs = self._program(circuit)
        features, weights = self._inputs(circuit, features, weights)
        out = np.empty(len(features))
        for rows, block, block_weights in self._chunks(circuit, features, weights):
            out[rows] = np.asarray(programs.expval(block, block_weights))[: rows.stop - rows.start]
        return out

    def expval_vjp(self, circuit, features, weights, *, features_grad: bool = False):
        """Values (N,) and their pull-back; with per-row ``weights`` (N, W) the pull-back's
        weight gradients are per row, (N, W)."""
        programs = self._program(circuit)
        features, weights = self._inputs(circuit, features, weights)
        n, per_row = len(features), weights.ndim == 2
        values = np.empty(n)
        jac_w = np.empty((n, circuit.n_weights))
        jac_f = np.empty((n, features.shape[1])) if features_grad else None
        for rows, block, block_weights in self._chunks(circuit, features, weights):
            block_values, gradients = programs.values_and_gradients(block, block_weights)
            used, f = rows.stop - rows.start, features.shape[1]
            values[rows] = np.asarray(block_values)[:used]
            gradients = np.asarray(gradients)[:used]
            jac_w[rows] = gradients[:, f:]
            if features_grad:
                jac_f[rows] = gradients[:, :f]

        def pull_back(cotangent: np.ndarray) -> Gradients:
            cotangent = np.asarray(cotangent, dtype=np.float64)
            return Gradients(
                weights=cotangent[:, None] * jac_w if per_row else cotangent @ jac_w,
                features=cotangent[:, None] * jac_f if features_grad else None,
            )

        return values, pull_back

    def reduced_density_matrix(self, circuit, features, weights, wires: Sequence[int]) -> np.ndarray:
        programs = self._program(circuit)
        wires = tuple(int(w) for w in wires)
        if len(set(wires)) != len(wires) or not all(0 <= w < circuit.n_qubits for w in wires):
            raise ConfigError(f"backend 'jax': wires {wires} must be distinct wires of 0..{circuit.n_qubits - 1}")
        features, weights = self._inputs(circuit, features, weights)
        k = len(wires)
        out = np.empty((len(features), 2**k, 2**k), dtype=complex)
        for rows, block, block_weights in self._chunks(circuit, features, weights):
            states = np.asarray(programs.states(block, block_weights))[: rows.stop - rows.start]
            out[rows] = partial_trace(states, circuit.n_qubits, wires)
        return out

    def statevector(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(N, 2^n) final states, wire 0 the most significant bit (PennyLane's order)."""
        programs = self._program(circuit)
        features, weights = self._inputs(circuit, features, weights)
        out = np.empty((len(features), 2**circuit.n_qubits), dtype=complex)
        for rows, block, block_weights in self._chunks(circuit, features, weights):
            out[rows] = np.asarray(programs.states(block, block_weights))[: rows.stop - rows.start]
        return out
