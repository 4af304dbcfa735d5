"""The ``ibm`` backend plugin: IBM Quantum devices through Qiskit IBM Runtime, and their fake
(offline) counterparts through Aer with the device's noise model.

qiskit-ibm-runtime is imported only when the backend is built (:mod:`.backend`), so listing
plugins stays fast and works without it.
"""

from __future__ import annotations

from qenc_bench import BackendSpec, Capabilities, hookimpl

#: what every device gives: shot estimates of expectation values under the device's own
#: noise. ``noise=False`` here means "cannot apply the depolarizing levels of ``--noise``"
#: (the device's noise is always on), so the harness refuses ``--noise`` before training.
#: ``max_qubits`` is FakeSherbrooke's; a built backend reports its own device's count.
CAPABILITIES = Capabilities(
    gradients=False, input_gradients=False, noise=False, entropy=False, shots=True, max_qubits=127
)


def _build(**options):
    try:
        import qiskit_ibm_runtime  # noqa: F401
    except ImportError:
        from qenc_bench.errors import MissingDependencyError

        raise MissingDependencyError(
            "qiskit-ibm-runtime", "the ibm backend", "pip install 'qiskit-ibm-runtime>=0.30,<1'"
        ) from None
    from .backend import IBMBackend

    return IBMBackend(**options)


@hookimpl
def qenc_bench_register_backends(register):
    register(
        BackendSpec(
            name="ibm",
            factory=_build,
            description=(
                "IBM Quantum devices via Qiskit Runtime (EstimatorV2 in a Batch), or fake devices "
                "offline (--device FakeSherbrooke) with their noise model; device noise always on, "
                "shot estimates, no gradients (train with --optimizer cobyla or on exact)"
            ),
            capabilities=CAPABILITIES,
        )
    )
