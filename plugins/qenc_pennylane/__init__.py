"""The ``pennylane`` and ``lightning`` backend plugin. PennyLane is imported only when a backend
is built; the device table (:mod:`.capabilities`) reads installed devices from package metadata."""

from __future__ import annotations

from qenc_bench import AutoPolicy, BackendSpec, hookimpl

from .capabilities import CAPABILITIES, LIGHTNING_CAPABILITIES

#: auto gives lightning circuits from here on, where its adjoint method beats default.qubit's
#: backprop (measured crossover in docs/engines.md; the jax backend, tried first, is faster still)
LIGHTNING_AUTO_MIN_QUBITS = 12


def _build(**options):
    from .backend import PennyLaneBackend

    return PennyLaneBackend(**options)


def _build_lightning(**options):
    from .backend import LightningBackend

    return LightningBackend(**options)


@hookimpl
def qenc_bench_register_backends(register):
    register(
        BackendSpec(
            name="pennylane",
            factory=_build,
            description=(
                "PennyLane statevector on --device default.qubit (broadcasting, backprop; the default), "
                "lightning.qubit, lightning.kokkos or lightning.gpu (adjoint); noise on default.mixed up to 8 qubits"
            ),
            capabilities=CAPABILITIES,
            # default.mixed's noise is 30-40x slower than Aer's density matrices (docs/engines.md)
            auto=AutoPolicy(priority=40, noise=False),
            requires=("pennylane",),
        )
    )
    register(
        BackendSpec(
            name="lightning",
            factory=_build_lightning,
            description="PennyLane lightning.qubit (or --device lightning.kokkos|lightning.gpu), adjoint gradients; no noise",
            capabilities=LIGHTNING_CAPABILITIES,
            auto=AutoPolicy(priority=30, min_qubits=LIGHTNING_AUTO_MIN_QUBITS),
            requires=("pennylane_lightning",),
        )
    )
