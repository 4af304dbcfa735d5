"""Fake devices, simulated fast: the device's noise model on the qubits a circuit uses only.

A fake device (``FakeFez``, ``FakeSherbrooke``, ...) is a snapshot of a real device: its
coupling map, basis gates and calibrated errors. Qiskit's ``BackendEstimatorV2`` on it (what
the runtime's local testing mode runs) hands Aer the noise model of all 127 or 156 qubits for
every run (about 1.2 s each) and lets Aer pick its method; measured here, 725 s for 20 samples
of a 10-qubit circuit on FakeFez. This module runs the same physics faster:

1. the transpiled (ISA) circuit is cut down to the physical qubits it touches, in order,
   with the readout qubit measured (a 10-qubit model touches 10 to 14 of FakeFez's 156);
2. the noise model holds the device's errors on those qubits only, derived from the
   device's properties by ``qiskit_aer.noise.device.basic_device_gate_errors`` and
   ``basic_device_readout_errors``, the functions the fake device's own noise model is built
   with (depolarizing plus thermal relaxation per gate, readout errors), for those gates only;
   every error is local to its qubits, so nothing else changes. The transpiled circuit is not scheduled, so,
   as on the fake device itself, idle qubits get no relaxation;
3. the whole batch is one Aer run of the one circuit with a binding array
   (``parameter_binds``), no Python loop and no per-sample circuit;
4. the method follows the size (:func:`choose_method`): the exact density matrix (4^k
   memory) for small circuits, statevector trajectories (one per shot) for large ones; shots
   are sampled from the final state with the device's readout errors.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from qenc_bench import ConfigError, IncompatibleComponentsError

#: the largest circuit (qubits touched) ever simulated as a density matrix: 4^13 entries, 1 GB
DENSITY_MATRIX_MAX_QUBITS = 13
#: a trajectory costs about this many density-matrix entries' work per state amplitude
#: (measured: 10 qubits, 1000 shots, FakeSherbrooke: trajectories 6 x slower than the density matrix)
TRAJECTORY_OVERHEAD = 6


def fake_device_names() -> list[str]:
    """The fake devices qiskit-ibm-runtime ships (class names, e.g. ``FakeFez``)."""
    from qiskit_ibm_runtime import fake_provider
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    return sorted(
        name for name, value in vars(fake_provider).items()
        if isinstance(value, type) and issubclass(value, FakeBackendV2) and value is not FakeBackendV2
    )


@lru_cache(maxsize=4)
def fake_device(name: str) -> Any:
    """One instance per fake device and process."""
    from qiskit_ibm_runtime import fake_provider

    if name not in fake_device_names():
        raise ConfigError(f"unknown fake device {name!r}; known: {', '.join(fake_device_names())}")
    return getattr(fake_provider, name)()


@lru_cache(maxsize=4)
def _properties(name: str) -> dict[str, Any]:
    return fake_device(name).properties().to_dict()


@lru_cache(maxsize=64)
def noise_model_on(name: str, physical: tuple[int, ...]) -> Any:
    """The fake device's noise model on ``physical`` qubits only, renumbered 0..k-1 in that
    order: the errors of the gates among them (others, and pairs leaving the set, are
    dropped), derived from the device's properties only for those gates (for FakeFez's 156
    qubits all of them take about 12 s, ten qubits' 0.1 s)."""
    from qiskit_aer.noise import NoiseModel
    from qiskit_aer.noise.device import basic_device_gate_errors, basic_device_readout_errors

    device = fake_device(name)
    kept = set(physical)
    data = dict(_properties(name))
    data["gates"] = [gate for gate in data["gates"] if set(gate["qubits"]) <= kept]
    properties = type(device.properties()).from_dict(data)
    position = {q: i for i, q in enumerate(physical)}
    model = NoiseModel(basis_gates=list(device.configuration().basis_gates))
    with warnings.catch_warnings():  # Aer warns about T2 > 2 T1 in calibration data; it truncates them
        warnings.simplefilter("ignore")
        for qubits, error in basic_device_readout_errors(properties):
            if all(q in position for q in qubits):
                model.add_readout_error(error, [position[q] for q in qubits])
        for gate, qubits, error in basic_device_gate_errors(properties):
            model.add_quantum_error(error, gate, [position[q] for q in qubits])
    return model


