"""Hardware jobs offline: the cost estimate, the Runtime estimator and its options, the job
journal, waiting with a timeout and retries, failed jobs, a session the Open Plan refuses, a
dry run, and collecting a crashed run's finished jobs with ``qenc-bench ibm-jobs --collect``.

Everything runs the runtime's own classes: jobs are executed by qiskit-ibm-runtime's local
mode on a small fake device (the stand-in service hands it out as the "hardware"), the
options are its ``EstimatorOptions`` models, and waiting and results go through its
``RuntimeJobV2``. Only the network layer is replaced: :class:`ServiceApi` answers the job
status and result calls a ``RuntimeJobV2`` makes, and :func:`hosted` hands each locally run
job to it, so a test decides when a job finishes, fails or never does.
"""

from __future__ import annotations

import itertools
import json
import logging
import math

import numpy as np
import pytest
import requests

pytest.importorskip("qiskit_ibm_runtime")

import qiskit_ibm_runtime  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from qiskit.primitives import PrimitiveResult  # noqa: E402
from qiskit.primitives.containers import DataBin, PubResult  # noqa: E402
from qiskit_ibm_runtime import RuntimeEncoder  # noqa: E402
from qiskit_ibm_runtime.api.exceptions import RequestsApiError  # noqa: E402
from qiskit_ibm_runtime.runtime_job_v2 import RuntimeJobV2  # noqa: E402

from qenc_bench import BenchmarkResult, ConfigError, CostEstimate, Op, ReadoutModel, Workload  # noqa: E402
from qenc_ibm import account as account_module  # noqa: E402
from qenc_ibm import jobs as jobs_module  # noqa: E402
from qenc_ibm.account import Connection  # noqa: E402
from qenc_ibm.backend import IBMBackend  # noqa: E402
from qenc_ibm.commands import ibm_jobs  # noqa: E402
from qenc_ibm.cost import JOB_OVERHEAD_SECONDS, format_estimate  # noqa: E402
from qenc_ibm.errors import IBMServiceError, is_transient  # noqa: E402
from qenc_ibm.fake import fake_device  # noqa: E402
from qenc_ibm.jobs import JobNotFinishedError  # noqa: E402
from qenc_ibm.journal import JobJournal  # noqa: E402
from qenc_ibm.options import has_client_estimator  # noqa: E402
from qenc_pennylane.backend import PennyLaneBackend  # noqa: E402

#: local testing mode says error mitigation does not run there (levels 1 and 2 are only passed on)
LOCAL_RESILIENCE = "ignore:The resilience_level option has no effect in local testing mode:UserWarning"
OPEN_PLAN_403 = ('403 Client Error: Forbidden for url: https://quantum.cloud.ibm.com/api/v1/sessions. '
                 '{"errors":[{"code":1352,"message":"You are not authorized to run a session when using the open '
                 'plan.","solution":"Use batch or job mode."}]}')
CRN = "crn:v1:bluemix:public:quantum-computing:us-east:a/0123:4567::"
#: the client-side estimator exists from qiskit-ibm-runtime 0.50 (before, estimator=v2 is the only one)
NEEDS_CLIENT = pytest.mark.skipif(not has_client_estimator(), reason="qiskit-ibm-runtime before 0.50")


@pytest.fixture(autouse=True)
def _offline(ibm_offline):
    """Every test here runs offline, without an account from outside (conftest's ibm_offline)."""


