"""A :class:`~qenc_bench.Circuit` compiled into fewer, larger steps before any JAX tracing.

The simulator applies a *plan*: the circuit's gates regrouped into steps that give the same
state exactly (up to a global phase per sample, which no output depends on). Fewer steps mean
fewer passes over the statevector and a smaller program for XLA to compile. Four rewrites:

- **Lazy wires.** A wire no gate has touched is ``|0>`` and is kept out of the state (its axis
  has size 1); the state doubles when a gate first acts on it. A product-state feature map
  (angle encoding) therefore costs about two passes over the final state, not one per qubit.
  On an untouched wire a CNOT control or a CZ is the identity, an ``IsingZZ`` acts as an
  ``RZ`` on its other wire, and diagonal gates (RZ) only multiply the state by a phase.
- **Single-qubit fusion.** Consecutive single-qubit gates on one wire (interleaved with gates
  on other wires) become one 2x2 matrix per sample, and such products on two wires one pass
  (their 4x4 Kronecker product).
- **Uniformly controlled rotations.** A run of ``RY`` (or ``RZ``) gates on a target wire
  interleaved with CNOTs onto it from other wires (the multiplexors of amplitude encoding, the
  ZZ blocks of IQP) is one rotation whose angle depends on the controls' bits. Pushing every
  CNOT's X to the end of the run flips the sign of each rotation it passes
  (``X R(a) X = R(-a)``), so for control bits p the angle is
  ``theta_p = sum_k a_k (-1)^(v_k . p)``, with ``v_k`` the controls of the CNOTs before
  rotation k (mod 2): a Walsh-Hadamard transform of the angles, followed by the CNOTs whose
  count in the run is odd. Amplitude encoding of 2^m amplitudes, 2^(m+1) - 3 gates, becomes m
  steps.
- **CNOT groups.** The steps are re-ordered (each wire keeps its order) so that CNOTs come
  together, and a group of ``PERMUTE_MIN_CNOTS`` or more becomes one permutation of the basis
  states: one gather instead of a pass per CNOT (the rings of the ``hea`` and ``reuploading``
  models).
- Everything else (CZ, IsingXX, IsingZZ on touched wires) is one step per gate.

Every rewrite is exact, global phase included. The plan holds only wire numbers and parameter references (``("feature", column)`` or
``("weight", index)``), no angles: one plan, and one compiled program, per circuit structure.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from functools import lru_cache

from qenc_bench import Circuit, Op

#: a parameter reference: ("feature", column) or ("weight", index); None for a fixed gate
Param = tuple[str, int] | None
#: one single-qubit gate of a fused product: (gate name, parameter)
Factor = tuple[str, Param]

#: a run becomes a uniformly controlled rotation from this many CNOTs onto its target
UNIFORM_MIN_CNOTS = 2
#: consecutive CNOTs become one permutation from this many (a gather costs about 2-3 passes)
PERMUTE_MIN_CNOTS = 3
#: single-qubit steps on this many wires share one pass (a 4x4 on two wires costs the same
#: arithmetic as two 2x2 passes and half the memory traffic and compiled kernels)
LOCAL_MAX_WIRES = 2
_RUN_AXES = ("RY", "RZ")


#: how a local step treats each of its wires: ``keep`` (a touched wire: 2 -> 2 entries),
#: ``activate`` (an untouched wire |0>: the state is extended by the matrix's first column),
#: ``phase`` (an untouched wire and a diagonal product: |0> stays |0>, times its phase)
KEEP, ACTIVATE, PHASE = "keep", "activate", "phase"
_DIAGONAL = {"RZ"}


@dataclass(frozen=True)
class Local:
    """Single-qubit gates on one or two ``wires`` (ascending), applied in one pass: on wire
    ``wires[j]`` the product of ``factors[j]`` (applied first to last), in mode ``modes[j]``."""

    wires: tuple[int, ...]
    factors: tuple[tuple[Factor, ...], ...]
    modes: tuple[str, ...]


def single(wire: int, factors: tuple[Factor, ...], mode: str) -> Local:
    return Local((wire,), (tuple(factors),), (mode,))


@dataclass(frozen=True)
class Pair:
    """A two-qubit gate (CNOT, CZ, IsingXX, IsingZZ) on touched wires."""

    gate: str
    wires: tuple[int, int]
    param: Param = None


@dataclass(frozen=True)
class Uniform:
    """A rotation ``axis`` (RY or RZ) on ``target`` whose angle for control bits p (``controls``
    in wire order, the first the most significant bit of p) is ``sum_k a_k (-1)^popcount(v_k & p)``
    over ``terms`` ``(v_k, parameter_k)``. ``activate``: the target was untouched."""

    axis: str
    target: int
    controls: tuple[int, ...]
    terms: tuple[tuple[int, Param], ...]
    activate: bool


@dataclass(frozen=True)
class Permute:
    """CNOTs ``(control, target)`` applied in order, as one permutation of the basis states."""

    cnots: tuple[tuple[int, int], ...]


Step = Local | Pair | Uniform | Permute


def step_wires(step: Step) -> tuple[int, ...]:
    if isinstance(step, Local):
        return step.wires
    if isinstance(step, Pair):
        return step.wires
    if isinstance(step, Uniform):
        return step.controls + (step.target,)
    return tuple(sorted({w for pair in step.cnots for w in pair}))


@dataclass(frozen=True)
class Plan:
    """The steps of a circuit and which wires hold an axis of size 2 at the end."""

    n_qubits: int
    steps: tuple[Step, ...]
    active: tuple[bool, ...]
    readout: int

    @property
    def passes(self) -> int:
        """Steps that read and write the whole state (a size measure, for the docs and tests)."""
        return len(self.steps)


def _param(op: Op) -> Param:
    return None if op.source is None else (op.source, int(op.index))


@dataclass
class _Run:
    """An open run on ``target``: CNOTs onto it and rotations of one axis, in order."""

    target: int
    events: list = field(default_factory=list)  # ("cnot", control) or ("rot", gate, param, v)
    controls: set = field(default_factory=set)
    axis: str | None = None
    parity: int = 0  # bit w set: an odd number of CNOTs from wire w so far
    cnots: int = 0

    def wires(self) -> set[int]:
        return {self.target} | self.controls


class _Planner:
    def __init__(self, n_qubits: int):
        self.active = [False] * n_qubits
        self.pending: list[list[Factor]] = [[] for _ in range(n_qubits)]
        self.steps: list[Step] = []
        self.run: _Run | None = None

    # -- single wires -------------------------------------------------------------------
    def flush(self, wire: int) -> None:
        factors = tuple(self.pending[wire])
        if not factors:
            return
        if self.active[wire]:
            mode = KEEP
        elif all(gate in _DIAGONAL for gate, _ in factors):
            mode = PHASE  # |0> stays |0>: the wire stays untouched
        else:
            mode = ACTIVATE
        self.steps.append(single(wire, factors, mode))
        self.active[wire] = self.active[wire] or mode == ACTIVATE
        self.pending[wire] = []

    def activate(self, wire: int) -> None:
        self.flush(wire)
        if not self.active[wire]:
            self.steps.append(single(wire, (), ACTIVATE))
            self.active[wire] = True

    # -- two-qubit gates outside a run --------------------------------------------------
    def pair(self, op: Op) -> None:
        a, b = op.wires
        self.flush(a)
        self.flush(b)
        if op.gate == "CNOT":
            if not self.active[a]:  # control |0>: identity
                return
            self.activate(b)
        elif op.gate == "CZ":
            if not (self.active[a] and self.active[b]):
                return
        elif op.gate == "IsingZZ":
            if not (self.active[a] and self.active[b]):  # Z = +1 on an untouched wire: an RZ on the other
                self.pending[a if self.active[a] else b].append(("RZ", _param(op)))
                return
        else:  # IsingXX
            self.activate(a)
            self.activate(b)
        self.steps.append(Pair(op.gate, (a, b), _param(op)))

    # -- runs ---------------------------------------------------------------------------
    def extend_run(self, op: Op) -> bool:
        run = self.run
        if op.wires == (run.target,) and op.gate in _RUN_AXES and run.axis in (None, op.gate):
            run.axis = op.gate
            run.events.append(("rot", op.gate, _param(op), run.parity))
            return True
        if op.gate == "CNOT" and op.wires[1] == run.target:
            control = op.wires[0]
            if control not in run.controls:
                self.flush(control)  # commutes with the run so far: it never touched this wire
                if not self.active[control]:
                    return True  # control |0>: identity
                run.controls.add(control)
            run.events.append(("cnot", control))
            run.parity ^= 1 << control
            run.cnots += 1
            return True
        return False

    def close_run(self) -> None:
        run, self.run = self.run, None
        if run is None:
            return
        t = run.target
        if run.cnots < UNIFORM_MIN_CNOTS or run.axis is None:
            for event in run.events:  # replay gate by gate
                if event[0] == "cnot":
                    self.pair(Op("CNOT", (event[1], t)))
                else:
                    self.pending[t].append((event[1], event[2]))
            return
        terms = []
        while self.pending[t] and self.pending[t][-1][0] == run.axis:  # rotations before the run: v = 0
            terms.insert(0, (0, self.pending[t].pop()[1]))
        self.flush(t)
        controls = tuple(sorted(run.controls))
        bit = {w: 1 << (len(controls) - 1 - i) for i, w in enumerate(controls)}
        for _, _, param, v in (e for e in run.events if e[0] == "rot"):
            terms.append((sum(bit[w] for w in controls if v >> w & 1), param))
        activate = not self.active[t]
        self.steps.append(Uniform(run.axis, t, controls, tuple(terms), activate))
        if run.axis == "RY":
            self.active[t] = True
        for w in controls:  # the X's pushed to the end of the run
            if run.parity >> w & 1:
                self.pair(Op("CNOT", (w, t)))

    def add(self, op: Op) -> None:
        if self.run is not None:
            if self.extend_run(op):
                return
            if set(op.wires) & self.run.wires():
                self.close_run()
        if len(op.wires) == 1:
            self.pending[op.wires[0]].append((op.gate, _param(op)))
            return
        if op.gate != "CNOT":
            self.pair(op)  # commutes with an open run: disjoint wires
            return
        self.flush(op.wires[0])
        if not self.active[op.wires[0]]:
            return  # control |0>: identity
        self.close_run()  # one open run at a time; a disjoint one ends here
        self.run = _Run(target=op.wires[1])
        self.extend_run(op)

    def finish(self) -> None:
        self.close_run()
        for wire in range(len(self.pending)):
            self.flush(wire)


def _join(first: Local, second: Local) -> Local | None:
    """One :class:`Local` doing ``first`` then ``second``, if it acts on at most
    ``LOCAL_MAX_WIRES`` wires (on a shared wire, a phase step may be followed by any, a
    touched wire only by a ``keep`` step)."""
    per_wire = {w: (f, m) for w, f, m in zip(first.wires, first.factors, first.modes, strict=True)}
    for w, f, m in zip(second.wires, second.factors, second.modes, strict=True):
        if w in per_wire:
            before = per_wire[w][1]
            if (before == PHASE) == (m == KEEP):  # impossible orders: not joined
                return None
            per_wire[w] = (per_wire[w][0] + f, m if before == PHASE else before)
        else:
            per_wire[w] = (f, m)
    if len(per_wire) > LOCAL_MAX_WIRES:
        return None
    wires = tuple(sorted(per_wire))
    return Local(wires, tuple(per_wire[w][0] for w in wires), tuple(per_wire[w][1] for w in wires))


def _is_cnot(step: Step) -> bool:
    return isinstance(step, Pair) and step.gate == "CNOT"


def group_cnots(steps: list[Step]) -> list[Step]:
    """Re-order ``steps`` (a topological order of the per-wire chains) so that CNOTs come
    together: list scheduling that, once it has taken a CNOT, keeps taking ready CNOTs, and
    otherwise takes the earliest ready other step. Then merge adjacent single-qubit steps on
    one wire and turn each run of ``PERMUTE_MIN_CNOTS`` or more CNOTs into a :class:`Permute`."""
    waiting = [0] * len(steps)
    successors: list[list[int]] = [[] for _ in steps]
    last: dict[int, int] = {}
    for j, step in enumerate(steps):
        for w in step_wires(step):
            if w in last and j not in successors[last[w]]:
                successors[last[w]].append(j)
                waiting[j] += 1
            last[w] = j
    ready: dict[bool, list[int]] = {True: [], False: []}
    for j, step in enumerate(steps):
        if waiting[j] == 0:
            heapq.heappush(ready[_is_cnot(step)], j)
    order: list[Step] = []
    taking_cnots = False
    while ready[True] or ready[False]:
        kind = True if (taking_cnots and ready[True]) or not ready[False] else False
        j = heapq.heappop(ready[kind])
        taking_cnots = kind
        order.append(steps[j])
        for k in successors[j]:
            waiting[k] -= 1
            if waiting[k] == 0:
                heapq.heappush(ready[_is_cnot(steps[k])], k)
    merged: list[Step] = []
    for step in order:
        previous = merged[-1] if merged else None
        if isinstance(step, Local) and isinstance(previous, Local):
            joined = _join(previous, step)
            if joined is not None:
                merged[-1] = joined
                continue
        merged.append(step)
    grouped: list[Step] = []
    run: list[Pair] = []
    for step in merged + [None]:
        if step is not None and _is_cnot(step):
            run.append(step)
            continue
        if len(run) >= PERMUTE_MIN_CNOTS:
            grouped.append(Permute(tuple(p.wires for p in run)))
        else:
            grouped.extend(run)
        run = []
        if step is not None:
            grouped.append(step)
    return grouped


@lru_cache(maxsize=128)
def plan_circuit(circuit: Circuit) -> Plan:
    """The steps that simulate ``circuit`` (cached per circuit structure)."""
    planner = _Planner(circuit.n_qubits)
    for op in circuit.ops:
        planner.add(op)
    planner.finish()
    steps = group_cnots(planner.steps)
    return Plan(circuit.n_qubits, tuple(steps), tuple(planner.active), circuit.readout)