@dataclass(frozen=True)
class CompactCircuit:
    """An ISA circuit on the physical qubits it touches.

    :param circuit: the gates on qubits 0..k-1 (``physical[i]`` is qubit i), parameters as the
        ISA circuit's; measured on the readout qubit when made for shots.
    :param physical: the device qubits, in order.
    :param readout: the compact index of the readout qubit.
    """

    circuit: Any
    physical: tuple[int, ...]
    readout: int

    @property
    def n_qubits(self) -> int:
        return len(self.physical)


def compact(isa: Any, readout_physical: int, *, measured: bool) -> CompactCircuit:
    """``isa`` on the qubits it touches (and the readout qubit), measured on the readout
    qubit (``measured``) or saving ``<Z_readout>`` exactly (Aer's ``save_expectation_value``)."""
    import qiskit_aer  # noqa: F401  (adds save_expectation_value to QuantumCircuit)
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Pauli

    touched = {isa.find_bit(q).index for instruction in isa.data for q in instruction.qubits}
    physical = tuple(sorted(touched | {readout_physical}))
    position = {q: i for i, q in enumerate(physical)}
    circuit = QuantumCircuit(len(physical), 1 if measured else 0)
    for instruction in isa.data:
        circuit.append(instruction.operation, [position[isa.find_bit(q).index] for q in instruction.qubits])
    readout = position[readout_physical]
    if measured:
        circuit.measure(readout, 0)
    else:
        circuit.save_expectation_value(Pauli("Z"), [readout])
    return CompactCircuit(circuit, physical, readout)


def choose_method(n_qubits: int, shots: int | None, noisy: bool, requested: str = "auto") -> str:
    """The cheaper exact method for a noisy circuit of ``n_qubits``: the density matrix
    (work ~ 4^n) while 2^n <= :data:`TRAJECTORY_OVERHEAD` x shots (trajectories: ~ shots x 2^n
    x that overhead) and it fits in memory (:data:`DENSITY_MATRIX_MAX_QUBITS`), else
    statevector trajectories (one per shot). Noiseless circuits: the statevector."""
    if requested != "auto":
        return requested
    if not noisy or not shots:
        return "statevector"
    fits = n_qubits <= DENSITY_MATRIX_MAX_QUBITS and 2 ** n_qubits <= TRAJECTORY_OVERHEAD * shots
    return "density_matrix" if fits else "statevector"


def run_compact(compact_circuit: CompactCircuit, angles: np.ndarray, *, noise_model: Any = None,
                shots: int | None = None, method: str = "statevector", seed: int | None = None) -> np.ndarray:
    """``<Z_readout>`` for each row of ``angles`` (N, K_isa; columns as the circuit's
    parameters): one Aer run. With ``shots``, the fraction of 0s minus 1s over ``shots``
    samples (readout errors included); without, the exact expectation value."""
    from qiskit_aer import AerSimulator

    circuit = compact_circuit.circuit
    n = len(angles)
    # the batch's samples run as parallel experiments (less threading overhead than parallel gates)
    options: dict[str, Any] = {"method": method, "max_parallel_experiments": 0}
    if noise_model is not None:
        options["noise_model"] = noise_model
    if seed is not None:
        options["seed_simulator"] = seed
    simulator = AerSimulator(**options)
    run_options: dict[str, Any] = {"shots": shots or 1}
    if circuit.num_parameters:
        run_options["parameter_binds"] = [{p: angles[:, k].tolist() for k, p in enumerate(circuit.parameters)}]
        runs = n
    else:  # nothing to bind: one value serves the batch
        runs = 1
    result = simulator.run(circuit, **run_options).result()
    if not result.success:  # e.g. memory: a circuit touching too many qubits for its method
        raise IncompatibleComponentsError(
            f"Aer could not simulate the {compact_circuit.n_qubits}-qubit circuit with method={method} "
            f"({str(result.status)[:200]}); try --backend-option simulation_method=statevector or a smaller circuit")
    if shots:
        values = np.empty(runs)
        for i in range(runs):
            counts = result.get_counts(i)
            values[i] = (counts.get("0", 0) - counts.get("1", 0)) / shots
    else:
        values = np.array([float(np.real(result.data(i)["expectation_value"])) for i in range(runs)])
    return np.broadcast_to(values, (n,)).copy()
