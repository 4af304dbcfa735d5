"""The ``ibm`` backend, offline: fake devices through Aer (with and without their noise model),
the hardware path through a Runtime Batch with a stand-in service, account errors, and the
token kept out of every output. No test touches the network (sockets are blocked here)."""

from __future__ import annotations

import json
import logging
import socket
from importlib import metadata

import numpy as np
import pytest

pytest.importorskip("qiskit_ibm_runtime")

import qiskit_ibm_runtime  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from qiskit_ibm_runtime.accounts.exceptions import InvalidAccountError  # noqa: E402
from qiskit_ibm_runtime.exceptions import IBMNotAuthorizedError  # noqa: E402

import qenc_ibm  # noqa: E402
from qenc_aer.backend import AerBackend  # noqa: E402
from qenc_bench import Circuit, Op  # noqa: E402
from qenc_bench.cli import main  # noqa: E402
from qenc_bench.errors import ConfigError, IncompatibleComponentsError  # noqa: E402
from qenc_bench.harness import CompareConfig, compare  # noqa: E402
from qenc_bench.model import ReadoutModel  # noqa: E402
from qenc_bench.noise import Depolarizing  # noqa: E402
from qenc_bench import plugins as plugins_module  # noqa: E402
from qenc_bench.plugins import ENTRY_POINT_GROUP, Registry, get_plugin_manager  # noqa: E402
from qenc_bench.training import TrainConfig  # noqa: E402
from qenc_ibm.backend import IBMBackend, fake_device  # noqa: E402
from qenc_pennylane.backend import PennyLaneBackend  # noqa: E402

TOL = 1e-8
TOKEN = "tok-3f9a1c77e2b04d55-SECRET"
ENV = ("QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL", "QISKIT_IBM_URL")
#: local testing mode warns that error mitigation does not run there; the stand-in service
#: hands out a fake device, so the Batch path is local
RESILIENCE_IS_LOCAL = "ignore:The resilience_level option has no effect in local testing mode:UserWarning"


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


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    """No socket may connect; no IBM account leaks in from the caller's environment or home."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def noisy() -> IBMBackend:
    return IBMBackend(device="FakeSherbrooke", shots=4000, seed=7)


class StandInService:
    """What :mod:`qenc_ibm` uses of a ``QiskitRuntimeService``: ``backend(name)``; hands out
    the fake Sherbrooke (its noise model already built) and records what was asked."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.asked: list[str] = []

    def backend(self, name: str):
        self.asked.append(name)
        return fake_device("FakeSherbrooke")


def counting(monkeypatch) -> list[int]:
    """Counts estimator calls of every IBMBackend (one per job)."""
    calls: list[int] = []
    run = IBMBackend._run

    def counted(self, dc, angles):
        calls.append(len(angles))
        return run(self, dc, angles)

    monkeypatch.setattr(IBMBackend, "_run", counted)
    return calls


@pytest.fixture
def ibm_entry_point(monkeypatch):
    """The ``qenc_bench`` entry-point group lists ``ibm`` as if it were installed (it is added
    only when missing). Every other call passes through: Qiskit's transpiler asks for all
    groups at once (stevedore calls ``entry_points()`` with no argument)."""
    real = plugins_module.metadata.entry_points

    def entry_points(**kwargs):
        found = real(**kwargs)
        if kwargs.get("group") != ENTRY_POINT_GROUP or any(ep.name == "ibm" for ep in found):
            return found
        return [*found, metadata.EntryPoint("ibm", "qenc_ibm", ENTRY_POINT_GROUP)]

    monkeypatch.setattr(plugins_module.metadata, "entry_points", entry_points)


def registry() -> Registry:
    """Every installed plugin, plus ``ibm`` when its entry point is not installed yet."""
    pm = get_plugin_manager()
    if pm.get_plugin("ibm") is None:
        pm.register(qenc_ibm, name="ibm")
    return Registry.from_plugin_manager(pm)


# --- the device circuit is the model -----------------------------------------------------

@pytest.mark.parametrize("circuit", [readout_circuit(3), readout_circuit(4), generic_circuit()],
                         ids=["readout-3data", "readout-4data", "generic"])
def test_the_transpiled_circuit_without_noise_agrees_with_pennylane_and_aer(circuit):
    backend = IBMBackend(device="FakeSherbrooke", noise=False, seed=3)
    features, weights = batch(circuit, 12)
    values = backend.expval(circuit, features, weights)
    np.testing.assert_allclose(values, PennyLaneBackend().expval(circuit, features, weights), atol=TOL, rtol=0)
    np.testing.assert_allclose(values, AerBackend().expval(circuit, features, weights), atol=TOL, rtol=0)
    isa = backend.transpiled(circuit).isa
    assert isa.num_qubits == 127 and set(isa.count_ops()) <= {"ecr", "rz", "sx", "x"}


