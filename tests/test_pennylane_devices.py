"""The ``pennylane`` backend on every supported PennyLane device, and the ``lightning`` backend:
lightning.qubit agrees with default.qubit on values, weight and input gradients, reduced states,
entropy and statevectors; a device that is not installed, unknown or not a statevector device
is a one-line error naming what to install; lightning.gpu runs where it is installed; the
auto policies; and a compare run on lightning end to end through the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import qenc_pennylane
from qenc_bench import ConfigError, Depolarizing, IncompatibleComponentsError, MissingDependencyError, Split
from qenc_bench.cli import main
from qenc_bench.model import ReadoutModel
from qenc_bench.plugins import Registry
from qenc_bench.testing import check_backend
from qenc_encoders.amplitude import AmplitudeEncoder
from qenc_encoders.angle import AngleEncoder
from qenc_encoders.iqp import IQPEncoder
from qenc_models import HardwareEfficientModel, ReuploadingModel
from qenc_pennylane.backend import LightningBackend, PennyLaneBackend
from qenc_pennylane.capabilities import DEVICES, installed_devices

TOL = 1e-10
N_SAMPLES = 5


def model_case(model, encoder, n_features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(N_SAMPLES, n_features))
    split = Split(x, np.arange(N_SAMPLES) % 2)
    encoder.fit(split, split, None)
    circuit = model.build(encoder)
    return circuit, encoder.transform(x), rng.uniform(-np.pi, np.pi, circuit.n_weights)


CASES = {
    "readout-angle": model_case(ReadoutModel(), AngleEncoder(), 3),
    "hea-amplitude": model_case(HardwareEfficientModel(layers=2), AmplitudeEncoder(), 7),
    "reuploading-iqp": model_case(ReuploadingModel(layers=2), IQPEncoder(), 3),
}


@pytest.fixture(scope="module")
def default_qubit() -> PennyLaneBackend:
    return PennyLaneBackend()


@pytest.fixture(scope="module", params=["pennylane", "lightning"])
def on_lightning(request) -> PennyLaneBackend:
    """lightning.qubit through ``--backend pennylane --device lightning.qubit`` and through
    ``--backend lightning``."""
    if request.param == "pennylane":
        return PennyLaneBackend(device="lightning.qubit")
    return LightningBackend()


@pytest.mark.parametrize("name", CASES)
def test_lightning_agrees_with_default_qubit(name, on_lightning, default_qubit):
    circuit, features, weights = CASES[name]
    cotangent = np.random.default_rng(1).normal(size=len(features))
    values, vjp = on_lightning.expval_vjp(circuit, features, weights, features_grad=True)
    want_values, want_vjp = default_qubit.expval_vjp(circuit, features, weights, features_grad=True)
    got, want = vjp(cotangent), want_vjp(cotangent)
    np.testing.assert_allclose(on_lightning.expval(circuit, features, weights), want_values, rtol=0, atol=TOL)
    np.testing.assert_allclose(values, want_values, rtol=0, atol=TOL)
    np.testing.assert_allclose(got.weights, want.weights, rtol=0, atol=TOL)
    np.testing.assert_allclose(got.features, want.features, rtol=0, atol=TOL)
    wires = [circuit.readout, (circuit.readout + 1) % circuit.n_qubits]
    np.testing.assert_allclose(on_lightning.reduced_density_matrix(circuit, features, weights, wires),
                               default_qubit.reduced_density_matrix(circuit, features, weights, wires),
                               rtol=0, atol=TOL)
    np.testing.assert_allclose(on_lightning.entropy(circuit, features, weights, [circuit.readout]),
                               default_qubit.entropy(circuit, features, weights, [circuit.readout]),
                               rtol=0, atol=TOL)
    np.testing.assert_allclose(on_lightning.statevector(circuit, features, weights),
                               default_qubit.statevector(circuit, features, weights), rtol=0, atol=TOL)
    assert on_lightning.diff_method == "adjoint" and on_lightning.input_gradient_method == "adjoint"


def test_reduced_states_from_the_state_equal_pennylanes_density_matrix(default_qubit):
    """The partial trace of the returned states is PennyLane's own ``qml.density_matrix``."""
    import pennylane as qml

    from qenc_pennylane.circuits import apply_circuit

    circuit, features, weights = CASES["reuploading-iqp"]
    wires = [2, 0]

    @qml.qnode(qml.device("default.qubit", wires=circuit.n_qubits))
    def density(f, w):
        apply_circuit(circuit, f, w)
        return qml.density_matrix(wires=wires)

    np.testing.assert_allclose(default_qubit.reduced_density_matrix(circuit, features, weights, wires),
                               density(features, weights), rtol=0, atol=1e-12)


def test_noise_on_a_lightning_device_still_runs_on_default_mixed(default_qubit):
    circuit, features, weights = CASES["readout-angle"]
    noise = Depolarizing(0.05)
    noisy = PennyLaneBackend(device="lightning.qubit").noisy_expval(circuit, features, weights, noise)
    np.testing.assert_allclose(noisy, default_qubit.noisy_expval(circuit, features, weights, noise), rtol=0, atol=TOL)
    assert not np.allclose(noisy, default_qubit.expval(circuit, features, weights))
    with pytest.raises(IncompatibleComponentsError, match="does not simulate noise"):
        LightningBackend().check_noise(circuit)


