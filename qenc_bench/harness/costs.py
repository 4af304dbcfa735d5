"""What a comparison will ask of backends that run remote jobs (hardware), known before any
work: a :class:`~qenc_bench.Workload` per such backend, which the backend turns into a
:class:`~qenc_bench.CostEstimate`. Encoders that search (ATP) train more than once; the
workload counts one training per model and says so."""

from __future__ import annotations

from ..backends import CostEstimate, Workload
from .config import AUTO
from .engines import DEVICE_BACKEND, Engines
from .runner import Plan

SEARCH_NOTE = "one training per model and restart (an encoder that searches, like ATP, trains more)"


def workloads(plan: Plan) -> dict[str, Workload]:
    """Per remote backend (``ibm``, ``ibm:FakeFez`` for a device noise model), its workload."""
    c = plan.config
    quantum = len(c.encoders) * c.seeds * (1 if len(c.classes) == 2 else len(c.classes))
    test, train, validation = plan.first.sizes()["test"], plan.first.sizes()["train"], plan.first.sizes()["validation"]
    qubits = plan.first.n_features + 1
    out: dict[str, Workload] = {}
    evaluator = c.backend if c.backend != AUTO else None
    if evaluator is not None and plan.backends[evaluator].capabilities.remote_jobs:
        purposes = {"test": quantum}
        calls, circuits = quantum, quantum * test
        trains_there = c.training.optimizer == "cobyla" and c.train_backend in (AUTO, evaluator)
        if trains_there:
            per_model = c.training.restarts * (c.training.max_iterations + 1)
            purposes["training"] = quantum * per_model
            calls += quantum * per_model
            circuits += quantum * c.training.restarts * (c.training.max_iterations * train + validation)
        out[evaluator] = Workload(calls=calls, circuits=circuits, max_qubits=qubits, purposes=purposes)
    for device in c.device_noise:
        out[f"{DEVICE_BACKEND}:{device}"] = Workload(calls=quantum, circuits=quantum * test, max_qubits=qubits,
                                                     purposes={"device noise": quantum})
    return out


def estimates(plan: Plan, engines: Engines) -> list[tuple[str, CostEstimate]]:
    """The cost of each remote backend's workload (backends are built, nothing is submitted)."""
    out = []
    for name, workload in workloads(plan).items():
        backend = engines.device(name.partition(":")[2]).backend if ":" in name else engines.build(name)
        estimate = backend.estimate(workload)
        if estimate is not None:
            out.append((name, estimate))
    return out


def describe(name: str, estimate: CostEstimate) -> str:
    seconds = "" if estimate.seconds is None else f", about {CostEstimate.duration(estimate.seconds)} of device time"
    detail = f" ({estimate.detail})" if estimate.detail else ""
    return (f"{name}: {CostEstimate.count(estimate.jobs, 'job')}, {CostEstimate.count(estimate.circuits, 'circuit')}, "
            f"{CostEstimate.count(estimate.shots, 'shot')}{seconds}{detail}; counted {SEARCH_NOTE}")