def test_device_noise_shrinks_values_and_every_batch_is_one_estimator_call(noisy, monkeypatch):
    circuit = readout_circuit(4)
    features, weights = batch(circuit, 60)
    exact = PennyLaneBackend().expval(circuit, features, weights)
    jobs = []
    estimator = noisy.estimator()
    run = estimator.run

    def recorded(pubs, **kwargs):
        jobs.append(run(pubs, **kwargs))
        return jobs[-1]

    monkeypatch.setattr(estimator, "run", recorded)
    values = noisy.expval(circuit, features, weights)
    again = noisy.expval(circuit, features, weights)
    assert len(jobs) == 2 and noisy.jobs >= 2
    assert jobs[0].result()[0].metadata["shots"] == 4000  # exactly the shots asked for
    np.testing.assert_array_equal(values, again)  # a seeded simulator
    assert np.max(np.abs(values - exact)) < 0.3
    # shot noise alone would scatter around exact; the device's errors contract <Z> to 0
    slope = float(values @ exact / (exact @ exact))
    assert slope < 0.95, slope


def test_check_refuses_a_circuit_larger_than_the_device(noisy):
    small = IBMBackend(device="FakeManilaV2", noise=False)
    assert small.capabilities.max_qubits == 5 and noisy.capabilities.max_qubits == 127
    with pytest.raises(IncompatibleComponentsError, match="FakeManilaV2 has 5 qubits; this circuit needs 6"):
        small.expval(readout_circuit(5), *batch(readout_circuit(5), 2))
    with pytest.raises(IncompatibleComponentsError, match="has 127 qubits; this circuit needs 128"):
        noisy.check(readout_circuit(127))


def test_depolarizing_levels_are_refused_before_anything_runs(noisy):
    circuit = readout_circuit(3)
    with pytest.raises(IncompatibleComponentsError, match="own noise.*--backend aer"):
        noisy.noisy_expval(circuit, *batch(circuit, 2), Depolarizing(0.03))
    config = CompareConfig(encoders=("angle",), backend="ibm", noise=(0.03,), seeds=1)
    with pytest.raises(IncompatibleComponentsError, match="backend 'ibm' cannot simulate noise"):
        compare(config, registry=registry())


@pytest.mark.parametrize("options, message", [
    ({"shots": 0}, "shots must be a positive integer"),
    ({"optimization_level": 4}, "optimization_level"),
    ({"resilience_level": 1}, "fake device runs locally"),
    ({"noise": False, "shots": 100}, "leave shots out"),
    ({"device": "FakeNowhere"}, "unknown fake device 'FakeNowhere'; known: .*FakeSherbrooke"),
    ({"device": "ibm_sherbrooke", "noise": False}, "noise=False needs a fake device"),
    ({"mode": "queue"}, "mode must be one of batch, session, job"),
])
def test_bad_options_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        IBMBackend(**options)


# --- accounts and the token --------------------------------------------------------------

def test_no_account_is_an_error_before_any_service_or_network(tmp_path, monkeypatch):
    def refuse(**kwargs):
        raise AssertionError("a service was made without an account")

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", refuse)
    with pytest.raises(ConfigError) as caught:
        IBMBackend(device="ibm_sherbrooke")
    message = str(caught.value)
    assert "no IBM Quantum account" in message and "QISKIT_IBM_TOKEN" in message
    assert "QiskitRuntimeService.save_account" in message and "FakeSherbrooke" in message
    assert not (tmp_path / "home" / ".qiskit").exists()  # the lookup created no account file


def test_the_environment_token_reaches_the_service_and_a_saved_account_is_the_fallback(tmp_path, monkeypatch):
    made: list[StandInService] = []

    class Service(qiskit_ibm_runtime.QiskitRuntimeService):  # keeps saved_accounts()
        def __new__(cls, **kwargs):
            made.append(StandInService(**kwargs))
            return made[-1]

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", Service)
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", "my-instance")
    backend = IBMBackend(device="ibm_sherbrooke")
    assert made[-1].kwargs == {"channel": "ibm_quantum_platform", "token": TOKEN, "instance": "my-instance"}
    assert made[-1].asked == ["ibm_sherbrooke"] and backend.account == "environment"

    monkeypatch.delenv("QISKIT_IBM_TOKEN")
    monkeypatch.delenv("QISKIT_IBM_INSTANCE")
    account_file = tmp_path / "home" / ".qiskit" / "qiskit-ibm.json"
    qiskit_ibm_runtime.QiskitRuntimeService.save_account(
        token=TOKEN, channel="ibm_quantum_platform", filename=str(account_file), set_as_default=True
    )
    backend = IBMBackend(device="ibm_sherbrooke")
    assert made[-1].kwargs == {"channel": None, "filename": str(account_file), "instance": None}
    assert backend.account == "saved account"