@pytest.mark.parametrize("device", [d for d in DEVICES if d.startswith("lightning.") and d != "lightning.qubit"])
def test_a_device_that_is_not_installed_names_the_package(device):
    if device in installed_devices():
        pytest.skip(f"{device} is installed here: the refusal cannot be observed")
    with pytest.raises(MissingDependencyError) as refused:
        PennyLaneBackend(device=device)
    message = str(refused.value)
    assert "\n" not in message and DEVICES[device].install in message and repr(device) in message


def test_lightning_gpu_runs_where_it_is_installed(default_qubit):
    if "lightning.gpu" not in installed_devices():
        pytest.skip("lightning.gpu is not installed (pip install pennylane-lightning-gpu on a CUDA machine)")
    try:
        backend = PennyLaneBackend(device="lightning.gpu")
    except IncompatibleComponentsError as exc:
        pytest.skip(f"lightning.gpu is installed but cannot start here: {exc}")
    circuit, features, weights = CASES["hea-amplitude"]
    np.testing.assert_allclose(backend.expval(circuit, features, weights),
                               default_qubit.expval(circuit, features, weights), rtol=0, atol=TOL)


def test_unknown_and_unsupported_devices_are_one_line_errors():
    with pytest.raises(ConfigError) as unknown:
        PennyLaneBackend(device="lightning.qbit")
    assert "\n" not in str(unknown.value) and "default.qubit, lightning.qubit" in str(unknown.value)
    with pytest.raises(IncompatibleComponentsError, match="not a statevector device"):
        PennyLaneBackend(device="default.clifford")
    with pytest.raises(IncompatibleComponentsError, match="noise runs on default.mixed"):
        PennyLaneBackend(device="default.mixed")
    with pytest.raises(ConfigError, match="lightning.qubit, lightning.kokkos, lightning.gpu"):
        LightningBackend(device="default.qubit")


def test_the_plugin_registers_pennylane_and_lightning_with_their_policies(pm, register_plugin):
    register_plugin(qenc_pennylane, "pennylane")
    registry = Registry.from_plugin_manager(pm)
    pennylane, lightning = registry.get("backend", "pennylane"), registry.get("backend", "lightning")
    assert pennylane.auto.priority == 40 and pennylane.auto.min_qubits == 1
    assert lightning.auto.priority == 30 and lightning.auto.min_qubits == qenc_pennylane.LIGHTNING_AUTO_MIN_QUBITS
    assert lightning.installed() and not lightning.capabilities.noise and lightning.capabilities.states
    assert pennylane.capabilities.noise and pennylane.capabilities.states
    backend = check_backend(lightning)
    assert backend.name == "lightning" and backend.device_name == "lightning.qubit"
    assert isinstance(check_backend(pennylane, device="lightning.qubit"), PennyLaneBackend)


def test_compare_on_lightning_runs_end_to_end(tmp_path, monkeypatch, clean_env):
    """Training (weight gradients), evaluation, the readout entropy and an attack (input
    gradients), all on lightning.qubit through ``--backend pennylane --device lightning.qubit``."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "lightning.json"
    result = CliRunner().invoke(main, [
        "compare", "--encoders", "iqp", "--model", "hea", "--layers", "1", "--grid", "2", "--seeds", "1",
        "--train-size", "20", "--test-size", "10", "--epochs", "2", "--classical", "none",
        "--backend", "pennylane", "--device", "lightning.qubit", "--train-backend", "pennylane",
        "--attack", "fgsm:0.1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(out.read_text())["records"]
    assert record["engines"] == {"train": "pennylane", "evaluate": "pennylane", "attack": "pennylane"}
    assert record["backend_info"]["device"] == "lightning.qubit"
    assert 0.0 <= record["entropy"] <= 1.0 and record["adversarial_accuracy"]


def test_auto_gives_noise_to_aer_and_named_pennylane_keeps_it():
    """default.mixed's noise is 30-40x slower than Aer's density matrices, so under ``auto`` a
    noisy evaluation of a circuit outside the exact family goes to aer; clean evaluation stays
    on the statevector engines, and ``--backend pennylane`` still runs its own noise."""
    from qenc_bench.harness import CompareConfig, Engines
    from qenc_bench.plugins import load_registry

    specs = {e.spec.name: e.spec for e in load_registry().entries("backend")}
    assert specs["pennylane"].auto.noise is False and specs["aer"].auto.noise is True
    circuit = model_case(ReadoutModel(), AmplitudeEncoder(), 9)[0]
    auto = Engines(specs, CompareConfig(backend="auto", noise=(0.05,)))
    assert auto.noisy(circuit).name == "aer"
    assert auto.evaluation(circuit).name == "jax"
    named = Engines(specs, CompareConfig(backend="pennylane", noise=(0.05,)))
    assert named.noisy(circuit).name == "pennylane"


def test_auto_says_when_a_faster_engine_is_not_installed():
    """Without the jax extra, auto trains a generic circuit on default.qubit and says that jax,
    tried first, is not installed; with it, nothing is said."""
    import dataclasses

    from qenc_bench.harness import CompareConfig, Engines
    from qenc_bench.plugins import load_registry

    specs = {e.spec.name: e.spec for e in load_registry().entries("backend")}
    circuit = CASES["hea-amplitude"][0]
    without = dict(specs, jax=dataclasses.replace(specs["jax"], requires=("qenc_no_such_module",)))
    engines = Engines(without, CompareConfig())
    assert engines.training(circuit).name == "pennylane"
    (hint,) = engines.hints
    assert "jax" in hint and "not installed" in hint and f"{circuit.n_qubits}-qubit" in hint
    engines.training(circuit)
    assert len(engines.hints) == 1  # said once
    installed = Engines(specs, CompareConfig())
    assert installed.training(circuit).name == "jax" and installed.hints == []
