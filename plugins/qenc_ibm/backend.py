"""The ``ibm`` backend: one Estimator job per batch on an IBM Quantum device, or one Aer run
with a fake device's noise model offline.

Every :class:`~qenc_bench.Circuit` is translated and transpiled once (:mod:`.circuits`); a
batch of N samples is then ONE call with a binding array (N, K): on hardware one job, on a
fake device one Aer run of the circuit cut down to the qubits it touches (:mod:`.fake`).

On hardware each job is logged as it is submitted (``logging`` and the job journal, see
:mod:`.journal`), capped by ``max_execution_time`` (three times its estimate unless set), and
waited for with a timeout and retries (:mod:`.jobs`). Jobs run in one Runtime ``Batch``
(default), a ``Session`` or alone (``mode=job``), opened at the first job and closed by
:meth:`IBMBackend.close`. Error mitigation is what is asked for: ``resilience_level`` 0 unless
given. A dry run (``dry_run=true``) transpiles and estimates every job, journals it, submits
nothing and returns the transpiled circuit's exact noiseless values so the run completes.
"""

from __future__ import annotations

import logging
import re
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from qenc_bench import Backend, Circuit, CostEstimate, Depolarizing, IncompatibleComponentsError, Workload

from .account import Connection, connect, device_from_service, given_service, instance_plan
from .capabilities import CAPABILITIES
from .circuits import DeviceCircuit, prepare
from .cost import estimate
from .errors import IBMServiceError
from .fake import choose_method, fake_device, noise_model_on, run_compact
from .jobs import SESSION_REFUSED, JobNotFinishedError, opening_error, submission_error, wait_for_result, with_retries
from .journal import DONE, DRY_RUN, FAILED, LOCAL, SUBMITTED, JobJournal
from .options import (
    DEFAULT_DEVICE,
    DEFAULT_RESULT_TIMEOUT,
    IBMSettings,
    estimator_kind,
    hardware_measurement,
    parse_estimator_options,
    runtime_options,
)

logger = logging.getLogger("qenc_ibm")
ESTIMATOR_NAMES = {"client": "executor_estimator.Estimator", "v2": "EstimatorV2"}


def _runtime_tag(key: str, value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"qenc-{key}-{value}")[:64]


