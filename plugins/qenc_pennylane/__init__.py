"""The ``pennylane`` backend plugin. PennyLane is imported only when the backend is built."""

from __future__ import annotations

from qenc_bench import BackendSpec, Capabilities, hookimpl

CAPABILITIES = Capabilities(
    gradients=True, input_gradients=True, noise=True, entropy=True, shots=False, max_qubits=20
)


def _build(**options):
    from .backend import PennyLaneBackend

    return PennyLaneBackend(**options)


@hookimpl
def qenc_bench_register_backends(register):
    register(
        BackendSpec(
            name="pennylane",
            factory=_build,
            description="PennyLane statevector (default.qubit: broadcasting, backprop); noise on default.mixed up to 8 qubits",
            capabilities=CAPABILITIES,
        )
    )
