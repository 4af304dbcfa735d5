"""IBM Quantum accounts offline: where the account comes from, the instance and URL, one-line
errors that say whether the network, the token, the instance or the device is at fault, and
the token -- from the environment, a saved account file or a given service -- in no message,
log, journal or repr. No test touches the network: sockets are blocked, and the "offline"
case makes name resolution fail the way it does without a network."""

from __future__ import annotations

import json
import logging
import socket

import numpy as np
import pytest

pytest.importorskip("qiskit_ibm_runtime")

import qiskit_ibm_runtime  # noqa: E402
from qiskit_ibm_runtime.accounts import AccountManager  # noqa: E402
from qiskit_ibm_runtime.accounts.exceptions import InvalidAccountError  # noqa: E402
from qiskit_ibm_runtime.exceptions import IBMInputValueError, IBMNotAuthorizedError, IBMRuntimeError  # noqa: E402

from qenc_bench import ConfigError, Op, ReadoutModel  # noqa: E402
from qenc_ibm.account import connect  # noqa: E402
from qenc_ibm.backend import IBMBackend  # noqa: E402
from qenc_ibm.errors import IBMServiceError  # noqa: E402
from qenc_ibm.fake import fake_device  # noqa: E402

TOKEN = "tok-3f9a1c77e2b04d55-SECRET"
LEGACY_TOKEN = "tok-legacy-0b1e2d3c-SECRET"
CRN = "crn:v1:bluemix:public:quantum-computing:us-east:a/0123456789abcdef:0f1e2d3c-aaaa-bbbb-cccc-0123456789ab::"
RUNTIME = tuple(int(part) for part in qiskit_ibm_runtime.__version__.split(".")[:2])
LOCAL_RESILIENCE = "ignore:The resilience_level option has no effect in local testing mode:UserWarning"


@pytest.fixture(autouse=True)
def _offline(ibm_offline):
    """Every test here runs offline, without an account from outside (conftest's ibm_offline)."""


def account_file(tmp_path, *, legacy_default: bool = False, instance: str | None = None):
    """A saved account written by the runtime itself (and, optionally, a retired
    ``ibm_quantum`` account marked default, as older qiskit-ibm-runtime versions left them)."""
    path = tmp_path / "home" / ".qiskit" / "qiskit-ibm.json"
    qiskit_ibm_runtime.QiskitRuntimeService.save_account(
        token=TOKEN, channel="ibm_quantum_platform", filename=str(path), instance=instance, set_as_default=True)
    if legacy_default:
        accounts = json.loads(path.read_text())
        for account in accounts.values():
            account.pop("is_default_account", None)
        accounts["default-ibm-quantum"] = {"channel": "ibm_quantum", "token": LEGACY_TOKEN, "is_default_account": True,
                                           "url": "https://auth.quantum-computing.ibm.com/api"}
        path.write_text(json.dumps(accounts))
    return path


class StandInService:
    """What qenc_ibm uses of a ``QiskitRuntimeService`` (``backend``, ``active_account``),
    handing out a small fake device so that jobs run in the runtime's local mode."""

    def __init__(self, token: str | None = None, **kwargs):
        self.kwargs = {**kwargs, **({"token": token} if token else {})}

    def active_account(self):
        return {"channel": "ibm_quantum_platform", "token": self.kwargs.get("token", TOKEN)}

    def backend(self, name):
        return fake_device("FakeManilaV2")


@pytest.fixture
def services(monkeypatch) -> list[StandInService]:
    """Every ``QiskitRuntimeService(...)`` made: stand-ins that record their arguments (the
    runtime's static ``saved_accounts`` stays real)."""
    made: list[StandInService] = []

    class Service(qiskit_ibm_runtime.QiskitRuntimeService):
        def __new__(cls, **kwargs):
            made.append(StandInService(**kwargs))
            return made[-1]

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", Service)
    return made


def refusing(monkeypatch, error: BaseException) -> None:
    """Logging in raises ``error`` (the runtime's static ``saved_accounts`` stays real)."""
    class Service(qiskit_ibm_runtime.QiskitRuntimeService):
        def __new__(cls, **kwargs):
            raise error

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", Service)


def one_line_without_secrets(error: BaseException, *secrets: str) -> str:
    message = str(error)
    assert "\n" not in message and all(s not in message for s in secrets), message
    # the runtime's exception, which may quote the token, is not chained
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    return message


# --- where the account comes from --------------------------------------------------------

def test_no_account_is_an_error_before_any_service_or_network(tmp_path, monkeypatch):
    refusing(monkeypatch, AssertionError("a service was made without an account"))
    with pytest.raises(ConfigError) as caught:
        IBMBackend(device="ibm_fez")
    message = str(caught.value)
    assert "needs an IBM Quantum account" in message and "QISKIT_IBM_TOKEN" in message
    assert "QiskitRuntimeService.save_account" in message and "FakeFez" in message
    assert not (tmp_path / "home" / ".qiskit").exists()  # the lookup created no account file


