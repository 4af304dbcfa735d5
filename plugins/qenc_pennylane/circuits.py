"""The Circuit IR as PennyLane operations, shared by the statevector and the noisy paths."""

from __future__ import annotations

import numpy as np
import pennylane as qml

from qenc_bench import Circuit

GATES = {
    "X": qml.PauliX,
    "H": qml.Hadamard,
    "RX": qml.RX,
    "RY": qml.RY,
    "RZ": qml.RZ,
    "CNOT": qml.CNOT,
    "CZ": qml.CZ,
    "IsingXX": qml.IsingXX,
    "IsingZZ": qml.IsingZZ,
}

#: PennyLane 0.45's autograd path applies a broadcast RX/RY/RZ to an already broadcast state of
#: 13 or more dimensions with a tensordot that fails ("shape-mismatch for sum"); the general
#: rotation ``Rot`` takes the einsum path that handles it. Same unitaries exactly.
_AS_ROT = {
    "RX": lambda a, w: qml.Rot(np.pi / 2, a, -np.pi / 2, wires=w),
    "RY": lambda a, w: qml.Rot(0.0, a, 0.0, wires=w),
    "RZ": lambda a, w: qml.Rot(a, 0.0, 0.0, wires=w),
}
_ROT_FROM_QUBITS = 12


def apply_circuit(circuit: Circuit, features, weights, *, broadcast_workaround: bool = True) -> None:
    """Queue the circuit's gates; ``features`` (N, F) is broadcast over its rows.

    :param broadcast_workaround: write feature rotations of 12+ qubit circuits as ``Rot``
        (default.qubit's broadcasting; devices that split a broadcast need not).
    """
    as_rot = broadcast_workaround and circuit.n_qubits >= _ROT_FROM_QUBITS
    for op in circuit.ops:
        gate = GATES[op.gate]
        if op.source is None:
            gate(wires=op.wires)
        elif op.source == "feature":
            if as_rot and op.gate in _AS_ROT:
                _AS_ROT[op.gate](features[:, op.index], op.wires)
            else:
                gate(features[:, op.index], wires=op.wires)
        else:
            gate(weights[op.index], wires=op.wires)
