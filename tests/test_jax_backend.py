"""The ``jax`` backend against the ``exact``, ``pennylane`` and ``aer`` backends: values, weight
and feature gradients, reduced density matrices and statevectors to 1e-10 on the built-in
models and encoders; its plan (fewer passes than gates); one compiled program per circuit
structure and batch shape; chunked batches; the memory bound, the device option and a missing
JAX refused in one line; and plugin loading that imports no JAX."""

from __future__ import annotations

import subprocess
import sys
from functools import partial

import numpy as np
import pytest

pytest.importorskip("jax", reason="the jax backend needs the [jax] extra")

import qenc_jax  # noqa: E402
from qenc_bench import Circuit, ConfigError, IncompatibleComponentsError, Op, Split, TrainConfig  # noqa: E402
from qenc_bench.model import ReadoutModel  # noqa: E402
from qenc_bench.plugins import Registry  # noqa: E402
from qenc_bench.testing import check_backend  # noqa: E402
from qenc_bench.training import train  # noqa: E402
from qenc_encoders.amplitude import AmplitudeEncoder  # noqa: E402
from qenc_encoders.angle import AngleEncoder  # noqa: E402
from qenc_encoders.iqp import IQPEncoder  # noqa: E402
from qenc_exact import ExactReadoutBackend  # noqa: E402
from qenc_jax.backend import JaxBackend, _padded_size, numbers_apart  # noqa: E402
from qenc_jax.capabilities import MAX_QUBITS, chunk_rows  # noqa: E402
from qenc_jax.plan import Permute, Uniform, plan_circuit  # noqa: E402
from qenc_models import HardwareEfficientModel, ReuploadingModel  # noqa: E402

TOL = 1e-10
N_SAMPLES = 6