def test_the_environment_token_reaches_the_service_with_its_channel_instance_and_url(services, monkeypatch):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", CRN)
    monkeypatch.setenv("QISKIT_IBM_URL", "https://private.quantum.example/api")
    monkeypatch.setenv("QISKIT_IBM_CHANNEL", "ibm_cloud")
    backend = IBMBackend(device="ibm_fez")
    assert services[-1].kwargs == {"channel": "ibm_cloud", "token": TOKEN, "instance": CRN,
                                   "url": "https://private.quantum.example/api"}
    assert backend.account == "environment"


def test_a_saved_account_is_chosen_by_channel_past_a_retired_default(services, tmp_path):
    path = account_file(tmp_path, legacy_default=True)
    if RUNTIME >= (0, 41):  # the retired channel is refused from 0.41: the runtime's own pick fails
        with pytest.raises(InvalidAccountError, match="ibm_quantum"):
            AccountManager.get(filename=str(path))
    backend = IBMBackend(device="ibm_fez")
    kwargs = services[-1].kwargs
    assert kwargs == {"filename": str(path), "name": "default-ibm-quantum-platform", "instance": None}
    assert AccountManager.get(filename=str(path), name=kwargs["name"]).channel == "ibm_quantum_platform"
    assert backend.account == "saved account"


def test_only_a_retired_saved_account_is_no_account(tmp_path, services):
    path = tmp_path / "home" / ".qiskit" / "qiskit-ibm.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"old": {"channel": "ibm_quantum", "token": LEGACY_TOKEN, "is_default_account": True}}))
    with pytest.raises(ConfigError, match="holds no saved ibm_quantum_platform account") as caught:
        connect()
    assert "\n" not in str(caught.value) and LEGACY_TOKEN not in str(caught.value) and not services


def test_an_unknown_channel_is_a_config_error(monkeypatch):
    monkeypatch.setenv("QISKIT_IBM_CHANNEL", "ibm_quantum")
    with pytest.raises(ConfigError, match="'ibm_quantum' is not a channel.*retired"):
        IBMBackend(device="ibm_fez")


# --- one line that says what is at fault -------------------------------------------------

@pytest.mark.parametrize("instance", ["crn:v1:bluemix:public:quantum-computing", "crn:", f"{CRN}extra:fields",
                                      "crn:v1:bluemix:public:cloud-object-storage:us-east:a/1:2::", "my:instance"])
@pytest.mark.parametrize("where", ["environment", "saved account"])
def test_a_malformed_crn_is_an_instance_error_not_a_traceback(instance, where, services, tmp_path, monkeypatch):
    if where == "environment":
        monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
        monkeypatch.setenv("QISKIT_IBM_INSTANCE", instance)
    else:
        path = account_file(tmp_path)
        accounts = json.loads(path.read_text())
        accounts["default-ibm-quantum-platform"]["instance"] = instance
        path.write_text(json.dumps(accounts))
    with pytest.raises(IBMServiceError) as caught:
        IBMBackend(device="ibm_fez")
    assert caught.value.kind == "instance" and not services  # refused before the runtime parses it
    assert "not an IBM Cloud CRN" in one_line_without_secrets(caught.value, TOKEN)


def test_the_runtime_itself_fails_on_a_malformed_crn(monkeypatch):
    """Why the CRN is checked first: the runtime raises AttributeError on it (0.51)."""
    with pytest.raises(AttributeError):
        qiskit_ibm_runtime.QiskitRuntimeService(channel="ibm_quantum_platform", token=TOKEN, instance="crn:garbage")


def test_offline_the_error_blames_the_network_not_the_token(monkeypatch):
    """The real runtime and requests, with name resolution failing as it does offline: the
    runtime says 'check that you are using a valid API token'; the error says network."""
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    with pytest.raises(IBMServiceError) as caught:
        IBMBackend(device="ibm_fez")
    message = one_line_without_secrets(caught.value, TOKEN)
    assert caught.value.kind == "network" and "the connection failed" in message and "token" not in message


