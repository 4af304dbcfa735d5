"""What the ``aer`` backend can do, declared without importing Qiskit (the plugin's
registration and the backend both read it)."""

from __future__ import annotations

from qenc_bench import Capabilities

#: statevector limit; noisy runs use density matrices and stop at ``NOISY_MAX_QUBITS``
CAPABILITIES = Capabilities(
    gradients=True, input_gradients=True, noise=True, entropy=True, shots=True, max_qubits=24, states=True
)
#: density matrices hold 4^n amplitudes: 4^13 complex128 is 1 GiB per sample in flight
NOISY_MAX_QUBITS = 13
