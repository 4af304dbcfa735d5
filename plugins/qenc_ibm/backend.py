"""The ``ibm`` backend: one Estimator job per batch on an IBM Quantum device or a fake one.

Every :class:`~qenc_bench.Circuit` is translated once (:func:`qenc_aer.translate.to_qiskit`:
one Parameter per parametrised gate) and transpiled once to the device (an ISA circuit, with
the observable laid out on the physical readout qubit). A batch of N samples is then ONE
estimator call with a binding array (N, K): on hardware one job, locally one Aer run.

- Fake device (a name starting with ``Fake``, e.g. ``FakeSherbrooke``): what
  qiskit-ibm-runtime's local testing mode runs, Qiskit's ``BackendEstimatorV2`` on the fake
  device, which samples ``shots`` measurements per value on Aer with the device's noise
  model (gate errors, T1/T2 relaxation, readout errors). It is called directly: local
  testing mode (``EstimatorV2(mode=fake_device)``) deep-copies the device for every job,
  and the copy rebuilds the 127-qubit noise model (3-9 s per job measured here).
  With ``noise=False`` the same ISA circuit runs on a noiseless Aer statevector with exact
  expectation values (a check that transpilation preserves the model).
- Real device: the account from :mod:`.account`, and qiskit-ibm-runtime's ``EstimatorV2``
  in a Runtime ``Batch`` (or a ``Session``, or job mode) opened at the first job, with
  ``default_shots`` and, when given, ``resilience_level``.

Why the deprecated ``EstimatorV2`` for hardware: qiskit-ibm-runtime 0.50 deprecated it for
the client-side ``executor_estimator.Estimator``, but in 0.51 that one fails in local mode on
a fake 127-qubit device (Aer: "a circuit requires more memory than max_memory_mb": the
simulation is not reduced to the circuit's qubits), so the Batch path could not be tested
offline with it. Its deprecation warning is silenced at construction only.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np

from qenc_bench import Backend, Circuit
from qenc_bench.errors import ConfigError, IncompatibleComponentsError
from qenc_bench.noise import Depolarizing

from . import CAPABILITIES
from .account import connect, device_from_service

DEFAULT_DEVICE = "FakeSherbrooke"
DEFAULT_SHOTS = 4000
FAKE_PREFIX = "Fake"
MODES = ("batch", "session", "job")
RESILIENCE_LEVELS = (0, 1, 2)


def fake_device_names() -> list[str]:
    """The fake devices qiskit-ibm-runtime ships (class names, e.g. ``FakeSherbrooke``)."""
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return sorted(
        name for name, value in vars(fake_provider).items()
        if isinstance(value, type) and issubclass(value, FakeBackendV2) and value is not FakeBackendV2
    )


@lru_cache(maxsize=4)
def fake_device(name: str) -> Any:
    """One instance per fake device and process: its noise model (built at its first run,
    about 5 s for a 127-qubit device) is then built once, whatever the number of backends."""
    from qiskit_ibm_runtime import fake_provider

    if name not in fake_device_names():
        raise ConfigError(f"unknown fake device {name!r}; known: {', '.join(fake_device_names())}")
    return getattr(fake_provider, name)()


def _positive_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= 1


@dataclass(frozen=True)
class DeviceCircuit:
    """A circuit ready for the device.

    :param isa: the transpiled circuit (device qubits and basis gates), still parametrised.
    :param observable: Z on the physical qubit that carries the readout.
    :param columns: (K_isa,) for each of ``isa.parameters``, its column in the binding array
        of the translated circuit (:meth:`qenc_aer.translate.QiskitCircuit.angles`).
    """

    source: Any
    isa: Any
    observable: Any
    columns: np.ndarray


class IBMBackend(Backend):
    """:param device: a fake device (``FakeSherbrooke``, ``FakeBrisbane``, ``FakeKyiv``, ...)
        run locally, or an IBM Quantum device name (``ibm_brisbane``...) run with an account.
    :param shots: measurements per expectation value; default 4000 (exact with ``noise=False``).
    :param optimization_level: the preset transpiler's level (0-3).
    :param resilience_level: the Runtime's error mitigation (0-2); ``None`` leaves the service's
        default. Real devices only: locally there is no mitigation.
    :param seed: seeds the transpiler's layout and, locally, the shot sampling.
    :param noise: ``False`` runs a fake device's transpiled circuit without noise, exactly.
    :param mode: how real-device jobs are grouped: ``batch`` (default), ``session`` or ``job``.
    :param service: a ready ``QiskitRuntimeService`` (notebooks, tests); else one is made from
        the environment or the saved account (see :mod:`.account`).
    :param account_file: the saved-account file (default ``~/.qiskit/qiskit-ibm.json``).
    """

    name = "ibm"
    capabilities = CAPABILITIES

    def __init__(
        self,
        device: str = DEFAULT_DEVICE,
        shots: int | None = None,
        optimization_level: int = 1,
        resilience_level: int | None = None,
        seed: int | None = None,
        noise: bool = True,
        mode: str = "batch",
        service: Any = None,
        account_file: str | None = None,
    ):
        if not isinstance(device, str) or not device:
            raise ConfigError(f"device must be a device name such as {DEFAULT_DEVICE}, got {device!r}")
        if not isinstance(noise, bool):
            raise ConfigError(f"noise must be true or false, got {noise!r}")
        if shots is not None and not _positive_int(shots):
            raise ConfigError(f"shots must be a positive integer, got {shots!r}")
        if optimization_level not in (0, 1, 2, 3) or isinstance(optimization_level, bool):
            raise ConfigError(f"optimization_level must be 0, 1, 2 or 3, got {optimization_level!r}")
        if resilience_level is not None and (
            resilience_level not in RESILIENCE_LEVELS or isinstance(resilience_level, bool)
        ):
            raise ConfigError(f"resilience_level must be 0, 1 or 2 (or left out), got {resilience_level!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ConfigError(f"seed must be an integer, got {seed!r}")
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.device_name = device
        self.local = device.startswith(FAKE_PREFIX)
        self.noise = noise
        if not noise:
            if not self.local:
                raise ConfigError(f"noise=False needs a fake device (e.g. {DEFAULT_DEVICE}); {device} is hardware")
            if shots is not None:
                raise ConfigError("noise=False gives exact expectation values; leave shots out")
        self.shots = (int(shots) if shots is not None else DEFAULT_SHOTS) if noise else None
        if self.local and resilience_level is not None:
            raise ConfigError(
                "resilience_level is applied by IBM Quantum's service; a fake device runs locally "
                "without error mitigation: leave resilience_level out"
            )
        self.optimization_level = int(optimization_level)
        self.resilience_level = resilience_level
        self.seed = None if seed is None else int(seed)
        self.mode = mode
        self.account = None
        if self.local:
            self._device = fake_device(device)
        else:
            if service is None:
                service, self.account = connect(device, account_file)
            else:
                self.account = "given service"
            self._device = device_from_service(service, device)
        self.capabilities = replace(CAPABILITIES, max_qubits=int(self._device.num_qubits))
        self.jobs = 0
        self._pass_manager = None
        self._circuits: dict[Circuit, DeviceCircuit] = {}
        self._estimator = None
        self._execution = None  # the Batch or Session of a real device, opened at the first job

    # --- what the backend is -------------------------------------------------------------
    def __repr__(self) -> str:
        return (
            f"IBMBackend(device={self.device_name!r}, shots={self.shots}, noise={self.noise}, "
            f"optimization_level={self.optimization_level}, resilience_level={self.resilience_level}, "
            f"mode={'local' if self.local else self.mode!r})"
        )

    def describe(self) -> dict[str, Any]:
        """What shaped the numbers (no token, no instance): for logs and result files."""
        return {
            "device": self.device_name,
            "qubits": self.capabilities.max_qubits,
            "local": self.local,
            "noise": "device noise model" if self.local and self.noise else ("none" if not self.noise else "hardware"),
            "shots": self.shots,
            "optimization_level": self.optimization_level,
            "resilience_level": self.resilience_level,
            "mode": "local" if self.local else self.mode,
            "seed": self.seed,
            "account": self.account,
            "jobs": self.jobs,
        }

    def check(self, circuit: Circuit) -> None:
        if circuit.n_qubits > self.capabilities.max_qubits:
            raise IncompatibleComponentsError(
                f"device {self.device_name} has {self.capabilities.max_qubits} qubits; this circuit needs "
                f"{circuit.n_qubits} (use a smaller --grid or a larger device)"
            )

    # --- circuits ------------------------------------------------------------------------
    def transpiled(self, circuit: Circuit) -> DeviceCircuit:
        """The circuit for the device, transpiled once per :class:`~qenc_bench.Circuit`."""
        if circuit not in self._circuits:
            from qenc_aer.translate import to_qiskit
            from qiskit.transpiler import generate_preset_pass_manager

            if self._pass_manager is None:
                self._pass_manager = generate_preset_pass_manager(
                    backend=self._device, optimization_level=self.optimization_level, seed_transpiler=self.seed
                )
            source = to_qiskit(circuit)
            isa = self._pass_manager.run(source.circuit)
            position = {p: k for k, p in enumerate(source.circuit.parameters)}
            self._circuits[circuit] = DeviceCircuit(
                source=source,
                isa=isa,
                observable=source.observable.apply_layout(isa.layout),
                columns=np.array([position[p] for p in isa.parameters], dtype=int),
            )
        return self._circuits[circuit]

    # --- running -------------------------------------------------------------------------
    def _new_estimator(self) -> Any:
        if not self.noise:
            from qiskit_aer.primitives import EstimatorV2 as AerEstimator

            # precision 0: <Z> read off the statevector; Aer drops the device's idle qubits
            return AerEstimator(options={"backend_options": {"method": "statevector", "max_parallel_threads": 1}})
        if self.local:
            from qiskit.primitives import BackendEstimatorV2

            # shots -> precision 1/sqrt(shots) -> ceil(1/precision^2) shots gives 4001 for
            # 4000 in floating point; 1/sqrt(shots - 1/2) gives back exactly ``shots``
            options: dict[str, Any] = {"default_precision": 1.0 / math.sqrt(self.shots - 0.5)}
            if self.seed is not None:
                options["seed_simulator"] = self.seed
            return BackendEstimatorV2(backend=self._device, options=options)
        import qiskit_ibm_runtime

        options = {"default_shots": self.shots}
        if self.resilience_level is not None:
            options["resilience_level"] = self.resilience_level
        if self.mode == "job":
            mode = self._device
        else:
            grouping = qiskit_ibm_runtime.Batch if self.mode == "batch" else qiskit_ibm_runtime.Session
            self._execution = grouping(backend=self._device)
            mode = self._execution
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The EstimatorV2 class is deprecated", category=DeprecationWarning)
            return qiskit_ibm_runtime.EstimatorV2(mode=mode, options=options)

    def estimator(self) -> Any:
        """The estimator every batch goes through (made at the first batch)."""
        if self._estimator is None:
            self._estimator = self._new_estimator()
        return self._estimator

    def _run(self, dc: DeviceCircuit, angles: np.ndarray) -> np.ndarray:
        """``<Z_readout>`` for every row of ``angles`` (N, K): one estimator call, one job."""
        n = len(angles)
        if n == 0:
            return np.zeros(0)
        if len(dc.columns):
            pub = (dc.isa, dc.observable, angles[:, dc.columns])
        else:  # nothing to bind: one value serves the batch
            pub = (dc.isa, dc.observable)
        result = self.estimator().run([pub]).result()
        self.jobs += 1
        values = np.asarray(result[0].data.evs, dtype=np.float64)
        # mitigated estimates may leave [-1, 1]; <Z> cannot
        return np.clip(np.broadcast_to(values, (n,)), -1.0, 1.0)

    def expval(self, circuit: Circuit, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        self.check(circuit)
        dc = self.transpiled(circuit)
        features = np.asarray(features, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64)
        return self._run(dc, dc.source.angles(features, weights))

    def noisy_expval(self, circuit, features, weights, noise: Depolarizing) -> np.ndarray:
        raise IncompatibleComponentsError(
            f"backend {self.name!r} always runs with {self.device_name}'s own noise; depolarizing levels "
            f"({noise.label}) are not added on top: use --backend aer for --noise depolarizing:P"
        )

    def close(self) -> None:
        """Close a real device's Batch or Session (no new jobs; running ones finish)."""
        if self._execution is not None:
            self._execution.close()
            self._execution = None
            self._estimator = None