@pytest.mark.parametrize("error, kind", [
    (IBMNotAuthorizedError(f"401 Client Error for token {TOKEN}"), "token"),
    (InvalidAccountError(f"Invalid `token` value. Expected a non-empty string, got '{TOKEN}'.\nmore"), "token"),
    (InvalidAccountError("Unable to retrieve instances. Please check that you are using a valid API token."), "token"),
    (IBMInputValueError(f"The given API token is associated with an account that does not have access to the "
                        f"instance {CRN}. apikey={TOKEN}"), "instance"),
    (ConnectionError(f"cannot reach iam.cloud.ibm.com with apikey={TOKEN}"), "network"),
])
@pytest.mark.parametrize("source", ["environment", "saved account"])
def test_a_refused_login_is_one_line_of_the_right_kind_without_the_token(error, kind, source, monkeypatch, tmp_path):
    if source == "environment":
        monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    else:
        account_file(tmp_path)
    refusing(monkeypatch, error)
    with pytest.raises(IBMServiceError) as caught:
        IBMBackend(device="ibm_fez")
    message = one_line_without_secrets(caught.value, TOKEN)
    assert caught.value.kind == kind
    assert ("could not reach IBM Quantum" if kind == "network" else "did not accept the account") in message
    assert ("QISKIT_IBM_TOKEN" if source == "environment" else "saved account") in message


def test_every_token_in_the_account_file_is_redacted(monkeypatch, tmp_path):
    account_file(tmp_path, legacy_default=True)
    refusing(monkeypatch, IBMNotAuthorizedError(f"tokens {TOKEN} and {LEGACY_TOKEN} refused"))
    with pytest.raises(IBMServiceError) as caught:
        IBMBackend(device="ibm_fez")
    assert "*** and ***" in one_line_without_secrets(caught.value, TOKEN, LEGACY_TOKEN)


def test_a_given_services_token_is_redacted_from_device_errors():
    class Refusing(StandInService):
        def backend(self, name):
            raise IBMRuntimeError(f"Failed to get backend {name}: '403 Client Error: Forbidden' token={TOKEN}")

    with pytest.raises(IBMServiceError) as caught:
        IBMBackend(device="ibm_fez", service=Refusing())
    assert caught.value.kind == "device" and "ibm_fez" in one_line_without_secrets(caught.value, TOKEN)


def test_an_unknown_device_says_how_to_list_the_available_ones():
    from qiskit.providers.exceptions import QiskitBackendNotFoundError

    class NoSuchDevice(StandInService):
        def backend(self, name):
            raise QiskitBackendNotFoundError("No backend matches the criteria.")

    with pytest.raises(IBMServiceError, match="'ibm_nowhere' is not available to this account.*backends()") as caught:
        IBMBackend(device="ibm_nowhere", service=NoSuchDevice())
    assert caught.value.kind == "device"


# --- the token never leaves --------------------------------------------------------------

@pytest.mark.filterwarnings(LOCAL_RESILIENCE)
@pytest.mark.parametrize("source", ["environment", "saved account", "given service"])
def test_the_token_never_reaches_output_logs_journal_info_or_reprs(source, services, monkeypatch, tmp_path, caplog,
                                                                   capfd):
    """A whole hardware evaluation -- login, a job that runs, a job whose failure quotes the
    token -- and the token is nowhere: not in errors, logs, the journal, info or reprs."""
    caplog.set_level(logging.DEBUG)
    options = {"device": "ibm_fez", "shots": 200, "job_journal": str(tmp_path / "jobs.jsonl")}
    if source == "environment":
        monkeypatch.setenv("QISKIT_IBM_TOKEN", TOKEN)
    elif source == "saved account":
        account_file(tmp_path)
    else:
        options["service"] = StandInService(token=TOKEN)
    backend = IBMBackend(**options)
    assert backend.connection.secrets == (TOKEN,)  # kept to redact, nowhere else
    circuit = ReadoutModel().build(type("Map", (), {"n_qubits": 2, "feature_map": lambda self: (
        Op("RX", (0,), "feature", 0), Op("RX", (1,), "feature", 1))})())
    features, weights = np.full((3, 2), 0.4), np.full(circuit.n_weights, 0.2)
    with backend.job_tags(purpose="test", encoder="angle", seed=0):
        backend.expval(circuit, features, weights)
    estimator = backend.estimator()

    class FailingJob:
        def job_id(self):
            return "job-that-fails"

        def result(self):
            from qiskit_ibm_runtime.exceptions import RuntimeJobFailureError

            raise RuntimeJobFailureError(f"Unable to retrieve job result. Error code 1234; bad apikey {TOKEN}")

    monkeypatch.setattr(estimator, "run", lambda pubs: FailingJob())
    with pytest.raises(IBMServiceError) as caught:
        backend.expval(circuit, features, weights)
    assert caught.value.kind == "job" and "job-that-fails" in str(caught.value)
    backend.close()
    captured = capfd.readouterr()
    seen = {"error": str(caught.value), "logs": caplog.text + "".join(str(r.args) for r in caplog.records),
            "fd output": captured.out + captured.err, "journal": (tmp_path / "jobs.jsonl").read_text(),
            "info": json.dumps(backend.info()), "repr": repr(backend) + repr(backend.connection),
            "measurement": backend.measurement}
    assert not [where for where, text in seen.items() if TOKEN in text]
    assert "***" in seen["error"]
