"""The ``ibm`` backend on fake devices: the fast path is the fake device's own physics (the
same noise model, restricted to the qubits a circuit touches), one Aer run per batch, the
layout and method chosen for cost; options refused before anything runs; the plugin without
qiskit-ibm-runtime. No test touches the network (sockets are blocked)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

pytest.importorskip("qiskit_ibm_runtime")

import qiskit_ibm_runtime  # noqa: E402
from qiskit.primitives import BackendEstimatorV2  # noqa: E402
from qiskit.transpiler import generate_preset_pass_manager  # noqa: E402

import qenc_ibm  # noqa: E402
from qenc_aer.backend import AerBackend  # noqa: E402
from qenc_bench import (  # noqa: E402
    Circuit,
    ConfigError,
    Depolarizing,
    IncompatibleComponentsError,
    MissingDependencyError,
    Op,
    ReadoutModel,
    Split,
    Workload,
)
from qenc_encoders.angle import AngleEncoder  # noqa: E402
from qenc_ibm import backend as backend_module  # noqa: E402
from qenc_ibm.backend import IBMBackend  # noqa: E402
from qenc_ibm.fake import choose_method, fake_device, noise_model_on, run_compact  # noqa: E402
from qenc_pennylane.backend import PennyLaneBackend  # noqa: E402

TOL = 1e-8


class AngleFeatureMap:
    def __init__(self, n_qubits: int):
        self.n_qubits = n_qubits

    def feature_map(self) -> tuple[Op, ...]:
        return tuple(Op("RX", (j,), "feature", j) for j in range(self.n_qubits))


def readout_circuit(n_data: int) -> Circuit:
    return ReadoutModel().build(AngleFeatureMap(n_data))


def generic_circuit() -> Circuit:
    """Every gate kind; a feature and a weight each feed two gates (the binding columns)."""
    ops = (
        Op("H", (0,)), Op("RY", (1,), "feature", 0), Op("RX", (2,), "feature", 1),
        Op("CNOT", (0, 1)), Op("IsingZZ", (1, 2), "weight", 0), Op("RZ", (0,), "feature", 0),
        Op("CZ", (2, 0)), Op("IsingXX", (0, 2), "weight", 1), Op("RY", (2,), "weight", 0),
        Op("X", (1,)), Op("RX", (1,), "feature", 2),
    )
    return Circuit(3, ops, n_features=3, n_weights=2, readout=2)


def batch(circuit: Circuit, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, np.pi, (n, circuit.n_features)), rng.uniform(-np.pi, np.pi, circuit.n_weights)


def angle_model(n_features: int = 9) -> tuple[Circuit, AngleEncoder]:
    x = np.random.default_rng(0).uniform(0.0, 1.0, (40, n_features))
    split = Split(x, (x[:, 0] > 0.5).astype(int))
    encoder = AngleEncoder().fit(split, split)
    return ReadoutModel().build(encoder), encoder


@pytest.fixture(autouse=True)
def _offline(ibm_offline):
    """Every test here runs offline, without an account from outside (conftest's ibm_offline)."""


@pytest.fixture(scope="module")
def sherbrooke() -> IBMBackend:
    return IBMBackend(device="FakeSherbrooke", shots=4000, seed=7)


# --- the device circuit is the model -----------------------------------------------------

@pytest.mark.parametrize("device, basis", [("FakeFez", {"cz", "rz", "sx", "x"}),
                                           ("FakeSherbrooke", {"ecr", "rz", "sx", "x"})])
@pytest.mark.parametrize("circuit", [readout_circuit(3), generic_circuit()], ids=["readout-3data", "generic"])
def test_the_transpiled_circuit_without_noise_agrees_with_pennylane_and_aer(device, basis, circuit):
    backend = IBMBackend(device=device, noise=False, seed=3)
    features, weights = batch(circuit, 12)
    values = backend.expval(circuit, features, weights)
    np.testing.assert_allclose(values, PennyLaneBackend().expval(circuit, features, weights), atol=TOL, rtol=0)
    np.testing.assert_allclose(values, AerBackend().expval(circuit, features, weights), atol=TOL, rtol=0)
    isa = backend.transpiled(circuit).isa
    assert isa.num_qubits == fake_device(device).num_qubits and set(isa.count_ops()) <= basis
    assert backend.measurement == "exact"


def test_the_cut_circuit_with_its_qubits_noise_is_the_fake_devices_own_simulation():
    """Exact noisy values (density matrix, gate errors and relaxation): the circuit cut to the
    qubits it touches with the noise model on those qubits equals the whole ISA circuit run by
    the fake device itself, with its own noise model of all 127 qubits."""
    circuit = readout_circuit(2)
    features, weights = batch(circuit, 3)
    backend = IBMBackend(device="FakeSherbrooke", seed=3)
    dc = backend.transpiled(circuit)
    binding = dc.binding(features, weights)
    cut = dc.compact(measured=False)
    assert cut.n_qubits == dc.qubits_used < 127
    ours = run_compact(cut, binding, noise_model=noise_model_on("FakeSherbrooke", cut.physical),
                       method="density_matrix")
    device = fake_device("FakeSherbrooke")
    theirs = []
    for row in binding:
        whole = dc.isa.assign_parameters(row)
        # probabilities: Aer 0.18 returns 0 for a one-qubit save_expectation_value in a circuit it truncates
        whole.save_probabilities([dc.readout_physical])
        p0, p1 = device.run(whole, method="density_matrix", shots=1).result().data(0)["probabilities"]
        theirs.append(p0 - p1)
    np.testing.assert_allclose(ours, theirs, atol=1e-10, rtol=0)
    exact = PennyLaneBackend().expval(circuit, features, weights)
    assert np.max(np.abs(ours - exact)) > 1e-3  # the noise is there


def test_shots_carry_the_devices_readout_errors_and_match_its_own_estimator():
    """With shots, the readout qubit's measured <Z> is z (1 - p01 - p10) + p01 - p10 (the
    device's readout error probabilities); the old path, BackendEstimatorV2 on the fake device,
    agrees within shot noise."""
    shots, circuit = 20000, readout_circuit(2)
    features, weights = batch(circuit, 4, seed=1)
    backend = IBMBackend(device="FakeSherbrooke", shots=shots, seed=5)
    values = backend.expval(circuit, features, weights)
    dc = backend.transpiled(circuit)
    binding = dc.binding(features, weights)
    z = run_compact(dc.compact(measured=False), binding, method="density_matrix",
                    noise_model=noise_model_on("FakeSherbrooke", dc.compact(measured=False).physical))
    qubit = fake_device("FakeSherbrooke").properties().qubit_property(dc.readout_physical)
    p10, p01 = qubit["prob_meas1_prep0"][0], qubit["prob_meas0_prep1"][0]
    sigma = math.sqrt(1.0 / shots)
    np.testing.assert_allclose(values, z * (1 - p01 - p10) + p01 - p10, atol=5 * sigma, rtol=0)
    estimator = BackendEstimatorV2(backend=fake_device("FakeSherbrooke"),
                                   options={"default_precision": 1 / math.sqrt(shots - 0.5), "seed_simulator": 5})
    old = estimator.run([(dc.isa, dc.observable, binding)]).result()[0].data.evs
    np.testing.assert_allclose(values, old, atol=5 * math.sqrt(2) * sigma, rtol=0)


def test_device_noise_shrinks_values_and_every_batch_is_one_aer_run(sherbrooke, monkeypatch):
    runs: list[int] = []
    real = backend_module.run_compact

    def counted(compact, angles, **kwargs):
        runs.append(len(angles))
        return real(compact, angles, **kwargs)

    monkeypatch.setattr(backend_module, "run_compact", counted)
    circuit = readout_circuit(4)
    features, weights = batch(circuit, 60)
    exact = PennyLaneBackend().expval(circuit, features, weights)
    values = sherbrooke.expval(circuit, features, weights)
    again = sherbrooke.expval(circuit, features, weights)
    assert runs == [60, 60]
    np.testing.assert_array_equal(values, again)  # a seeded simulator
    assert np.all(np.abs(values * 4000 - np.round(values * 4000)) < 1e-6)  # (n0 - n1) / 4000 of 4000 shots
    assert np.max(np.abs(values - exact)) < 0.3
    # shot noise alone would scatter around exact; the device's errors contract <Z> to 0
    slope = float(values @ exact / (exact @ exact))
    assert slope < 0.95, slope
    info = sherbrooke.info()
    assert info["resilience_level"] == 0 and info["simulation"] == "density_matrix"
    assert info["summary"].startswith("FakeSherbrooke noise model, 4000 shots, local Aer")
    assert sherbrooke.measurement == "FakeSherbrooke noise model, shots=4000"
    local = sherbrooke.estimate(Workload(calls=1, circuits=60, max_qubits=5))
    assert local.simulated and local.shots == 60 * 4000 and local.detail.startswith("fake device, simulated locally")


def test_the_layout_touching_the_fewest_qubits_is_kept():
    """On FakeFez the transpiler's seed 0 routes the 10-qubit model over 14 qubits (256 times
    the density matrix); the backend tries more seeds and keeps a 10-qubit layout."""
    circuit, _ = angle_model()
    device = fake_device("FakeFez")
    from qenc_aer.translate import to_qiskit

    single = generate_preset_pass_manager(backend=device, optimization_level=1, seed_transpiler=0).run(
        to_qiskit(circuit).circuit)
    touched = {single.find_bit(q).index for instruction in single.data for q in instruction.qubits}
    assert len(touched) > 10
    dc = IBMBackend(device="FakeFez", seed=0).transpiled(circuit)
    assert dc.qubits_used == 10 and dc.compact(measured=True).n_qubits == 10
    assert dc.seconds is not None and 1e-6 < dc.seconds < 1e-4


@pytest.mark.parametrize("qubits, shots, noisy, method", [
    (10, 1000, True, "density_matrix"), (12, 1000, True, "density_matrix"), (13, 1000, True, "statevector"),
    (13, 4000, True, "density_matrix"), (14, 100000, True, "statevector"), (10, None, False, "statevector"),
])
def test_the_method_follows_the_size(qubits, shots, noisy, method):
    assert choose_method(qubits, shots, noisy) == method
    assert choose_method(qubits, shots, noisy, "statevector") == "statevector"


def test_check_refuses_a_circuit_larger_than_the_device(sherbrooke):
    small = IBMBackend(device="FakeManilaV2", noise=False)
    assert small.capabilities.max_qubits == 5 and sherbrooke.capabilities.max_qubits == 127
    with pytest.raises(IncompatibleComponentsError, match="FakeManilaV2 has 5 qubits; this circuit needs 6"):
        small.expval(readout_circuit(5), *batch(readout_circuit(5), 2))
    with pytest.raises(IncompatibleComponentsError, match="has 127 qubits; this circuit needs 128"):
        sherbrooke.check(readout_circuit(127))


def test_depolarizing_levels_are_refused(sherbrooke):
    circuit = readout_circuit(3)
    with pytest.raises(IncompatibleComponentsError, match="own noise.*--backend aer"):
        sherbrooke.noisy_expval(circuit, *batch(circuit, 2), Depolarizing(0.03))


@pytest.mark.parametrize("options, message", [
    ({"shots": 0}, "shots must be a positive integer"),
    ({"optimization_level": 4}, "optimization_level"),
    ({"resilience_level": 1}, "fake device runs locally without error mitigation"),
    ({"resilience_level": 3}, "resilience_level must be 0, 1 or 2"),
    ({"estimator_options": '{"twirling": {"enable_gates": true}}'}, "a fake device runs Aer locally"),
    ({"dry_run": True}, "submits nothing anyway"),
    ({"noise": False, "shots": 100}, "leave shots out"),
    ({"device": "FakeNowhere"}, "unknown fake device 'FakeNowhere'; known: .*FakeFez"),
    ({"device": "ibm_fez", "noise": False}, "noise=False needs a fake device"),
    ({"mode": "queue"}, "mode must be one of batch, session, job"),
    ({"estimator": "v3"}, "estimator must be one of auto, client, v2"),
    ({"simulation_method": "mps"}, "simulation_method must be one of"),
    ({"result_timeout": 0}, "result_timeout must be a positive number"),
    ({"retries": -1}, "retries must be a non-negative integer"),
    ({"max_execution_time": 20000}, "max_execution_time must be 1 to 10800"),
    ({"estimator_options": "{not json"}, "estimator_options is not valid JSON"),
    ({"estimator_options": "[1, 2]"}, "estimator_options must be a JSON object"),
    ({"estimator_options": '{"default_shots": 10}'}, "sets default_shots.*--shots"),
    ({"resilience_level": 0, "estimator_options": '{"resilience_level": 2}'}, "disagree"),
])
def test_bad_options_are_config_errors_before_anything_is_built(options, message, monkeypatch):
    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", None)  # no login is attempted
    with pytest.raises(ConfigError, match=message):
        IBMBackend(**options)


def test_a_fake_device_accepts_resilience_level_0_and_records_it():
    backend = IBMBackend(device="FakeManilaV2", resilience_level=0, shots=100)
    assert backend.resilience_level == 0 and backend.info()["resilience_level"] == 0
    assert "resilience_level=0" in repr(backend)


# --- the plugin --------------------------------------------------------------------------

def test_the_plugin_registers_a_remote_job_backend_and_the_ibm_jobs_command():
    backends, commands = [], []
    qenc_ibm.qenc_bench_register_backends(register=backends.append)
    qenc_ibm.qenc_bench_register_commands(register=commands.append)
    [spec] = backends
    assert spec.name == "ibm" and spec.capabilities.remote_jobs and spec.requires == ("qiskit_ibm_runtime",)
    assert spec.capabilities.max_qubits == 156
    [command] = commands
    assert command.name == "ibm-jobs" and command.factory().name == "ibm-jobs"


def test_qenc_bench_help_lists_the_ibm_jobs_command():
    cli = pytest.importorskip("qenc_bench.cli")  # the CLI module of the core
    from click.testing import CliRunner

    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0 and "ibm-jobs" in result.output


def test_without_qiskit_ibm_runtime_the_backend_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "qiskit_ibm_runtime", None)  # import fails as if not installed
    for build in (qenc_ibm._build, lambda: qenc_ibm.require_runtime("qenc-bench ibm-jobs")):
        with pytest.raises(MissingDependencyError) as caught:
            build()
        message = str(caught.value)
        assert 'pip install "qenc-bench[ibm]"' in message and "qiskit-ibm-runtime" in message
        assert "\n" not in message


def test_a_runtime_older_than_the_ibm_quantum_platform_channel_is_refused(monkeypatch):
    monkeypatch.setattr(qiskit_ibm_runtime, "__version__", "0.38.0")
    with pytest.raises(MissingDependencyError, match=r"qiskit-ibm-runtime 0\.40\.1 or later \(installed: 0\.38\.0\)"):
        qenc_ibm._build(device="FakeManilaV2")


def test_compare_evaluates_on_the_fake_device_and_records_what_it_measured():
    harness = pytest.importorskip("qenc_bench.harness")
    config = harness.CompareConfig(encoders=("angle",), dataset="digits", seeds=1, grid=2, train_size=40,
                                   test_size=20, backend="ibm", classical=(),
                                   backend_options={"device": "FakeFez", "shots": 1000, "seed": 0})
    [record] = harness.compare(config).records
    assert record.backend == "ibm" and record.train_backend == "exact"
    assert record.measurement == "FakeFez noise model, shots=1000"
    assert record.backend_info["device"] == "FakeFez" and record.backend_info["resilience_level"] == 0
    assert record.backend_info["summary"].startswith("FakeFez noise model")
