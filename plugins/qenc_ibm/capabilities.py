"""What the ``ibm`` backend can do and which runtime it needs, declared without importing
qiskit-ibm-runtime (the plugin's registration, the backend and the ``ibm-jobs`` command read it)."""

from __future__ import annotations

import re

from qenc_bench import Capabilities, MissingDependencyError

#: what every device gives: shot estimates of expectation values under the device's own
#: noise. ``noise=False`` here means "cannot apply the depolarizing levels of ``--noise``"
#: (the device's noise is always on), so the harness refuses ``--noise`` before training.
#: ``max_qubits`` is FakeFez's (156); a built backend reports its own device's count.
#: ``remote_jobs``: the harness hands the factory a ``job_journal``, asks for an estimate
#: before any work and closes the backend when the run ends.
CAPABILITIES = Capabilities(
    gradients=False, input_gradients=False, noise=False, entropy=False, shots=True, max_qubits=156, remote_jobs=True
)
INSTALL = 'pip install "qenc-bench[ibm]"'
#: the first release with the ``ibm_quantum_platform`` channel and working instance lookup
MIN_RUNTIME = (0, 40, 1)


def require_runtime(needed_for: str) -> None:
    """Raise a one-line :class:`~qenc_bench.MissingDependencyError` unless a usable
    qiskit-ibm-runtime is installed."""
    try:
        import qiskit_ibm_runtime
    except ImportError:
        raise MissingDependencyError("qiskit-ibm-runtime", needed_for, INSTALL) from None
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", getattr(qiskit_ibm_runtime, "__version__", ""))
    version = tuple(int(part or 0) for part in found.groups()) if found else (0, 0, 0)
    if version < MIN_RUNTIME:
        raise MissingDependencyError(
            f"qiskit-ibm-runtime {'.'.join(map(str, MIN_RUNTIME))} or later (installed: "
            f"{qiskit_ibm_runtime.__version__})", needed_for, INSTALL)


