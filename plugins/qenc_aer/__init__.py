"""The ``aer`` backend plugin. Qiskit and Qiskit Aer are imported only when the backend is built."""

from __future__ import annotations

from qenc_bench import AutoPolicy, BackendSpec, hookimpl

from .capabilities import CAPABILITIES


def _build(**options):
    from .backend import AerBackend

    return AerBackend(**options)


@hookimpl
def qenc_bench_register_backends(register):
    register(
        BackendSpec(
            name="aer",
            factory=_build,
            description=(
                "Qiskit Aer EstimatorV2: statevector, one binding array per batch, parameter-shift "
                "gradients, depolarizing noise on density matrices, optional shots"
            ),
            capabilities=CAPABILITIES,
            # last: the statevector engines are faster; chosen for shots and density-matrix noise
            auto=AutoPolicy(priority=50),
            requires=("qiskit_aer",),
        )
    )