def fitted(encoder, n_features: int, seed: int = 0):
    """``encoder`` fitted on random [0, 1] data of ``n_features`` columns, and a feature matrix."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(N_SAMPLES, n_features))
    split = Split(x, np.arange(N_SAMPLES) % 2)
    encoder.fit(split, split, None)
    return encoder, encoder.transform(x)


ENCODERS = {"angle": (AngleEncoder, 4), "amplitude": (AmplitudeEncoder, 13), "iqp": (IQPEncoder, 3)}
MODELS = {"readout": ReadoutModel(), "hea": HardwareEfficientModel(layers=2), "reuploading": ReuploadingModel(layers=2)}


def model_case(model: str, encoder: str):
    cls, n_features = ENCODERS[encoder]
    enc, features = fitted(cls(), n_features)
    circuit = MODELS[model].build(enc)
    weights = np.random.default_rng(1).uniform(-np.pi, np.pi, circuit.n_weights)
    return circuit, features, weights


def generic_circuit(n_qubits: int, seed: int) -> Circuit:
    """Random gates of every kind; features and weights each feed several gates."""
    rng = np.random.default_rng(seed)
    ops = []
    for _ in range(8 * n_qubits):
        gate = str(rng.choice(["X", "H", "RX", "RY", "RZ", "CNOT", "CZ", "IsingXX", "IsingZZ"]))
        n_wires = 2 if gate in ("CNOT", "CZ", "IsingXX", "IsingZZ") else 1
        wires = tuple(int(w) for w in rng.choice(n_qubits, n_wires, replace=False))
        if gate in ("X", "H", "CNOT", "CZ"):
            ops.append(Op(gate, wires))
        else:
            ops.append(Op(gate, wires, "feature" if rng.random() < 0.5 else "weight", int(rng.integers(3))))
    return Circuit(n_qubits, tuple(ops), 3, 3, readout=int(rng.integers(n_qubits)))


CASES = {f"{m}-{e}": model_case(m, e) for m in MODELS for e in ENCODERS}
for _n in (3, 5):
    _c = generic_circuit(_n, seed=_n)
    _rng = np.random.default_rng(_n)
    CASES[f"generic-{_n}q"] = (_c, _rng.uniform(-np.pi, np.pi, (N_SAMPLES, 3)), _rng.uniform(-np.pi, np.pi, 3))


@pytest.fixture(scope="module")
def jax_backend() -> JaxBackend:
    return JaxBackend()


def gradients_of(backend, circuit, features, weights, cotangent):
    values, vjp = backend.expval_vjp(circuit, features, weights, features_grad=True)
    return values, vjp(cotangent)


def assert_same_gradients(backend, reference, circuit, features, weights, cotangent):
    """Values, weight and feature gradients of ``backend`` equal ``reference``'s to TOL."""
    values, grads = gradients_of(backend, circuit, features, weights, cotangent)
    ref_values, ref_grads = gradients_of(reference, circuit, features, weights, cotangent)
    np.testing.assert_allclose(values, ref_values, rtol=0, atol=TOL)
    np.testing.assert_allclose(grads.weights, ref_grads.weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(grads.features, ref_grads.features, rtol=0, atol=TOL)


@pytest.mark.parametrize("name", CASES)
def test_values_gradients_and_states_agree_with_pennylane(name, jax_backend, pennylane):
    circuit, features, weights = CASES[name]
    cotangent = np.random.default_rng(2).normal(size=len(features))
    values, grads = gradients_of(jax_backend, circuit, features, weights, cotangent)
    pl_values, pl_grads = gradients_of(pennylane, circuit, features, weights, cotangent)
    np.testing.assert_allclose(jax_backend.expval(circuit, features, weights), pl_values, rtol=0, atol=TOL)
    np.testing.assert_allclose(values, pl_values, rtol=0, atol=TOL)
    np.testing.assert_allclose(grads.weights, pl_grads.weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(grads.features, pl_grads.features, rtol=0, atol=TOL)
    weight_only = jax_backend.expval_vjp(circuit, features, weights)[1](cotangent)
    assert weight_only.features is None
    np.testing.assert_allclose(weight_only.weights, pl_grads.weights, rtol=0, atol=TOL)
    pair = [circuit.readout, (circuit.readout + 1) % circuit.n_qubits]  # wire order matters
    for wires in ([circuit.readout], pair, list(range(circuit.n_qubits))[::-1]):
        np.testing.assert_allclose(jax_backend.reduced_density_matrix(circuit, features, weights, wires),
                                   pennylane.reduced_density_matrix(circuit, features, weights, wires),
                                   rtol=0, atol=TOL, err_msg=f"wires {wires}")
    np.testing.assert_allclose(jax_backend.statevector(circuit, features, weights),
                               pennylane.statevector(circuit, features, weights), rtol=0, atol=TOL)


@pytest.mark.parametrize("name", ["readout-angle", "hea-amplitude", "reuploading-iqp", "generic-5q"])
def test_values_gradients_and_reduced_states_agree_with_aer(name, jax_backend, aer):
    circuit, features, weights = CASES[name]
    cotangent = np.random.default_rng(3).normal(size=len(features))
    assert_same_gradients(jax_backend, aer, circuit, features, weights, cotangent)
    wires = [circuit.readout, (circuit.readout + 1) % circuit.n_qubits]
    np.testing.assert_allclose(jax_backend.reduced_density_matrix(circuit, features, weights, wires),
                               aer.reduced_density_matrix(circuit, features, weights, wires), rtol=0, atol=TOL)


@pytest.mark.parametrize("encoder", ["angle", "amplitude", "iqp"])
def test_the_readout_model_agrees_with_the_exact_backend(encoder, jax_backend):
    circuit, features, weights = CASES[f"readout-{encoder}"]
    exact = ExactReadoutBackend()
    if encoder != "angle":  # entangling feature maps are outside the exact family
        with pytest.raises(IncompatibleComponentsError):
            exact.check(circuit)
        return
    cotangent = np.linspace(-1.0, 1.0, len(features))
    assert_same_gradients(jax_backend, exact, circuit, features, weights, cotangent)
    for wires in ([circuit.readout], [0, 1]):
        np.testing.assert_allclose(jax_backend.entropy(circuit, features, weights, wires),
                                   exact.entropy(circuit, features, weights, wires), rtol=0, atol=TOL)


def test_a_12_qubit_batch_runs_in_padded_chunks_and_matches_pennylane(jax_backend, pennylane):
    """12 qubits: chunks of ``chunk_rows(12)`` rows, the last one padded; same numbers as one
    PennyLane broadcast."""
    enc, features = fitted(AngleEncoder(), 12)
    features = np.vstack([features, features[:3] * 0.5, features[:2] * 0.25])[:11]
    circuit = HardwareEfficientModel(layers=2).build(enc)
    weights = np.random.default_rng(4).uniform(-np.pi, np.pi, circuit.n_weights)
    assert chunk_rows(12) < len(features) and len(features) % chunk_rows(12)
    cotangent = np.random.default_rng(5).normal(size=len(features))
    assert_same_gradients(jax_backend, pennylane, circuit, features, weights, cotangent)


@pytest.mark.parametrize("name", ["hea-amplitude", "reuploading-iqp", "generic-5q"])
def test_the_low_memory_gradient_agrees_with_pennylane(name, jax_backend, pennylane):
    """Above ``KEEP_BYTES`` a chunk's gradient un-computes the forward states instead of
    keeping them (large circuits): the same numbers."""
    import jax

    from qenc_jax.kernels import values_and_jacobians

    circuit, features, weights = CASES[name]
    program = jax.jit(partial(values_and_jacobians, plan_circuit(circuit), keep_budget=0))
    values, jac_w, jac_f = (np.asarray(a) for a in program(features, weights))
    cotangent = np.random.default_rng(4).normal(size=len(features))
    pl_values, pl_grads = gradients_of(pennylane, circuit, features, weights, cotangent)
    np.testing.assert_allclose(values, pl_values, rtol=0, atol=TOL)
    np.testing.assert_allclose(cotangent @ jac_w, pl_grads.weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(cotangent[:, None] * jac_f, pl_grads.features, rtol=0, atol=TOL)


def planner_stress_circuit(seed: int) -> Circuit:
    """A random circuit biased toward the plan's rewrites: runs of RY or RZ and CNOTs onto one
    target, gates on wires nothing has touched yet, CZ and IsingZZ next to untouched wires."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    ops: list[Op] = []

    def angle(gate, wires):
        return Op(gate, wires, "feature" if rng.random() < 0.5 else "weight", int(rng.integers(3)))

    for _ in range(int(rng.integers(6, 16))):
        kind = rng.random()
        if kind < 0.35:  # a multiplexor-like run onto one target
            target = int(rng.integers(n))
            others = [w for w in range(n) if w != target]
            axis = str(rng.choice(["RY", "RZ"]))
            for _ in range(int(rng.integers(2, 6))):
                if rng.random() < 0.5:
                    ops.append(Op("CNOT", (int(rng.choice(others)), target)))
                else:
                    ops.append(angle(axis, (target,)))
        elif kind < 0.7:
            gate = str(rng.choice(["X", "H", "RX", "RY", "RZ"]))
            wire = (int(rng.integers(n)),)
            ops.append(Op(gate, wire) if gate in ("X", "H") else angle(gate, wire))
        else:
            gate = str(rng.choice(["CNOT", "CZ", "IsingXX", "IsingZZ"]))
            wires = tuple(int(w) for w in rng.choice(n, 2, replace=False))
            ops.append(Op(gate, wires) if gate in ("CNOT", "CZ") else angle(gate, wires))
    return Circuit(n, tuple(ops), 3, 3, readout=int(rng.integers(n)))


def test_random_plans_give_pennylanes_states_and_gradients(jax_backend, pennylane):
    """40 random circuits, run eagerly (no compilation): every rewrite of the plan is exact,
    global phase included; gradients on every fifth, alternately keeping and un-computing the
    forward states. (``jax_backend`` is built first: its factory enables complex128.)"""
    from qenc_jax import kernels

    kinds = set()
    for seed in range(40):
        circuit = planner_stress_circuit(seed)
        plan = plan_circuit(circuit)
        kinds |= {type(step).__name__ for step in plan.steps}
        rng = np.random.default_rng(seed)
        features, weights = rng.uniform(-np.pi, np.pi, (3, 3)), rng.uniform(-np.pi, np.pi, 3)
        state, sizes = kernels.forward(plan, features, weights)
        np.testing.assert_allclose(np.asarray(kernels.full_statevector(state, sizes)),
                                   pennylane.statevector(circuit, features, weights), rtol=0, atol=TOL,
                                   err_msg=f"seed {seed}: {circuit.ops}")
        if seed % 5:
            continue
        for keep_budget in ((kernels.KEEP_BYTES,) if seed % 2 else (0,)):
            values, jac_w, jac_f = (np.asarray(a) for a in
                                    kernels.values_and_jacobians(plan, features, weights, keep_budget))
            pl_values, pl_grads = gradients_of(pennylane, circuit, features, weights, np.ones(3))
            np.testing.assert_allclose(values, pl_values, rtol=0, atol=TOL)
            np.testing.assert_allclose(jac_w.sum(axis=0), pl_grads.weights, rtol=0, atol=TOL, err_msg=f"seed {seed}")
            np.testing.assert_allclose(jac_f, pl_grads.features, rtol=0, atol=TOL, err_msg=f"seed {seed}")
    assert kinds == {"Local", "Pair", "Uniform", "Permute"}


def test_padded_sizes_are_powers_of_two_from_the_minibatch_up_to_the_chunk():
    assert [_padded_size(r, 128) for r in (1, 2, 31, 32, 33, 64, 65, 128)] == [32, 32, 32, 32, 64, 64, 128, 128]
    assert [_padded_size(r, 8) for r in (1, 5, 8)] == [8, 8, 8]  # never above the chunk
    assert chunk_rows(8) == 128 and chunk_rows(12) == 8 and chunk_rows(20) == 1


def test_the_plan_needs_fewer_passes_than_the_circuit_has_gates():
    """Amplitude encoding's multiplexors become one uniformly controlled rotation per qubit
    and a CNOT ring one permutation; the results above check that the plans are exact."""
    enc, _ = fitted(AmplitudeEncoder(), 32)  # 5 qubits: 31 RY and 30 CNOTs
    plan = plan_circuit(HardwareEfficientModel(layers=2).build(enc))
    circuit = HardwareEfficientModel(layers=2).build(enc)
    assert sum(isinstance(s, Uniform) for s in plan.steps) == 4  # levels 1..4 (level 0 is one RY)
    assert sum(isinstance(s, Permute) for s in plan.steps) == 2  # one per CNOT ring
    assert plan.passes < len(circuit.ops) / 4


@pytest.mark.parametrize("name", ["hea-angle", "readout-angle"])
def test_training_and_restarts_reuse_one_compiled_program(name, jax_backend):
    """Features and weights are arguments: new weights, new rows, fewer rows (padded to the
    minibatch's 32) and an equal circuit built again compile nothing new; a batch of a new
    padded size compiles each program it uses once more. The readout model's couplings get
    their numbers from a program of their own; hea's single-qubit matrices do not."""
    circuit, features, weights = CASES[name]
    backend = JaxBackend()
    backend.expval_vjp(circuit, features, weights)[1](np.ones(len(features)))
    programs = backend._programs[circuit]
    compiled = programs.cache_sizes()
    apart = name == "readout-angle"
    assert numbers_apart(programs.plan) == apart and ("numbers" in compiled) == apart
    assert compiled["gradients"] == 1 and compiled.get("numbers", 1) == 1
    encoder = AngleEncoder()
    rebuilt = (HardwareEfficientModel(layers=2) if name == "hea-angle" else ReadoutModel()).build(
        fitted(encoder, features.shape[1], seed=9)[0])
    assert rebuilt == circuit and rebuilt is not circuit
    for step in range(3):
        backend.expval_vjp(rebuilt, features[::-1] * 0.5, weights + step)[1](np.ones(len(features)))
    assert programs.cache_sizes() == compiled
    assert len(backend._programs) == 1
    backend.expval_vjp(circuit, features[:2], weights)
    assert programs.cache_sizes() == compiled
    backend.expval_vjp(circuit, np.tile(features, (8, 1)), weights)  # 48 rows: padded to 64
    grown = {name: size - compiled[name] for name, size in programs.cache_sizes().items()}
    assert grown == {**({"numbers": 1} if apart else {}), "expval": 0, "gradients": 1, "states": 0}


def test_a_training_run_follows_the_pennylane_trajectory(jax_backend, pennylane):
    """Two epochs of Adam on the harness's training loop: the same weights on both backends."""
    enc, features = fitted(IQPEncoder(), 3)
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 1, (20, 3))
    labels = (x[:, 0] > 0.5).astype(int)
    circuit = ReuploadingModel(layers=2).build(enc)
    start = np.random.default_rng(7).uniform(-np.pi, np.pi, circuit.n_weights)
    config = TrainConfig(max_epochs=2, batch_size=8, patience=5)
    runs = [train(circuit, b, enc.transform(x), labels, enc.transform(x[:6]), labels[:6], start, config,
                  np.random.default_rng(8)) for b in (jax_backend, pennylane)]
    assert not np.allclose(runs[0].weights, start)
    np.testing.assert_allclose(runs[0].weights, runs[1].weights, rtol=0, atol=1e-9)
    np.testing.assert_allclose(runs[0].history["train_loss"], runs[1].history["train_loss"], rtol=0, atol=1e-10)


def test_a_circuit_without_features_and_an_empty_batch(jax_backend):
    bell = Circuit(2, (Op("RY", (0,), "weight", 0), Op("CNOT", (0, 1))), n_features=0, n_weights=1, readout=1)
    weights = np.array([0.7])
    values = jax_backend.expval(bell, np.zeros((3, 0)), weights)
    np.testing.assert_allclose(values, np.cos(0.7), rtol=0, atol=1e-14)
    values, vjp = jax_backend.expval_vjp(bell, np.zeros((3, 0)), weights)
    np.testing.assert_allclose(vjp(np.ones(3)).weights, [-3 * np.sin(0.7)], rtol=0, atol=1e-13)
    assert jax_backend.expval(bell, np.zeros((0, 0)), weights).shape == (0,)
    assert jax_backend.reduced_density_matrix(bell, np.zeros((0, 0)), weights, [0]).shape == (0, 2, 2)


def test_the_declared_capabilities_hold_and_the_contract_passes(pm, register_plugin):
    register_plugin(qenc_jax, "jax")
    spec = Registry.from_plugin_manager(pm).get("backend", "jax")
    assert spec.requires == ("jax",) and spec.auto.priority == 20 and spec.installed()
    caps = spec.capabilities
    assert (caps.gradients, caps.input_gradients, caps.entropy, caps.states) == (True,) * 4
    assert not caps.noise and not caps.shots and caps.max_qubits == MAX_QUBITS and caps.row_weights
    backend = check_backend(spec)
    with pytest.raises(IncompatibleComponentsError, match="does not simulate noise"):
        backend.check_noise(CASES["hea-angle"][0])


@pytest.mark.parametrize("name", ["hea-angle", "readout-iqp"])
def test_per_row_weights_give_each_row_its_own_model_in_padded_chunks(name, jax_backend):
    """Weights (N, W), one vector per row, across several chunks and a padded last one: each
    row's value and weight gradient are those of its weights alone; statevectors too."""
    circuit, features, _ = CASES[name]
    rng = np.random.default_rng(3)
    n = 2 * chunk_rows(circuit.n_qubits) + 5
    rows = features[rng.integers(len(features), size=n)]
    weights = rng.uniform(-np.pi, np.pi, (n, circuit.n_weights))
    cotangent = rng.normal(size=n)
    values, vjp = jax_backend.expval_vjp(circuit, rows, weights, features_grad=True)
    grads = vjp(cotangent)
    pick = rng.choice(n, 6, replace=False)
    for i in pick:
        alone, alone_vjp = jax_backend.expval_vjp(circuit, rows[i:i + 1], weights[i], features_grad=True)
        alone_grads = alone_vjp(cotangent[i:i + 1])
        np.testing.assert_allclose(values[i], alone[0], rtol=0, atol=1e-13)
        np.testing.assert_allclose(grads.weights[i], alone_grads.weights, rtol=0, atol=1e-13)
        np.testing.assert_allclose(grads.features[i], alone_grads.features[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(jax_backend.expval(circuit, rows, weights), values, rtol=0, atol=1e-13)
    states = jax_backend.statevector(circuit, rows[pick], weights[pick])
    for state, i in zip(states, pick, strict=True):
        np.testing.assert_allclose(state, jax_backend.statevector(circuit, rows[i:i + 1], weights[i])[0],
                                   rtol=0, atol=1e-13)
    with pytest.raises(ConfigError, match=r"weights must be \(\d+,\) or one row per sample"):
        jax_backend.expval(circuit, rows, weights[:-1])


def test_a_circuit_beyond_the_memory_bound_is_refused_in_one_line(jax_backend):
    wide = Circuit(MAX_QUBITS + 1, (Op("H", (0,)),), n_features=0, n_weights=0, readout=0)
    with pytest.raises(IncompatibleComponentsError) as refused:
        jax_backend.expval(wide, np.zeros((1, 0)), np.zeros(0))
    message = str(refused.value)
    assert "\n" not in message and f"at most {MAX_QUBITS} qubits" in message and "GiB" in message
    jax_backend.check(Circuit(MAX_QUBITS, (Op("H", (0,)),), n_features=0, n_weights=0, readout=0))


def _has_gpu() -> bool:
    import jax

    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


def test_device_gpu_without_a_gpu_is_one_line():
    if _has_gpu():
        pytest.skip("a GPU is present: the refusal cannot be observed here")
    with pytest.raises(IncompatibleComponentsError) as refused:
        JaxBackend(device="gpu")
    assert "\n" not in str(refused.value) and "--device cpu" in str(refused.value)
    with pytest.raises(ConfigError, match="use cpu or gpu"):
        JaxBackend(device="tpu")


def test_device_gpu_agrees_with_the_cpu():
    if not _has_gpu():
        pytest.skip("no GPU visible to JAX (install jax[cuda12] on a machine with an NVIDIA GPU)")
    circuit, features, weights = CASES["hea-amplitude"]
    gpu, cpu = JaxBackend(device="gpu"), JaxBackend()
    assert gpu.info()["platform"] == "gpu"
    cotangent = np.ones(len(features))
    values, grads = gradients_of(gpu, circuit, features, weights, cotangent)
    cpu_values, cpu_grads = gradients_of(cpu, circuit, features, weights, cotangent)
    np.testing.assert_allclose(values, cpu_values, rtol=0, atol=TOL)
    np.testing.assert_allclose(grads.weights, cpu_grads.weights, rtol=0, atol=TOL)


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_loading_the_plugins_imports_no_jax_and_building_enables_x64():
    out = _run(
        "import sys, qenc_jax, qenc_pennylane\n"
        "from qenc_bench.plugins import load_registry\n"
        "registry = load_registry()\n"
        "before = sorted(m for m in ('jax', 'pennylane') if m in sys.modules)\n"
        "backend = registry.get('backend', 'jax').factory()\n"
        "import jax\n"
        "print(before, jax.config.jax_enable_x64, backend.name)\n"
    )
    assert out == "[] True jax"


def test_a_missing_jax_is_a_one_line_error_naming_the_extra():
    out = _run(
        "import sys\n"
        "sys.modules['jax'] = None  # as if JAX were not installed\n"
        "from qenc_bench import MissingDependencyError\n"
        "from qenc_bench.plugins import load_registry\n"
        "try:\n"
        "    load_registry().get('backend', 'jax').factory()\n"
        "except MissingDependencyError as exc:\n"
        "    print(repr(str(exc)))\n"
    )
    assert "pip install \"qenc-bench[jax]\"" in out and "\\n" not in out and "the jax backend needs jax" in out


_CACHED_RUN = (
    "import os, numpy as np\n"
    "from qenc_bench.plugins import load_registry\n"
    "from qenc_bench.model import ReadoutModel\n"
    "from qenc_bench import Split\n"
    "from qenc_encoders.iqp import IQPEncoder\n"
    "import jax\n"
    "x = np.random.default_rng(0).uniform(0, 1, (4, 3)); enc = IQPEncoder()\n"
    "enc.fit(Split(x, np.arange(4) % 2), Split(x, np.arange(4) % 2), None)\n"
    "circuit = ReadoutModel().build(enc)\n"
    "backend = load_registry().get('backend', 'jax').factory()\n"
    "values = backend.expval(circuit, enc.transform(x), np.linspace(-1, 1, circuit.n_weights))\n"
    "print(jax.config.jax_compilation_cache_dir, jax.config.jax_persistent_cache_min_compile_time_secs,\n"
    "      jax.config.jax_compilation_cache_max_size,\n"
    "      ' '.join(f'{v:.15f}' for v in values))\n"
)


def test_compiled_programs_persist_in_the_user_cache_across_processes(tmp_path, monkeypatch):
    """The backend points JAX's persistent compilation cache at ``<cache>/jax``; a second
    process reads the programs back and computes the same values; a cache JAX is told about
    is left alone."""
    monkeypatch.setenv("QENC_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")  # this tiny circuit's compiles too
    first = _run(_CACHED_RUN)
    entries = sorted(p.name for p in (tmp_path / "cache" / "jax").iterdir())
    assert first.split()[:3] == [str(tmp_path / "cache" / "jax"), "0.0", str(2**30)]
    assert any(name.startswith("jit_angles_and_numbers") for name in entries)
    assert any(name.startswith("jit__expval") for name in entries)
    assert _run(_CACHED_RUN) == first
    assert sorted(p.name for p in (tmp_path / "cache" / "jax").iterdir()) == entries  # read, not compiled again
    monkeypatch.delenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS")
    assert _run(_CACHED_RUN).split()[1] == "0.1"  # the sub-second compiles of many small circuits are kept
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "own"))
    assert _run(_CACHED_RUN).split()[:3] == [str(tmp_path / "own"), "1.0", "-1"]  # JAX's own cache, JAX's defaults


def test_processes_share_the_compile_cache(tmp_path, monkeypatch):
    """Two processes compiling the same programs into one empty cache at the same time (a
    sweep's workers) both finish, with the same values and no cache warning: reads and writes
    are locked."""
    monkeypatch.setenv("QENC_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    runs = [subprocess.Popen([sys.executable, "-c", _CACHED_RUN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outputs]
    assert outputs[0][0].splitlines()[-1] == outputs[1][0].splitlines()[-1]
    assert not any("compilation cache" in err for _, err in outputs), [err for _, err in outputs]
    assert (tmp_path / "cache" / "jax" / ".lockfile").exists()


def test_entries_of_an_unbounded_cache_do_not_break_later_writes(tmp_path, monkeypatch):
    """A cache filled without a size bound (an earlier version, or JAX_COMPILATION_CACHE_MAX_SIZE=-1)
    has no access-time files; JAX's eviction reads one per entry, so every later write failed
    with a warning. The backend gives them one, and new programs are written again."""
    monkeypatch.setenv("QENC_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_MAX_SIZE", "-1")  # unbounded: entries without access times
    _run(_CACHED_RUN)
    cache = tmp_path / "cache" / "jax"
    old = sorted(cache.glob("*-cache"))
    assert len(old) > 1 and not list(cache.glob("*-atime"))
    for entry in old[1:]:
        entry.unlink()  # one stale entry stays; the next run compiles the others again and writes them
    monkeypatch.delenv("JAX_COMPILATION_CACHE_MAX_SIZE")
    run = subprocess.run([sys.executable, "-c", _CACHED_RUN], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "compilation cache" not in run.stderr, run.stderr
    assert len(list(cache.glob("*-cache"))) == len(old)
    assert {p.name[: -len("-atime")] for p in cache.glob("*-atime")} == {
        p.name[: -len("-cache")] for p in cache.glob("*-cache")}
