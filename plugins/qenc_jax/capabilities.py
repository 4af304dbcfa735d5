"""What the ``jax`` backend can do and how it sizes its work, declared without importing JAX
(the plugin's registration and the backend both read it)."""

from __future__ import annotations

import math

from qenc_bench import Capabilities

DEVICES = ("cpu", "gpu")
#: the working set of one sample must fit here (and with it a batch, which runs in chunks)
MEMORY_BUDGET_BYTES = 2 * 2**30
#: complex128 statevectors in flight per sample at the peak of a gradient: the state and its
#: adjoint, the step's outputs for both, and one more for a reduction or a transposition
STATES_PER_SAMPLE = 6
MAX_QUBITS = int(math.log2(MEMORY_BUDGET_BYTES / (STATES_PER_SAMPLE * 16)))
#: amplitudes of a chunk of rows: 2^15 complex128 (512 KiB per state) keep the few states a
#: step reads and writes in a core's L2 cache
CHUNK_AMPLITUDES = 2**15
MAX_CHUNK_ROWS = 256
CAPABILITIES = Capabilities(
    gradients=True, input_gradients=True, noise=False, entropy=True, shots=False, max_qubits=MAX_QUBITS,
    states=True, row_weights=True,
)


def chunk_rows(n_qubits: int) -> int:
    """Rows per compiled call: a power of two, ``CHUNK_AMPLITUDES / 2^n`` clamped to 1..256."""
    return max(1, min(MAX_CHUNK_ROWS, CHUNK_AMPLITUDES >> n_qubits))
