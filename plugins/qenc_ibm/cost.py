"""What hardware work costs, before it runs: jobs, circuits, shots and device seconds.

IBM Quantum bills the time a QPU is locked for a job (batch and job mode; a session bills its
wall time). A QPU runs a job's circuits shot by shot, each shot followed by the device's
repetition delay (``default_rep_delay``, 250 us on current Heron and Eagle devices), so
device time is close to::

    shots in all x (rep_delay + readout + circuit duration) + a few seconds per job

The circuit duration comes from the transpiled circuit and the device's gate durations; before
a circuit is transpiled it is guessed at :data:`LAYERS_PER_QUBIT` two-qubit layers per qubit
(within 20 % of the readout model transpiled for FakeFez and FakeSherbrooke at 4 to 17
qubits). The per-job overhead is an assumption (:data:`JOB_OVERHEAD_SECONDS`). ZNE
(resilience level 2) runs each circuit at 3 noise levels; TREX's readout calibration (level 1)
and PEC add shots that are not counted.
"""

from __future__ import annotations

import statistics
from typing import Any

from qenc_bench import CostEstimate, Workload

from .options import IBMSettings

#: device seconds assumed per job beyond its shots (loading, compilation)
JOB_OVERHEAD_SECONDS = 2.0
#: two-qubit layers per qubit assumed before the circuit is transpiled
LAYERS_PER_QUBIT = 10
#: repetition delay assumed when the device does not say
DEFAULT_REP_DELAY = 250e-6


def _durations(target: Any, names: tuple[str, ...]) -> float | None:
    for name in names:
        if name in target.operation_names:
            values = [p.duration for p in target[name].values() if p is not None and p.duration]
            if values:
                return float(statistics.median(values))
    return None


def shot_seconds(device: Any, circuit_seconds: float | None, max_qubits: int) -> tuple[float, str]:
    """Device seconds per shot of a circuit, and how that was worked out (one phrase)."""
    rep_delay = getattr(device, "default_rep_delay", None) or DEFAULT_REP_DELAY
    target = device.target
    readout = _durations(target, ("measure",)) or 0.0
    if circuit_seconds is None:
        two = _durations(target, ("cz", "ecr", "cx")) or 0.0
        one = _durations(target, ("sx", "x")) or 0.0
        circuit_seconds, how = LAYERS_PER_QUBIT * max_qubits * (two + one), "guessed"
    else:
        how = "transpiled"
    total = rep_delay + readout + circuit_seconds
    return total, (f"{total * 1e6:.0f} us per shot: rep_delay {rep_delay * 1e6:.0f} us + readout "
                   f"{readout * 1e6:.1f} us + circuit {circuit_seconds * 1e6:.1f} us ({how})")


def mitigation_phrase(settings: IBMSettings) -> str:
    level = settings.resilience
    phrase = f"resilience_level {level}"
    if settings.zne_factor() > 1:
        phrase += f", ZNE x{settings.zne_factor()} counted"
    if level >= 1 or settings.estimator_options.get("resilience", {}).get("measure_mitigation"):
        phrase += ", TREX calibration shots not counted"
    if settings.estimator_options.get("resilience", {}).get("pec_mitigation"):
        phrase += ", PEC sampling overhead not counted"
    return phrase


def estimate(settings: IBMSettings, device: Any, workload: Workload, *, circuit_seconds: float | None = None,
             remaining: float | None = None) -> CostEstimate:
    """The cost of ``workload`` on the device.

    :param circuit_seconds: the longest transpiled circuit seen so far (``None``: guessed).
    :param remaining: device seconds the instance has left, when the service says.
    """
    shots_each = (settings.shots_used or 0) * settings.zne_factor()
    shots = workload.circuits * shots_each
    per_shot, how = shot_seconds(device, circuit_seconds, workload.max_qubits)
    seconds = shots * per_shot + workload.calls * JOB_OVERHEAD_SECONDS
    purposes = ", ".join(f"{purpose} {calls}" for purpose, calls in sorted(workload.purposes.items()))
    detail = (f"{settings.device}, {settings.mode} mode: {CostEstimate.count(workload.circuits, 'circuit')} x {shots_each} shots "
              f"in {CostEstimate.count(workload.calls, 'job')}{f' ({purposes})' if purposes else ''}; {how} + "
              f"{JOB_OVERHEAD_SECONDS:g} s per job; {mitigation_phrase(settings)}")
    if remaining is not None:
        detail += f"; the instance has {CostEstimate.duration(remaining)} left"
    return CostEstimate(jobs=workload.calls, circuits=workload.circuits, shots=shots, seconds=seconds, detail=detail)


def format_estimate(cost: CostEstimate, *, detail: bool = True) -> str:
    """One line for a user about to submit: ``6 jobs, 1,200 circuits, 4,800,000 shots, about
    22 min of device time (...)``."""
    time = "unknown device time" if cost.seconds is None else f"about {CostEstimate.duration(cost.seconds)} of device time"
    line = f"{CostEstimate.count(cost.jobs, 'job')}, {CostEstimate.count(cost.circuits, 'circuit')}, {CostEstimate.count(cost.shots, 'shot')}, {time}"
    return f"{line} ({cost.detail})" if detail and cost.detail else line
