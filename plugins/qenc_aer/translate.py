"""A :class:`~qenc_bench.Circuit` as a Qiskit circuit with one Parameter per gate occurrence.

Every parametrised op gets its own Parameter ``theta[k]`` (k counts parametrised ops in
order), even when two ops read the same feature column or weight. A batch is then a binding
array ``angles[n, k]`` gathered from the feature matrix and the weights, and the
parameter-shift rule applies to each occurrence on its own: every parametrised gate here is
``exp(-i a G / 2)`` with ``G^2 = I``, so ``d<Z>/da = (<Z>(a + pi/2) - <Z>(a - pi/2)) / 2``,
and the derivative w.r.t. a feature or weight is the sum over the ops that read it.

Wire ``w`` is Qiskit qubit ``w``. Qiskit orders qubits little-endian (qubit 0 is the
rightmost character of a Pauli string), so the observable is built from a sparse list
naming the readout qubit, never from a string.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from qiskit.circuit import ParameterVector, QuantumCircuit
from qiskit.quantum_info import SparsePauliOp

from qenc_bench import GATES, Circuit

#: IR gate -> Qiskit instruction name (all native to Aer, so nothing is transpiled)
QISKIT_GATES = {
    "X": "x",
    "H": "h",
    "RX": "rx",
    "RY": "ry",
    "RZ": "rz",
    "CNOT": "cx",
    "CZ": "cz",
    "IsingXX": "rxx",
    "IsingZZ": "rzz",
}
ONE_QUBIT_GATES = tuple(name for gate, name in QISKIT_GATES.items() if GATES[gate][0] == 1)
TWO_QUBIT_GATES = tuple(name for gate, name in QISKIT_GATES.items() if GATES[gate][0] == 2)


@dataclass(frozen=True)
class QiskitCircuit:
    """:param circuit: the gates, with one Parameter per parametrised op.
    :param reads_feature: (K,) True where the k-th of ``circuit.parameters`` reads a feature
        column (False: a weight).
    :param index: (K,) the feature column or weight index the k-th parameter reads.
    :param observable: Z on the readout qubit.
    """

    circuit: QuantumCircuit
    reads_feature: np.ndarray
    index: np.ndarray
    observable: SparsePauliOp

    @property
    def n_parameters(self) -> int:
        return len(self.index)

    def angles(self, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The binding array (N, K) of a batch: each occurrence's angle for each sample."""
        f = self.reads_feature
        angles = np.empty((len(features), self.n_parameters))
        angles[:, f] = features[:, self.index[f]]
        angles[:, ~f] = weights[self.index[~f]]
        return angles


def to_qiskit(circuit: Circuit) -> QiskitCircuit:
    parametrised = [op for op in circuit.ops if op.source is not None]
    theta = ParameterVector("theta", len(parametrised))
    qc = QuantumCircuit(circuit.n_qubits)
    k = 0
    for op in circuit.ops:
        add = getattr(qc, QISKIT_GATES[op.gate])
        if op.source is None:
            add(*op.wires)
        else:
            add(theta[k], *op.wires)
            k += 1
    # a binding array's columns follow qc.parameters, in Qiskit's sort order
    position = {p: i for i, p in enumerate(theta)}
    order = np.array([position[p] for p in qc.parameters], dtype=int)
    observable = SparsePauliOp.from_sparse_list([("Z", [circuit.readout], 1.0)], num_qubits=circuit.n_qubits)
    return QiskitCircuit(
        circuit=qc,
        reads_feature=np.array([op.source == "feature" for op in parametrised], dtype=bool)[order],
        index=np.array([op.index for op in parametrised], dtype=int)[order],
        observable=observable,
    )