@pytest.fixture(autouse=True)
def sleeps(monkeypatch) -> list[float]:
    """Backoff delays, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(jobs_module, "sleep", slept.append)
    return slept


class ServiceApi:
    """The network layer of ``RuntimeJobV2``: its ``job_get`` and ``job_results`` calls,
    answered from ``jobs`` (id -> status, raw result, reason); ``failures`` are raised first."""

    def __init__(self):
        self.jobs: dict[str, dict] = {}
        self.failures: list[BaseException] = []
        self.calls = 0

    def job_get(self, job_id, exclude_params=True):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        job = self.jobs[job_id]
        state = {"status": job["status"]}
        if job.get("reason"):
            state |= {"reason": job["reason"], "reason_code": job.get("reason_code")}
        return {"id": job_id, "state": state}

    def job_results(self, job_id):
        return self.jobs[job_id].get("result") or ""


class StandInService:
    """What qenc_ibm asks of a ``QiskitRuntimeService``: ``backend`` (a small fake device, so
    jobs run in the runtime's local mode), ``job`` (a ``RuntimeJobV2`` on :class:`ServiceApi`),
    and, when given, the instance's plan and usage."""

    def __init__(self, device: str = "FakeManilaV2", plan: str | None = None, remaining: float | None = None):
        self.device, self.plan, self.remaining = device, plan, remaining
        self.api = ServiceApi()
        self.asked: list[str] = []

    def backend(self, name):
        self.asked.append(name)
        return fake_device(self.device)

    def job(self, job_id):
        return RuntimeJobV2(backend=fake_device(self.device), api_client=self.api, job_id=job_id,
                            program_id="estimator", service=self)

    def active_instance(self):
        return CRN

    def instances(self):
        return [{"crn": CRN, "plan": self.plan or "premium", "name": "mine"}]

    def usage(self):
        return {} if self.remaining is None else {"usage_remaining_seconds": self.remaining}


_ids = itertools.count()


def hosted(backend: IBMBackend, monkeypatch, *states: str | dict) -> list[dict]:
    """Jobs the backend submits run locally (the runtime's local mode) and come back as
    ``RuntimeJobV2`` on the service's API in the next of ``states`` (a status, or the job's
    fields: status, reason, reason_code; the last repeats); returns, as they are submitted,
    what each submission carried (id, options, values)."""
    estimator = backend.estimator()
    service, run = backend.connection.service, estimator.run
    submitted: list[dict] = []

    def submit(pubs):
        local = run(pubs).result()
        # what the service stores for an estimator job: the values and their standard errors
        result = PrimitiveResult([PubResult(DataBin(evs=np.asarray(r.data.evs), stds=np.asarray(r.data.stds),
                                                    shape=np.shape(r.data.evs))) for r in local], metadata={"version": 2})
        job_id = f"job-{next(_ids)}"
        state = states[min(len(submitted), len(states) - 1)]
        service.api.jobs[job_id] = {"result": json.dumps(result, cls=RuntimeEncoder),
                                    **(state if isinstance(state, dict) else {"status": state})}
        submitted.append({"job_id": job_id, "max_execution_time": estimator.options.max_execution_time,
                          "job_tags": list(estimator.options.environment.job_tags),
                          "evs": np.asarray(result[0].data.evs)})
        return service.job(job_id)

    monkeypatch.setattr(estimator, "run", submit)
    return submitted


def readout_circuit(n_data: int = 2):
    feature_map = type("AngleMap", (), {"n_qubits": n_data, "feature_map": lambda self: tuple(
        Op("RX", (j,), "feature", j) for j in range(n_data))})()
    return ReadoutModel().build(feature_map)


def batch(n: int, seed: int = 0, n_data: int = 2):
    circuit = readout_circuit(n_data)
    rng = np.random.default_rng(seed)
    return circuit, rng.uniform(0.0, np.pi, (n, n_data)), rng.uniform(-np.pi, np.pi, circuit.n_weights)


def partial_record(encoder: str, seed: int) -> dict:
    """Everything a record holds but the measured numbers (what the harness tags a test job with)."""
    return {"dataset": "digits", "classes": [0, 1], "encoder": encoder, "seed": seed, "model": "readout(layers=1)",
            "backend": "ibm", "train_backend": "exact", "entropy": None, "validation_accuracy": 0.75, "n_qubits": 3,
            "two_qubit_gates": 4, "depth": 6, "epochs": 5, "converged": True,
            "timings": {"fit_encoder": 0.1, "train": 1.0}, "engines": {"train": "exact", "evaluate": "ibm"},
            "backend_info": {"device": "ibm_fez"}}


# --- jobs through the runtime's estimator -------------------------------------------------

@pytest.mark.parametrize("kind, cls", [pytest.param("client", "executor_estimator.Estimator", marks=NEEDS_CLIENT),
                                       ("v2", "EstimatorV2")])
@pytest.mark.filterwarnings(LOCAL_RESILIENCE)
def test_hardware_jobs_go_through_a_runtime_batch_one_job_per_batch(kind, cls, tmp_path):
    service = StandInService()
    backend = IBMBackend(device="ibm_fez", service=service, shots=1000, estimator=kind,
                         job_journal=str(tmp_path / "jobs.jsonl"))
    circuit, features, weights = batch(9)
    with backend.job_tags(purpose="test", encoder="angle", seed=0):
        values = backend.expval(circuit, features, weights)
    backend.expval(circuit, *batch(5, seed=1)[1:])
    exact = PennyLaneBackend().expval(circuit, features, weights)
    assert np.max(np.abs(values - exact)) < 0.35  # the fake device's noise and 1000 shots
    estimator = backend.estimator()
    assert type(estimator).__name__ == cls.split(".")[-1]
    assert isinstance(estimator.mode, qiskit_ibm_runtime.Batch)
    assert estimator.options.default_shots == 1000 and estimator.options.resilience_level == 0  # none unless asked
    assert service.asked == ["ibm_fez"] and len(backend.job_ids) == 2 == backend.jobs
    info = backend.info()
    assert info["estimator"] == cls and info["jobs"] == backend.job_ids and info["resilience_level"] == 0
    assert info["summary"] == "ibm_fez, 1000 shots, resilience_level 0, 2 jobs (batch)"
    assert backend.measurement == "ibm_fez, shots=1000, resilience_level=0"
    submitted = [e for e in JobJournal(tmp_path / "jobs.jsonl").entries() if e["event"] == "submitted"]
    assert [e["job_id"] for e in submitted] == backend.job_ids
    first = submitted[0]
    assert first["device"] == "ibm_fez" and first["circuits"] == 9 and first["shots"] == 9000
    assert first["tags"] == {"purpose": "test", "encoder": "angle", "seed": 0} and first["time"].endswith("+00:00")
    assert first["resilience_level"] == 0 and first["max_execution_time"] == 300 and first["estimator"] == cls
    backend.close()
    assert backend._execution is None


@pytest.mark.filterwarnings(LOCAL_RESILIENCE)
def test_each_job_gets_a_max_execution_time_and_the_runs_tags(monkeypatch):
    backend = IBMBackend(device="ibm_fez", service=StandInService(), shots=100,
                         estimator_options='{"environment": {"job_tags": ["my-study"]}}')
    submitted = hosted(backend, monkeypatch, "Completed")
    circuit, features, weights = batch(4)
    with backend.job_tags(purpose="device noise", encoder="atp", seed=2):
        backend.expval(circuit, features, weights)
    fixed = IBMBackend(device="ibm_fez", service=StandInService(), shots=100, max_execution_time=90)
    fixed_submitted = hosted(fixed, monkeypatch, "Completed")
    fixed.expval(circuit, features, weights)
    # 3 x the estimate, at least 5 minutes; or the option
    assert submitted[0]["max_execution_time"] == 300 and fixed_submitted[0]["max_execution_time"] == 90
    assert submitted[0]["job_tags"] == ["my-study", "qenc-bench", "qenc-purpose-device-noise", "qenc-encoder-atp",
                                        "qenc-seed-2"]
    assert backend.job_ids == [submitted[0]["job_id"]] and fixed.job_ids == [fixed_submitted[0]["job_id"]]


@pytest.mark.parametrize("kind", [pytest.param("client", marks=NEEDS_CLIENT), "v2"])
def test_estimator_options_are_the_runtimes_own_and_validated_by_it(kind):
    options = {"dynamical_decoupling": {"enable": True, "sequence_type": "XY4"},
               "twirling": {"enable_gates": True, "num_randomizations": 16},
               "resilience": {"zne_mitigation": True, "zne": {"extrapolator": ["exponential", "linear"]}},
               "environment": {"job_tags": ["paper-rerun"]}, "resilience_level": 2}
    backend = IBMBackend(device="ibm_fez", service=StandInService(), estimator=kind,
                         estimator_options=json.dumps(options))
    runtime = backend._options
    assert runtime.dynamical_decoupling.sequence_type == "XY4" and runtime.twirling.num_randomizations == 16
    assert list(runtime.resilience.zne.extrapolator) == ["exponential", "linear"]
    assert runtime.environment.job_tags == ["paper-rerun"] and runtime.resilience_level == 2
    assert backend.resilience_level == 2 and backend.info()["estimator_options"] == options
    assert '"sequence_type": "XY4"' in backend.measurement  # differently mitigated numbers are not ranked together
    for bad, field in [({"dynamical_decoupling": {"sequence": "XY4"}}, "dynamical_decoupling.sequence"),
                       ({"twirling": {"num_randomizations": 0}}, "twirling.num_randomizations"),
                       ({"resilience": {"zne": {"extrapolator": "cubic"}}}, "resilience.zne.extrapolator")]:
        with pytest.raises(ConfigError, match=rf"^estimator_options: {field}") as caught:
            IBMBackend(device="ibm_fez", service=StandInService(), estimator=kind, estimator_options=bad)
        assert "\n" not in str(caught.value)


# --- what it costs ------------------------------------------------------------------------

def test_the_estimate_counts_jobs_shots_and_device_seconds_before_any_work():
    service = StandInService(device="FakeFez", remaining=600.0)
    backend = IBMBackend(device="ibm_fez", service=service)  # 4000 shots by default
    workload = Workload(calls=6, circuits=1200, max_qubits=10, purposes={"test": 6})
    cost = backend.estimate(workload)
    assert isinstance(cost, CostEstimate) and (cost.jobs, cost.circuits, cost.shots) == (6, 1200, 4_800_000)
    target = fake_device("FakeFez").target
    median = lambda name: float(np.median([p.duration for p in target[name].values()]))  # noqa: E731
    per_shot = 250e-6 + median("measure") + 10 * 10 * (median("cz") + median("sx"))
    assert cost.seconds == pytest.approx(4_800_000 * per_shot + 6 * JOB_OVERHEAD_SECONDS)
    assert 1200 < cost.seconds < 1400  # about 22 minutes: twice the Open Plan's monthly 10
    assert "guessed" in cost.detail and "the instance has 10 min left" in cost.detail
    line = format_estimate(cost)
    assert line.startswith("6 jobs, 1,200 circuits, 4,800,000 shots, about 21 min of device time (ibm_fez, batch mode: "
                           "1,200 circuits x 4000 shots in 6 jobs (test 6); 262 us per shot")
    zne = IBMBackend(device="ibm_fez", service=service, shots=1000, resilience_level=2).estimate(workload)
    assert zne.shots == 1200 * 1000 * 3 and "ZNE x3 counted" in zne.detail
    local = IBMBackend(device="FakeFez").estimate(workload)  # what the same jobs would cost on the real device
    assert local.simulated and (local.jobs, local.circuits, local.shots) == (6, 1200, 6 * 200 * 4000)


def test_a_transpiled_circuit_refines_the_estimate_and_preview_submits_nothing(monkeypatch):
    backend = IBMBackend(device="ibm_fez", service=StandInService(device="FakeFez"), shots=1000)
    monkeypatch.setattr(backend, "estimator", lambda: pytest.fail("preview made an estimator"))
    circuit = readout_circuit(9)
    job = backend.preview(circuit, 20)
    assert (job.jobs, job.circuits, job.shots) == (1, 20, 20_000) and "transpiled" in job.detail
    dc = backend.transpiled(circuit)
    assert job.seconds == pytest.approx(20_000 * (250e-6 + float(np.median(
        [p.duration for p in fake_device("FakeFez").target["measure"].values()])) + dc.seconds) + JOB_OVERHEAD_SECONDS)
    assert "transpiled" in backend.estimate(Workload(calls=2, circuits=40, max_qubits=10)).detail
    assert "guessed" in backend.estimate(Workload(calls=2, circuits=40, max_qubits=12)).detail


def test_a_dry_run_transpiles_estimates_and_journals_every_job_and_submits_none(tmp_path, monkeypatch):
    def no_submission(*args, **kwargs):
        raise AssertionError("a dry run opened a batch")

    monkeypatch.setattr(qiskit_ibm_runtime, "Batch", no_submission)
    journal = tmp_path / "jobs.jsonl"
    backend = IBMBackend(device="ibm_fez", service=StandInService(device="FakeFez"), shots=1000, dry_run=True,
                         job_journal=str(journal))
    circuit, features, weights = batch(6, n_data=3)
    with backend.job_tags(purpose="test", encoder="angle", seed=0):
        values = backend.expval(circuit, features, weights)
    np.testing.assert_allclose(values, PennyLaneBackend().expval(circuit, features, weights), atol=1e-8)
    assert backend.job_ids == [] and backend.jobs == 1 and backend.measurement == "exact"
    [entry] = JobJournal(journal).entries()
    assert entry["event"] == "dry_run" and entry["circuits"] == 6 and entry["shots"] == 6000 and "job_id" not in entry
    assert entry["tags"]["encoder"] == "angle" and entry["estimated_seconds"] > 1.5
    assert backend.info()["summary"].startswith("DRY RUN on ibm_fez: 1 job previewed, none submitted")
    result = CliRunner().invoke(ibm_jobs, [str(journal)])
    assert result.exit_code == 0 and "no submitted jobs (1 dry-run previews)" in result.output


# --- waiting, failing, retrying -----------------------------------------------------------

@pytest.mark.filterwarnings(LOCAL_RESILIENCE)
def test_a_job_that_does_not_finish_in_time_stops_the_wait_not_the_job(tmp_path, monkeypatch):
    journal = tmp_path / "jobs.jsonl"
    backend = IBMBackend(device="ibm_fez", service=StandInService(), shots=100, result_timeout=0.3,
                         job_journal=str(journal))
    submitted = hosted(backend, monkeypatch, "Queued")
    circuit, features, weights = batch(3)
    with pytest.raises(JobNotFinishedError) as caught:
        backend.expval(circuit, features, weights)
    [submitted] = submitted
    message = str(caught.value)
    assert caught.value.kind == "job" and submitted["job_id"] in message and "\n" not in message
    assert f"qenc-bench ibm-jobs {journal} --collect" in message and "result_timeout" in message
    assert [e["event"] for e in JobJournal(journal).entries()] == ["submitted"]  # still running: not "failed"


@pytest.mark.filterwarnings(LOCAL_RESILIENCE)
@pytest.mark.parametrize("reason, code, expected", [
    ("Job failed: the circuit exceeds the device's limits.", 1517, "failed: .*exceeds the device's limits"),
    ("Job ran longer than the maximum execution time", 1305, "ran past max_execution_time=300 s"),
])
def test_a_failed_job_is_one_line_naming_it_and_is_journalled(reason, code, expected, tmp_path, monkeypatch):
    journal = tmp_path / "jobs.jsonl"
    backend = IBMBackend(device="ibm_fez", service=StandInService(), shots=100, job_journal=str(journal))
    submitted = hosted(backend, monkeypatch, {"status": "Failed", "reason": reason, "reason_code": code})
    with pytest.raises(IBMServiceError, match=expected) as caught:
        backend.expval(*batch(3))
    [submitted] = submitted
    assert caught.value.kind == "job" and submitted["job_id"] in str(caught.value)
    assert [e["event"] for e in JobJournal(journal).entries()] == ["submitted", "failed"]


@pytest.mark.filterwarnings(LOCAL_RESILIENCE)
def test_transient_api_errors_are_retried_with_backoff(monkeypatch, sleeps, caplog):
    backend = IBMBackend(device="ibm_fez", service=StandInService(), shots=100)
    submitted = hosted(backend, monkeypatch, "Completed")
    api = backend.connection.service.api
    api.failures = [RequestsApiError("503 Server Error: Service Unavailable", status_code=503),
                    RequestsApiError("429 Client Error: Too Many Requests", status_code=429)]
    circuit, features, weights = batch(3)
    values = backend.expval(circuit, features, weights)
    np.testing.assert_allclose(values, np.clip(submitted[0]["evs"], -1, 1))
    assert sleeps == [2.0, 4.0] and "retry 2 of 3" in caplog.text
    # a submission refused once by a busy service is submitted again
    estimator, run = backend.estimator(), backend.estimator().run
    refusals = [RequestsApiError("502 Server Error: Bad Gateway", status_code=502)]

    def busy(pubs):
        if refusals:
            raise refusals.pop()
        return run(pubs)

    monkeypatch.setattr(estimator, "run", busy)
    backend.expval(circuit, features, weights)
    assert len(submitted) == 2 and sleeps == [2.0, 4.0, 2.0]
    # a client error is not retried
    api.failures = [RequestsApiError('400 Client Error: Bad Request {"errors":[{"message":"Invalid job"}]}',
                                     status_code=400)]
    with pytest.raises(IBMServiceError, match="fetching the result of job .*: Invalid job") as caught:
        backend.expval(circuit, features, weights)
    assert caught.value.kind == "job" and sleeps == [2.0, 4.0, 2.0]


def test_a_session_the_open_plan_refuses_says_to_use_a_batch(monkeypatch):
    with pytest.raises(IBMServiceError, match="mode=batch") as caught:
        IBMBackend(device="ibm_fez", service=StandInService(plan="open"), mode="session")
    assert caught.value.kind == "plan"
    IBMBackend(device="ibm_fez", service=StandInService(plan="open"), mode="batch")  # a batch is fine

    class RefusedSession(qiskit_ibm_runtime.Session):
        def __init__(self, backend, max_time=None, **kwargs):  # creating a session is one API call
            raise RequestsApiError(OPEN_PLAN_403, status_code=403)

    monkeypatch.setattr(qiskit_ibm_runtime, "Session", RefusedSession)
    backend = IBMBackend(device="ibm_fez", service=StandInService(), mode="session")  # the plan is not listed
    with pytest.raises(IBMServiceError) as caught:
        backend.expval(*batch(2))
    message = str(caught.value)
    assert caught.value.kind == "plan" and "use --backend-option mode=batch" in message and "\n" not in message
    assert "not authorized to run a session when using the open plan" in message
    assert backend.job_ids == []


def test_closing_never_raises(caplog):
    class Failing:
        def close(self):
            raise RequestsApiError("500 Server Error", status_code=500)

    backend = IBMBackend(device="ibm_fez", service=StandInService())
    backend._execution = Failing()
    backend.close()
    assert backend._execution is None and "closing the batch on ibm_fez failed" in caplog.text


# --- a crashed run, collected -------------------------------------------------------------

@pytest.mark.filterwarnings(LOCAL_RESILIENCE)
def test_a_crashed_runs_finished_jobs_are_collected_into_its_result_file(tmp_path, monkeypatch):
    """Two test evaluations: the first job finishes, the second is still queued when the run's
    wait times out (the run stops; nothing is written). Later the second job finishes;
    ``ibm-jobs --collect`` writes both records, from the jobs' own results; again, nothing new."""
    journal, out = tmp_path / "run.jobs.jsonl", tmp_path / "run.json"
    service = StandInService()
    backend = IBMBackend(device="ibm_fez", service=service, shots=200, result_timeout=0.3, job_journal=str(journal))
    submitted = hosted(backend, monkeypatch, "Completed", "Queued")
    circuit = readout_circuit()
    labels = {"angle": np.array([1, 0, 1, 0]), "atp": np.array([0, 0, 1, 1])}
    features, weights = batch(4)[1:]
    with backend.job_tags(purpose="test", encoder="angle", seed=0, labels=labels["angle"], test_ids=np.arange(10, 14),
                          record=partial_record("angle", 0), result_file=str(out)):
        backend.expval(circuit, features, weights)
    with pytest.raises(JobNotFinishedError):
        with backend.job_tags(purpose="test", encoder="atp", seed=0, labels=labels["atp"], test_ids=np.arange(4),
                              record=partial_record("atp", 0), result_file=str(out)):
            backend.expval(circuit, features[::-1], weights)
    backend.close()
    assert not out.exists()
    service.api.jobs[submitted[1]["job_id"]]["status"] = "Completed"  # the service finishes it later
    monkeypatch.setattr(account_module, "connect", lambda *a, **k: Connection(service, "given service"))

    result = CliRunner().invoke(ibm_jobs, [str(journal), "--collect"])
    assert result.exit_code == 0, result.output
    assert result.output.count("DONE") == 2 and "collected: atp seed 0" in result.output
    records = {r.encoder: r for r in BenchmarkResult.load(out).records}
    for encoder, job in zip(("angle", "atp"), submitted, strict=True):
        record, predicted = records[encoder], (job["evs"] > 0).astype(int)
        assert record.accuracy == pytest.approx(float(np.mean(predicted == labels[encoder])))
        assert record.samples["prediction"] == predicted.tolist() and record.samples["label"] == labels[encoder].tolist()
        assert record.backend_info["jobs"] == [job["job_id"]] and record.validation_accuracy == 0.75
        assert record.measurement == "ibm_fez, shots=200, resilience_level=0"
    assert records["angle"].samples["index"] == [10, 11, 12, 13]

    again = CliRunner().invoke(ibm_jobs, [str(journal), "--collect"])
    assert again.exit_code == 0 and again.output.count("already in") == 2
    assert len(BenchmarkResult.load(out).records) == 2
    assert again.output.count("collected\n") + again.output.count("collected ") >= 2  # the table says so


@pytest.mark.filterwarnings(LOCAL_RESILIENCE)
def test_collecting_appends_to_a_result_file_and_waits_for_pending_jobs(tmp_path, monkeypatch):
    journal, out = tmp_path / "run.jobs.jsonl", tmp_path / "run.json"
    service = StandInService()
    backend = IBMBackend(device="ibm_fez", service=service, shots=200, result_timeout=0.3, job_journal=str(journal))
    submitted = hosted(backend, monkeypatch, "Completed", "Running")
    circuit, features, weights = batch(4)
    for encoder in ("angle", "atp"):
        try:
            with backend.job_tags(purpose="test", encoder=encoder, seed=1, labels=[1, 1, 0, 0],
                                  record=partial_record(encoder, 1), result_file=str(out)):
                backend.expval(circuit, features, weights)
        except JobNotFinishedError:
            pass
    existing = BenchmarkResult(config={"dataset": "digits", "classes": [0, 1], "seeds": 1, "training": {}},
                               records=())
    existing.save(out)
    monkeypatch.setattr(account_module, "connect", lambda *a, **k: Connection(service, "given service"))
    result = CliRunner().invoke(ibm_jobs, [str(journal), "--collect"])
    assert result.exit_code == 0, result.output
    assert "RUNNING" in result.output and "collected: angle seed 1" in result.output
    assert f"not collected: atp seed 1: IBM Quantum job error: job {submitted[1]['job_id']} is RUNNING" in result.output
    assert [r.encoder for r in BenchmarkResult.load(out).records] == ["angle"]


def test_ibm_jobs_reads_no_account_for_a_journal_without_jobs(tmp_path, monkeypatch):
    monkeypatch.setattr(account_module, "connect", lambda *a, **k: pytest.fail("logged in for nothing"))
    journal = tmp_path / "empty.jsonl"
    journal.write_text("")
    assert "no submitted jobs" in CliRunner().invoke(ibm_jobs, [str(journal)]).output
    journal.write_text('{"event": "submitted", "job_id": "x"}\nnot json\n{"event": "done", "job_id": "x"}\n')
    with pytest.raises(Exception, match="line 2: not a JSON object"):
        JobJournal(journal).entries()
    journal.write_text('{"event": "submitted", "job_id": "x"}\n{"event": "do')  # cut short by a crash
    assert [j.job_id for j in JobJournal(journal).jobs()] == ["x"]


def test_the_journal_is_json_lines_of_plain_types(tmp_path):
    journal = JobJournal(tmp_path / "deep" / "jobs.jsonl")
    journal.append("submitted", job_id="a", tags={"labels": np.array([0, 1]), "seed": np.int64(3), "ids": (1, 2)},
                   path=tmp_path)
    [line] = (tmp_path / "deep" / "jobs.jsonl").read_text().splitlines()
    entry = json.loads(line)
    assert entry["tags"] == {"labels": [0, 1], "seed": 3, "ids": [1, 2]} and entry["path"] == str(tmp_path)
    with pytest.raises(ValueError, match="unknown journal event"):
        journal.append("exploded")


@pytest.mark.filterwarnings(LOCAL_RESILIENCE)
def test_log_lines_name_each_job_as_it_is_submitted(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="qenc_ibm")
    backend = IBMBackend(device="ibm_fez", service=StandInService(), shots=100)
    submitted = hosted(backend, monkeypatch, "Completed")
    backend.expval(*batch(2))
    assert f"IBM Quantum job {submitted[0]['job_id']} submitted to ibm_fez: 2 circuits x 100 shots" in caplog.text
    assert math.isclose(submitted[0]["max_execution_time"], 300)


def _wrapped(inner: BaseException) -> BaseException:
    """``inner`` raised inside the runtime, which re-raises it as its own error."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise qiskit_ibm_runtime.exceptions.IBMRuntimeError(f"Failed to run program: {exc}") from None
    except BaseException as outer:
        return outer


@pytest.mark.parametrize("error, wait, submit", [
    (RequestsApiError("503 Server Error: Service Unavailable", status_code=503), True, True),
    (RequestsApiError("429 Client Error: Too Many Requests", status_code=429), True, True),
    (RequestsApiError("500 Server Error: Internal Server Error", status_code=500), True, False),  # it may hold the job
    (RequestsApiError("401 Client Error: Unauthorized", status_code=401), False, False),
    (_wrapped(requests.exceptions.ConnectionError("Max retries exceeded (Name or service not known)")), True, True),
    (_wrapped(requests.exceptions.ReadTimeout("read timed out")), True, False),  # sent: a retry could run it twice
    (_wrapped(requests.exceptions.InvalidURL("bad url")), False, False),
    (qiskit_ibm_runtime.exceptions.IBMInputValueError("The circuit is not ISA"), False, False),
])
def test_what_is_retried(error, wait, submit):
    assert is_transient(error) is wait and is_transient(error, submission=True) is submit
