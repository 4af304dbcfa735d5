"""A small backend-neutral circuit description.

An encoder's feature map and a model's ansatz are tuples of :class:`Op`. Each parametrised
op takes its angle from one column of the batch's feature matrix (``source="feature"``)
or from one entry of the weight vector (``source="weight"``). Backends translate a
:class:`Circuit` once into their own object (a PennyLane tape, a Qiskit circuit with
Parameters) and bind a whole batch of feature rows in one call.

Gate conventions (the same in PennyLane and Qiskit): ``RX(a) = exp(-i a X / 2)``, likewise
``RY``, ``RZ``; ``IsingXX(a) = exp(-i a X⊗X / 2)`` (Qiskit ``RXXGate``), ``IsingZZ(a) =
exp(-i a Z⊗Z / 2)`` (Qiskit ``RZZGate``); ``CNOT`` has its control on ``wires[0]``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

GATES: dict[str, tuple[int, bool]] = {
    # name: (number of wires, parametrised)
    "X": (1, False),
    "H": (1, False),
    "RX": (1, True),
    "RY": (1, True),
    "RZ": (1, True),
    "CNOT": (2, False),
    "CZ": (2, False),
    "IsingXX": (2, True),
    "IsingZZ": (2, True),
}

Source = Literal["feature", "weight"]


@dataclass(frozen=True)
class Op:
    """One gate: its name, its wires and, when parametrised, where its angle comes from."""

    gate: str
    wires: tuple[int, ...]
    source: Source | None = None
    index: int | None = None

    def __post_init__(self) -> None:
        if self.gate not in GATES:
            raise ValueError(f"unknown gate {self.gate!r}; known: {', '.join(GATES)}")
        n_wires, parametrised = GATES[self.gate]
        object.__setattr__(self, "wires", tuple(int(w) for w in self.wires))
        if len(self.wires) != n_wires or len(set(self.wires)) != n_wires:
            raise ValueError(f"{self.gate} acts on {n_wires} distinct wire(s), got {self.wires}")
        if parametrised != (self.source is not None):
            raise ValueError(f"{self.gate} {'needs' if parametrised else 'takes no'} parameter")
        if self.source is not None and (self.source not in ("feature", "weight") or self.index is None or self.index < 0):
            raise ValueError(f"{self.gate}: bad parameter source {self.source!r}[{self.index}]")

    @property
    def is_two_qubit(self) -> bool:
        return len(self.wires) == 2


def feature_op(gate: str, wire: int, column: int) -> Op:
    return Op(gate, (wire,), "feature", column)


def weight_op(gate: str, wires: tuple[int, ...], index: int) -> Op:
    return Op(gate, wires, "weight", index)


@dataclass(frozen=True)
class Circuit:
    """A parametrised circuit whose output is ``<Z>`` on ``readout``.

    :param n_qubits: wires ``0 .. n_qubits - 1``.
    :param ops: the gates in order.
    :param n_features: columns of the feature matrix the ops read.
    :param n_weights: length of the weight vector the ops read.
    :param readout: the wire whose Pauli-Z expectation is the model's output.
    :param family: a tag a specialised backend may check (e.g. ``"readout-xxzz"``); the ops
        are always the ground truth.
    """

    n_qubits: int
    ops: tuple[Op, ...]
    n_features: int
    n_weights: int
    readout: int
    family: str = "generic"
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", tuple(self.ops))
        for op in self.ops:
            if max(op.wires) >= self.n_qubits:
                raise ValueError(f"{op.gate} on wire {max(op.wires)} outside {self.n_qubits} qubits")
            limit = self.n_features if op.source == "feature" else self.n_weights
            if op.source is not None and op.index is not None and op.index >= limit:
                raise ValueError(f"{op.gate} reads {op.source} {op.index} of {limit}")
        if not 0 <= self.readout < self.n_qubits:
            raise ValueError(f"readout wire {self.readout} outside {self.n_qubits} qubits")

    @property
    def two_qubit_gates(self) -> int:
        return sum(op.is_two_qubit for op in self.ops)

    @property
    def depth(self) -> int:
        """Circuit depth: the longest chain of gates that share wires."""
        level = [0] * self.n_qubits
        for op in self.ops:
            d = max(level[w] for w in op.wires) + 1
            for w in op.wires:
                level[w] = d
        return max(level, default=0)

    def gate_counts(self) -> dict[str, int]:
        return dict(Counter(op.gate for op in self.ops))
