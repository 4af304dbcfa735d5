"""A :class:`~qenc_bench.Circuit` made ready for a device, once per circuit.

The circuit is translated to Qiskit once (:func:`qenc_aer.translate.to_qiskit`: one Parameter
per parametrised gate) and transpiled with the preset pass manager a few times (transpiler
seeds ``seed``, ``seed + 1``, ... for ``trials`` seeds, 0, 1, ... without a seed, so the choice
is reproducible); the candidate that touches the fewest qubits, then has the fewest two-qubit
gates, then the least depth, is kept. Sabre already picks the fewest SWAPs per seed,
but not the fewest qubits: on FakeFez a 10-qubit model lands on 10 or on 14 qubits depending
on the seed, which is 256 times the density-matrix cost offline, and more qubits exposed to
errors on hardware. Every batch then binds its parameters to this one ISA circuit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .fake import CompactCircuit, compact


@dataclass(frozen=True)
class DeviceCircuit:
    """A circuit ready for the device.

    :param isa: the transpiled circuit (device qubits and basis gates), still parametrised.
    :param observable: Z on the physical qubit that carries the readout.
    :param columns: (K_isa,) for each of ``isa.parameters``, its column in the binding array
        of the translated circuit (:meth:`qenc_aer.translate.QiskitCircuit.angles`).
    :param readout_physical: the device qubit that carries the readout.
    :param qubits_used: how many device qubits the ISA circuit touches.
    :param two_qubit_gates: two-qubit gates after transpilation (SWAPs included).
    :param seconds: one execution's duration on the device (from its target), ``None`` if the
        device does not give gate durations.
    """

    source: Any
    isa: Any
    observable: Any
    columns: np.ndarray
    readout_physical: int
    qubits_used: int
    two_qubit_gates: int
    depth: int
    seconds: float | None
    _compact: dict = field(default_factory=dict, compare=False, repr=False)

    def binding(self, features: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """The ISA circuit's binding array (N, K_isa) of a batch."""
        return self.source.angles(features, weights)[:, self.columns]

    def compact(self, measured: bool) -> CompactCircuit:
        """The ISA circuit on the qubits it touches (made once each way)."""
        if measured not in self._compact:
            self._compact[measured] = compact(self.isa, self.readout_physical, measured=measured)
        return self._compact[measured]

    def describe(self) -> dict[str, Any]:
        return {"qubits_used": self.qubits_used, "two_qubit_gates": self.two_qubit_gates, "depth": self.depth,
                "microseconds": None if self.seconds is None else round(self.seconds * 1e6, 2)}


def _touched(isa: Any) -> int:
    return len({isa.find_bit(q).index for instruction in isa.data for q in instruction.qubits})


def _two_qubit_gates(isa: Any) -> int:
    return sum(1 for instruction in isa.data if instruction.operation.num_qubits == 2)


def duration(isa: Any, target: Any) -> float | None:
    """The ISA circuit's duration in seconds on ``target`` (its parameters bound to 0: a
    rotation's duration does not depend on its angle); ``None`` without gate durations."""
    from qiskit.exceptions import QiskitError

    bound = isa.assign_parameters(np.zeros(isa.num_parameters)) if isa.num_parameters else isa
    try:
        return float(bound.estimate_duration(target, unit="s"))
    except QiskitError:  # "Duration not found for ...": the target gives no durations
        return None


def prepare(circuit: Any, device: Any, *, optimization_level: int, seed: int | None, trials: int) -> DeviceCircuit:
    """Translate and transpile ``circuit`` (a :class:`~qenc_bench.Circuit`) for ``device``."""
    from qiskit.transpiler import generate_preset_pass_manager

    from qenc_aer.translate import to_qiskit

    source = to_qiskit(circuit)
    best: tuple[tuple[int, int, int], Any] | None = None
    trial = 0
    # ``trials`` seeds, and up to 4 x as many while every layout so far borrows extra qubits
    while trial < trials or (trial < 4 * trials and best is not None and best[0][0] > circuit.n_qubits):
        manager = generate_preset_pass_manager(backend=device, optimization_level=optimization_level,
                                               seed_transpiler=(seed or 0) + trial)
        isa = manager.run(source.circuit)
        key = (_touched(isa), _two_qubit_gates(isa), isa.depth())
        if best is None or key < best[0]:
            best = (key, isa)
        trial += 1
    (qubits_used, two_qubit_gates, depth), isa = best  # type: ignore[misc]
    position = {p: k for k, p in enumerate(source.circuit.parameters)}
    readout_physical = isa.layout.final_index_layout()[circuit.readout]
    return DeviceCircuit(
        source=source,
        isa=isa,
        observable=source.observable.apply_layout(isa.layout),
        columns=np.array([position[p] for p in isa.parameters], dtype=int),
        readout_physical=int(readout_physical),
        qubits_used=qubits_used,
        two_qubit_gates=two_qubit_gates,
        depth=depth,
        seconds=duration(isa, device.target),
    )