@pytest.mark.parametrize("error", [
    IBMNotAuthorizedError(f"401 Client Error for token {TOKEN}"),
    InvalidAccountError(f"Invalid `token` value. Expected a non-empty string, got '{TOKEN}'.\nmore"),
    ConnectionError(f"cannot reach auth.quantum.ibm.com with apikey={TOKEN}"),
])
def test_a_refused_token_gives_one_line_that_does_not_echo_it(monkeypatch, tmp_path, ibm_entry_point, error):
    def refuse(**kwargs):
        raise error

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", refuse)
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    with pytest.raises(ConfigError, match="IBM Quantum did not accept the account") as caught:
        IBMBackend(device="ibm_sherbrooke")
    assert TOKEN not in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # not chained
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["compare", "--backend", "ibm", "--device", "ibm_sherbrooke", "--seeds", "1",
                                       "--encoders", "angle", "--out", "never.json"],
                                catch_exceptions=False)
    assert result.exit_code == 1 and "did not accept the account" in result.stderr
    assert TOKEN not in result.output and not (tmp_path / "never.json").exists()


@pytest.mark.filterwarnings(RESILIENCE_IS_LOCAL)
def test_hardware_jobs_go_through_a_runtime_batch_one_job_per_batch(monkeypatch):
    service = StandInService()
    backend = IBMBackend(device="ibm_sherbrooke", service=service, shots=1000, resilience_level=1)
    calls = counting(monkeypatch)
    circuit = readout_circuit(3)
    backend.expval(circuit, *batch(circuit, 9))
    backend.expval(circuit, *batch(circuit, 5, seed=1))
    estimator = backend.estimator()
    assert isinstance(estimator, qiskit_ibm_runtime.EstimatorV2)
    assert isinstance(estimator.mode, qiskit_ibm_runtime.Batch) and estimator.mode.backend() == "fake_sherbrooke"
    assert estimator.options.default_shots == 1000 and estimator.options.resilience_level == 1
    assert calls == [9, 5] and backend.jobs == 2 and service.asked == ["ibm_sherbrooke"]
    backend.close()
    assert backend.describe()["mode"] == "batch" and "resilience_level=1" in repr(backend)


@pytest.mark.filterwarnings(RESILIENCE_IS_LOCAL)
def test_the_token_never_reaches_output_logs_records_or_reprs(monkeypatch, tmp_path, caplog, capfd,
                                                               ibm_entry_point):
    made: list[StandInService] = []

    def service(**kwargs):
        made.append(StandInService(**kwargs))
        return made[-1]

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", service)
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "result.json"
    result = CliRunner().invoke(main, [
        "compare", "--encoders", "angle", "--grid", "2", "--seeds", "1", "--train-size", "40", "--test-size", "20",
        "--epochs", "10", "--backend", "ibm", "--device", "ibm_sherbrooke", "--shots", "1000",
        "--backend-option", "resilience_level=1", "--out", str(out),
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert made and made[0].kwargs["token"] == TOKEN  # the token did go where it belongs
    record = json.loads(out.read_text())["records"][0]
    assert record["backend"] == "ibm" and record["train_backend"] == "exact"
    backend = IBMBackend(device="ibm_sherbrooke", resilience_level=1)
    captured = capfd.readouterr()
    seen = {
        "cli output": result.output, "stderr": result.stderr, "result file": out.read_text(),
        "logs": caplog.text + "".join(str(r.args) for r in caplog.records),
        "fd output": captured.out + captured.err, "repr": repr(backend), "describe": json.dumps(backend.describe()),
    }
    assert not [where for where, text in seen.items() if TOKEN in text]


# --- the harness on the device -----------------------------------------------------------

def test_compare_trains_on_exact_and_evaluates_on_the_fake_device(monkeypatch):
    calls = counting(monkeypatch)
    config = CompareConfig(encoders=("atp", "angle"), dataset="digits", seeds=1, grid=2, train_size=80,
                           test_size=60, backend="ibm", backend_options={"device": "FakeSherbrooke", "shots": 4000,
                                                                          "seed": 0},
                           training=TrainConfig(max_epochs=30, patience=5))
    result = compare(config, registry=registry())
    assert [r.backend for r in result.records] == ["ibm", "ibm"]
    assert [r.train_backend for r in result.records] == ["exact", "exact"]
    assert calls == [60, 60]  # the test split of each encoder: one job each
    # digits at 2x2 pixels: 0.78 evaluated exactly; chance is 0.5
    assert all(r.accuracy >= 0.7 for r in result.records), [r.accuracy for r in result.records]
    assert result.config["backend_options"] == {"device": "FakeSherbrooke", "shots": 4000, "seed": 0}


def test_cobyla_trains_on_the_fake_device_one_job_per_loss_evaluation(monkeypatch):
    calls = counting(monkeypatch)
    config = CompareConfig(encoders=("angle",), dataset="digits", seeds=1, grid=1, train_size=24, test_size=20,
                           backend="ibm", backend_options={"device": "FakeSherbrooke", "shots": 2000, "seed": 1},
                           training=TrainConfig(optimizer="cobyla", max_iterations=5))
    record = compare(config, registry=registry()).records[0]
    assert record.train_backend == "ibm" and record.epochs == 5  # COBYLA's loss evaluations
    n_validation = record.sizes["validation"]
    assert calls == [24] * 5 + [n_validation, 20]  # each loss one job; then validation and test