class IBMBackend(Backend):
    """:param device: a fake device (``FakeFez``, ``FakeKingston``, ``FakeSherbrooke``, ...) run
        locally, or an IBM Quantum device (``ibm_fez``, ``ibm_kingston``, ...) run with an account.
    :param shots: measurements per expectation value; default 4000 (exact with ``noise=False``).
    :param optimization_level: the preset transpiler's level (0-3).
    :param resilience_level: the Runtime's error mitigation (0-2); default 0, none. A fake
        device accepts only 0 (it has no mitigation).
    :param seed: seeds the transpiler's layout and, locally, the shot sampling.
    :param noise: ``False`` runs a fake device's transpiled circuit without noise, exactly.
    :param mode: how hardware jobs are grouped: ``batch`` (default), ``session`` or ``job``.
    :param service: a ready ``QiskitRuntimeService`` (notebooks, tests); else one is made from
        the environment or the saved account (see :mod:`.account`).
    :param account_file: the saved-account file (default ``~/.qiskit/qiskit-ibm.json``).
    :param estimator_options: a JSON object (or dict) for the runtime's ``EstimatorOptions``:
        dynamical decoupling, twirling, resilience (ZNE extrapolators), environment job tags.
    :param estimator: ``auto`` (the client-side ``executor_estimator.Estimator`` where the
        runtime has it), ``client`` or ``v2`` (the deprecated server-side ``EstimatorV2``).
    :param max_execution_time: seconds a job may run on the device (default: 3 x its estimate,
        5 min to 3 h).
    :param result_timeout: seconds to wait for a job's result, queue included (default 3600).
    :param retries: retries after transient API or network errors (default 3).
    :param job_journal: a JSON-lines file where each hardware job is logged as it is submitted.
    :param dry_run: transpile and estimate every job, submit nothing (see the module docstring).
    :param simulation_method: a fake device's Aer method: ``auto``, ``density_matrix``, ``statevector``.
    :param layout_trials: transpiler seeds tried per circuit (the fewest qubits touched wins).
    """

    name = "ibm"
    capabilities = CAPABILITIES
    input_gradient_method = "none"

    def __init__(self, device: str = DEFAULT_DEVICE, shots: int | None = None, optimization_level: int = 1,
                 resilience_level: int | None = None, seed: int | None = None, noise: bool = True,
                 mode: str = "batch", service: Any = None, account_file: str | None = None,
                 estimator_options: str | dict | None = None, estimator: str = "auto",
                 max_execution_time: int | None = None, result_timeout: float = DEFAULT_RESULT_TIMEOUT,
                 retries: int = 3, job_journal: str | None = None, dry_run: bool = False,
                 simulation_method: str = "auto", layout_trials: int = 4):
        self.settings = s = IBMSettings(
            device=device, shots=shots, optimization_level=optimization_level, resilience_level=resilience_level,
            seed=seed, noise=noise, mode=mode, account_file=account_file,
            estimator_options=parse_estimator_options(estimator_options), estimator=estimator,
            max_execution_time=max_execution_time, result_timeout=result_timeout, retries=retries,
            job_journal=None if job_journal is None else Path(job_journal), dry_run=dry_run,
            simulation_method=simulation_method,
            layout_trials=layout_trials)
        self.device_name, self.local, self.noise, self.shots = device, s.local, noise, s.shots_used
        self.seed = None if seed is None else int(seed)
        self.connection: Connection | None = None
        self.job_ids: list[str] = []
        self._reported = 0  # job ids already given by info()
        self.jobs = 0  # batches evaluated: jobs on hardware (or previewed in a dry run), Aer runs offline
        self._tags: dict[str, Any] = {}
        self._circuits: dict[Circuit, DeviceCircuit] = {}
        self._methods: set[str] = set()
        self._dry_seconds = 0.0
        self._estimator: Any = None
        self._execution: Any = None  # the Batch or Session, opened at the first job
        if s.local:
            if service is not None:
                raise IncompatibleComponentsError(f"service= is for IBM Quantum devices; {device} runs locally")
            self._kind = None
            self._device = fake_device(device)
        else:
            self._kind = estimator_kind(s.estimator)
            self._options = runtime_options(s, self._kind)  # validated before any login
            self.connection = given_service(service) if service is not None else connect(
                s.account_file, needed_for=f"--device {device}")
            self._device = device_from_service(self.connection, device)
            if s.mode == "session" and (instance_plan(self.connection) or "").startswith("open"):
                raise IBMServiceError("plan", SESSION_REFUSED)
        self.journal = JobJournal(s.job_journal) if s.job_journal is not None else None
        self.capabilities = replace(CAPABILITIES, max_qubits=int(self._device.num_qubits))

    # --- what the backend is -------------------------------------------------------------
    @property
    def account(self) -> str | None:
        """Where the account came from (``environment``, ``saved account``, ``given service``)."""
        return None if self.connection is None else self.connection.source

    @property
    def resilience_level(self) -> int:
        return self.settings.resilience

    def __repr__(self) -> str:
        return (f"IBMBackend(device={self.device_name!r}, shots={self.shots}, noise={self.noise}, "
                f"optimization_level={self.settings.optimization_level}, resilience_level={self.resilience_level}, "
                f"mode={'local' if self.local else self.settings.mode!r}, dry_run={self.settings.dry_run})")

    @property
    def measurement(self) -> str:
        s = self.settings
        if not self.noise or s.dry_run:
            return "exact"
        if self.local:
            return f"{self.device_name} noise model, shots={self.shots}"
        return hardware_measurement(self.device_name, self.shots, s.resilience, s.estimator_options)

    def info(self) -> dict[str, Any]:
        """Device, shots, the resilience level used, the ids of the jobs since the last call (the
        harness asks once per evaluated record, so a record lists its own jobs; a fake device's
        local runs have ids ``local-...``), the job journal and a one-line ``summary``."""
        s = self.settings
        new_ids, self._reported = self.job_ids[self._reported:], len(self.job_ids)
        out: dict[str, Any] = {
            "device": self.device_name, "qubits": self.capabilities.max_qubits, "local": self.local,
            "shots": self.shots, "optimization_level": s.optimization_level, "seed": self.seed,
            "resilience_level": s.resilience, "circuits": [dc.describe() for dc in self._circuits.values()],
            "jobs": new_ids, "job_journal": None if self.journal is None else str(self.journal.path),
        }
        if self.local:
            methods = ", ".join(sorted(self._methods)) or "not run yet"
            out |= {"noise": "device noise model" if self.noise else "none", "simulation": methods}
            label = f"{self.device_name} noise model" if self.noise else f"{self.device_name} layout, noiseless"
            out["summary"] = f"{label}, {self.shots or 'exact'} shots, local Aer ({methods})"
            return out
        out |= {"mode": s.mode, "estimator": ESTIMATOR_NAMES[self._hardware()[1]], "estimator_options": s.estimator_options,
                "max_execution_time": s.execution_limit or "3 x the job's estimate", "account": self.account,
                "dry_run": s.dry_run, "runtime": _runtime_version()}
        if s.dry_run:
            out["summary"] = (f"DRY RUN on {self.device_name}: {CostEstimate.count(self.jobs, 'job')} previewed, none submitted (about "
                              f"{CostEstimate.duration(self._dry_seconds)} of device time); values are noiseless")
        else:
            out["summary"] = (f"{self.device_name}, {self.shots} shots, resilience_level {s.resilience}, "
                              f"{CostEstimate.count(len(self.job_ids), 'job')} ({s.mode})")
        return out

    def check(self, circuit: Circuit) -> None:
        if circuit.n_qubits > self.capabilities.max_qubits:
            raise IncompatibleComponentsError(
                f"device {self.device_name} has {self.capabilities.max_qubits} qubits; this circuit needs "
                f"{circuit.n_qubits} (use a smaller --grid or a larger device)"
            )

    @contextmanager
    def job_tags(self, **tags: Any) -> Iterator[None]:
        previous = self._tags
        self._tags = {**previous, **tags}
        try:
            yield
        finally:
            self._tags = previous

    def _hardware(self) -> tuple[Connection, str]:
        """The connection and estimator kind of a hardware backend (fake devices have neither)."""
        assert self.connection is not None and self._kind is not None, "only a hardware backend submits jobs"
        return self.connection, self._kind

    # --- costs ---------------------------------------------------------------------------
    def estimate(self, workload: Workload) -> CostEstimate | None:
        """The device cost of ``workload``; on a fake device (a local simulation), what the same
        jobs would cost on the real one (``simulated``: nothing is billed)."""
        # a transpiled circuit's duration stands for the workload's only if it is as large
        known = [dc.seconds for c, dc in self._circuits.items() if dc.seconds and c.n_qubits >= workload.max_qubits]
        cost = estimate(self.settings, self._device, workload, circuit_seconds=max(known) if known else None,
                        remaining=None if self.local else self._remaining_seconds())
        if self.local:
            return replace(cost, simulated=True, detail=f"fake device, simulated locally; on the real device: "
                                                        f"{cost.detail}")
        return cost

    def preview(self, circuit: Circuit, n_samples: int) -> CostEstimate:
        """Transpile ``circuit`` and estimate one job of ``n_samples`` on the device; nothing is
        submitted (on a fake device too: what the same job would cost on the real one)."""
        self.check(circuit)
        return self._job_cost(self.transpiled(circuit), n_samples)

    def _job_cost(self, dc: DeviceCircuit, n_samples: int) -> CostEstimate:
        return estimate(self.settings, self._device, Workload(calls=1, circuits=n_samples, max_qubits=dc.qubits_used),
                        circuit_seconds=dc.seconds)

    def _remaining_seconds(self) -> float | None:
        """Device seconds the instance has left (qiskit-ibm-runtime 0.41+), when the service says."""
        from qiskit_ibm_runtime.exceptions import IBMError

        usage = getattr(self.connection.service, "usage", None) if self.connection is not None else None
        if usage is None:
            return None
        try:
            found = usage()
        except (IBMError, OSError):  # advisory: the estimate stands without it
            return None
        remaining = found.get("usage_remaining_seconds") if isinstance(found, dict) else None
        return float(remaining) if isinstance(remaining, (int, float)) else None

    # --- circuits ------------------------------------------------------------------------
    def transpiled(self, circuit: Circuit) -> DeviceCircuit:
        """The circuit for the device, transpiled once per :class:`~qenc_bench.Circuit`."""
        if circuit not in self._circuits:
            s = self.settings
            self._circuits[circuit] = prepare(circuit, self._device, optimization_level=s.optimization_level,
                                              seed=self.seed, trials=s.layout_trials)
        return self._circuits[circuit]

    # --- running -------------------------------------------------------------------------
    def expval(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        self.check(circuit)
        dc = self.transpiled(circuit)
        binding = dc.binding(np.asarray(features, dtype=np.float64), np.asarray(weights, dtype=np.float64))
        if len(binding) == 0:
            return np.zeros(0)
        if self.local:
            values = self._simulate(dc, binding)
        elif self.settings.dry_run:
            values = self._preview_job(dc, binding)
        else:
            values = self._run_job(dc, binding)
        self.jobs += 1
        return np.clip(values, -1.0, 1.0)  # mitigated estimates may leave [-1, 1]; <Z> cannot

    def _simulate(self, dc: DeviceCircuit, binding: np.ndarray) -> np.ndarray:
        compact = dc.compact(measured=self.noise)
        method = choose_method(compact.n_qubits, self.shots, self.noise, self.settings.simulation_method)
        self._methods.add(method)
        model = noise_model_on(self.device_name, compact.physical) if self.noise else None
        values = run_compact(compact, binding, noise_model=model, shots=self.shots, method=method, seed=self.seed)
        run_id = f"local-{uuid.uuid4().hex[:12]}"  # one per batch, so a record names the runs it came from
        self.job_ids.append(run_id)
        self._journal(LOCAL, job_id=run_id, device=self.device_name, circuits=len(binding),
                      shots=(self.shots or 0) * len(binding), method=method, tags=self._tags)
        return values

    def _preview_job(self, dc: DeviceCircuit, binding: np.ndarray) -> np.ndarray:
        cost = self._job_cost(dc, len(binding))
        self._dry_seconds += cost.seconds or 0.0
        logger.info("dry run: a job of %d circuits x %d shots on %s would take about %s; not submitted",
                    len(binding), self.shots, self.device_name, CostEstimate.duration(cost.seconds or 0.0))
        self._journal(DRY_RUN, device=self.device_name, circuits=len(binding), shots=cost.shots,
                      estimated_seconds=cost.seconds, circuit=dc.describe(), tags=self._tags)
        return run_compact(dc.compact(measured=False), binding, method="statevector")

    def _run_job(self, dc: DeviceCircuit, binding: np.ndarray) -> np.ndarray:
        (connection, kind), s = self._hardware(), self.settings
        secrets = connection.secrets
        n = len(binding)
        cost = self._job_cost(dc, n)
        limit = s.job_limit(cost.seconds or 0.0)
        pub = (dc.isa, dc.observable, binding) if binding.shape[1] else (dc.isa, dc.observable)
        estimator = self.estimator()
        estimator.options.max_execution_time = limit
        estimator.options.environment.job_tags = self._runtime_tags()
        job = with_retries(lambda: estimator.run([pub]), what=f"submitting a job to {self.device_name}",
                           retries=s.retries, secrets=secrets, submission=True,
                           translate=lambda exc: submission_error(exc, s.mode, self.device_name, secrets))
        job_id = str(job.job_id())
        self.job_ids.append(job_id)
        logger.info("IBM Quantum job %s submitted to %s: %d circuits x %d shots, about %s, max_execution_time %d s",
                    job_id, self.device_name, n, self.shots, CostEstimate.duration(cost.seconds or 0.0), limit)
        self._journal(SUBMITTED, job_id=job_id, device=self.device_name, circuits=n, shots=cost.shots,
                      shots_per_circuit=self.shots, estimated_seconds=cost.seconds, max_execution_time=limit,
                      resilience_level=s.resilience, mode=s.mode, estimator=ESTIMATOR_NAMES[kind],
                      estimator_options=s.estimator_options, circuit=dc.describe(), tags=self._tags)
        recover = (f"collect it later with: qenc-bench ibm-jobs {self.journal.path} --collect" if self.journal
                   else f"its id is {job_id}") + ", or wait longer with --backend-option result_timeout=SECONDS"
        try:
            result = wait_for_result(job, timeout=s.result_timeout, retries=s.retries, secrets=secrets,
                                     device=self.device_name, recover=recover, limit=limit)
        except JobNotFinishedError:
            raise
        except IBMServiceError as exc:
            self._journal(FAILED, job_id=job_id, error=str(exc))
            raise
        self._journal(DONE, job_id=job_id)
        values = np.asarray(result[0].data.evs, dtype=np.float64)
        return np.broadcast_to(values, (n,)).copy()

    def _runtime_tags(self) -> list[str]:
        """The job tags the service stores (``service.jobs(job_tags=[...])`` finds them): the
        user's, ``qenc-bench`` and the harness's purpose, encoder and seed."""
        own = ["qenc-bench"] + [_runtime_tag(k, self._tags[k]) for k in ("purpose", "encoder", "seed") if k in self._tags]
        user = self.settings.estimator_options.get("environment", {}).get("job_tags", [])
        return list(dict.fromkeys([*user, *own]))

    def _journal(self, event: str, **fields: Any) -> None:
        if self.journal is not None:
            self.journal.append(event, **fields)

    def estimator(self) -> Any:
        """The Runtime estimator every job goes through, made (with its Batch or Session) at
        the first job."""
        if self._estimator is None:
            kind = self._hardware()[1]
            mode = self._device if self.settings.mode == "job" else self._open_execution()
            if kind == "client":
                from qiskit_ibm_runtime.executor_estimator import Estimator

                self._estimator = Estimator(mode=mode, options=self._options)
            else:
                import qiskit_ibm_runtime

                with warnings.catch_warnings():  # deprecated since 0.50 and still supported: estimator=v2
                    warnings.filterwarnings("ignore", message="The EstimatorV2 class is deprecated",
                                            category=DeprecationWarning)
                    self._estimator = qiskit_ibm_runtime.EstimatorV2(mode=mode, options=self._options)
        return self._estimator

    def _open_execution(self) -> Any:
        import qiskit_ibm_runtime

        s, secrets = self.settings, self._hardware()[0].secrets
        grouping = qiskit_ibm_runtime.Batch if s.mode == "batch" else qiskit_ibm_runtime.Session
        self._execution = with_retries(lambda: grouping(backend=self._device), what=f"opening a {s.mode}",
                                       retries=s.retries, secrets=secrets,
                                       translate=lambda exc: opening_error(exc, s.mode, secrets))
        return self._execution

    def noisy_expval(self, circuit, features, weights, noise: Depolarizing) -> np.ndarray:
        raise IncompatibleComponentsError(
            f"backend {self.name!r} always runs with {self.device_name}'s own noise; depolarizing levels "
            f"({noise.label}) are not added on top: use --backend aer for --noise depolarizing:P"
        )

    def close(self) -> None:
        """Close the Batch or Session (no new jobs; submitted ones finish). Never raises: it runs
        in the harness's ``finally``, after the error that matters."""
        from qiskit_ibm_runtime.exceptions import IBMError

        execution, self._execution, self._estimator = self._execution, None, None
        if execution is None:
            return
        try:
            execution.close()
        except (IBMError, OSError) as exc:
            logger.warning("closing the %s on %s failed (it closes itself when its time limit passes): %s",
                           self.settings.mode, self.device_name, self._hardware()[0].redact(exc))


def _runtime_version() -> str:
    from importlib.metadata import version

    return version("qiskit-ibm-runtime")
