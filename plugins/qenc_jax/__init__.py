"""The ``jax`` backend plugin: a compiled, batched statevector engine for any circuit.

JAX is imported only when the backend is built (listing plugins imports nothing heavy). How
it works, its memory bound and its measured speed: docs/engines.md.
"""

from __future__ import annotations

from qenc_bench import AutoPolicy, BackendSpec, MissingDependencyError, hookimpl

from .capabilities import CAPABILITIES

#: auto gives the jax backend circuits up to here (``None``: all it runs); measured against
#: lightning's adjoint method in docs/engines.md
AUTO_MAX_QUBITS: int | None = None


def _build(**options):
    try:
        from .backend import JaxBackend
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] in ("jax", "jaxlib"):
            raise MissingDependencyError("jax", "the jax backend", 'pip install "qenc-bench[jax]"') from None
        raise
    return JaxBackend(**options)


@hookimpl
def qenc_bench_register_backends(register):
    register(
        BackendSpec(
            name="jax",
            factory=_build,
            description="JAX/XLA batched statevector, compiled once per circuit; adjoint gradients; --device cpu|gpu",
            capabilities=CAPABILITIES,
            requires=("jax",),
            auto=AutoPolicy(priority=20, max_qubits=AUTO_MAX_QUBITS),
        )
    )
