"""Amplitude encoding: the L2-normalised feature vector as the amplitudes of m qubits.

A sample x (d features, non-negative) is zero-padded to 2^m entries, m = max(1, ceil(log2 d)),
and prepared as ``|psi> = sum_k x_k |k> / ||x||`` with wire 0 the most significant bit of k
(PennyLane's ordering). Because the amplitudes are real and non-negative, a binary tree of RY
rotations prepares the state exactly (Mottonen et al. 2005, without the RZ phase stage):

- node (l, p) of the tree is the prefix p of wires 0..l-1 (an l-bit integer, wire 0 its most
  significant bit); L and R are the norms of the amplitudes under it whose bit on wire l is
  0 and 1; its angle is ``theta_lp = 2 * arctan2(R, L)``, so RY(theta_lp) on wire l, given
  prefix p, splits the node's weight as L : R;
- the uniformly controlled RY on wire l (controls: wires 0..l-1) is decomposed into 2^l RY
  gates on wire l, each followed by a CNOT from a control: after the i-th RY, the control
  is the wire whose bit flips between Gray codes g(i) and g(i+1 mod 2^l), g(i) = i ^ (i >> 1);
  Gray-code bit j belongs to wire l-1-j. The RY angles are ``alpha = theta @ M / 2^l`` with
  ``M[p, i] = (-1)^popcount(p & g(i))``, which inverts ``theta_p = sum_i M[p, i] alpha_i``.

The feature matrix is the alpha of every level, level 0 first: 2^m - 1 columns.
The circuit has 2^m - 1 RY and 2^m - 2 CNOT gates.

Zero amplitudes: where a node has L = R = 0, ``arctan2(0, 0) = 0``; an all-zero sample is
therefore encoded as |0...0>. The angles are smooth functions of x wherever every subtree
norm is positive. Where a norm is zero (dark pixels are common) the norm is not
differentiable; :meth:`AmplitudeEncoder.input_vjp` then uses the one-sided partial
derivative in the direction of increasing pixel (the only direction that stays in [0, 1]),
``d||x_S|| / dx_k = 1``, and treats a node with L = R = 0, whose angle jumps, as having zero
derivative.
"""

from __future__ import annotations

import numpy as np

from qenc_bench import Encoder, FitContext, Op, Split


def gray_code(i: np.ndarray | int):
    return i ^ (i >> 1)


def uniform_rotation_matrix(n_controls: int) -> np.ndarray:
    """``M[p, i] = (-1)^popcount(p & g(i))``: theta = M @ alpha for one uniformly controlled RY."""
    size = 2**n_controls
    overlap = np.arange(size)[:, None] & gray_code(np.arange(size))[None, :]
    parity = np.zeros_like(overlap)
    for bit in range(n_controls):
        parity ^= (overlap >> bit) & 1
    return 1.0 - 2.0 * parity


def uniform_rotation_ops(target: int, column: int) -> list[Op]:
    """RY + CNOT sequence of the uniformly controlled RY on ``target`` with controls on wires
    ``0 .. target - 1``, reading columns ``column .. column + 2^target - 1``."""
    size = 2**target
    ops: list[Op] = []
    for i in range(size):
        ops.append(Op("RY", (target,), "feature", column + i))
        if target == 0:
            break
        flipped = gray_code(i) ^ gray_code((i + 1) % size)
        bit = int(flipped).bit_length() - 1
        ops.append(Op("CNOT", (target - 1 - bit, target)))
    return ops


class AmplitudeEncoder(Encoder):
    """The normalised, zero-padded feature vector as amplitudes of m = max(1, ceil(log2 d))
    qubits, prepared by a tree of uniformly controlled RY rotations (see the module docstring)."""

    name = "amplitude"

    def fit(self, train: Split, validation: Split, context: FitContext | None = None) -> AmplitudeEncoder:
        self.n_features_in_ = train.x.shape[1]
        if self.n_features_in_ < 1:
            raise ValueError("amplitude encoding needs at least one feature")
        self.n_qubits = max(1, int(np.ceil(np.log2(self.n_features_in_))))
        self.mixers_ = [uniform_rotation_matrix(level) / 2**level for level in range(self.n_qubits)]
        return self

    def feature_map(self) -> tuple[Op, ...]:
        ops: list[Op] = []
        for level in range(self.n_qubits):
            ops += uniform_rotation_ops(level, 2**level - 1)
        return tuple(ops)

    def _padded(self, x: np.ndarray) -> np.ndarray:
        padded = np.zeros((len(x), 2**self.n_qubits))
        padded[:, : self.n_features_in_] = x
        return padded

    def _subtree_norms(self, padded: np.ndarray, level: int) -> np.ndarray:
        """(N, 2^level, 2): the norms L (index 0) and R (index 1) of every node of ``level``."""
        blocks = padded.reshape(len(padded), 2**level, 2, -1)
        return np.sqrt(np.sum(blocks**2, axis=-1))

    def transform(self, x: np.ndarray) -> np.ndarray:
        padded = self._padded(x)
        columns = []
        for level, mixer in enumerate(self.mixers_):
            norms = self._subtree_norms(padded, level)
            theta = 2.0 * np.arctan2(norms[..., 1], norms[..., 0])
            columns.append(theta @ mixer)
        return np.concatenate(columns, axis=1)

    def input_vjp(self, x: np.ndarray, grad_parameters: np.ndarray) -> np.ndarray:
        padded = self._padded(x)
        n = len(padded)
        grad = np.zeros_like(padded)
        for level, mixer in enumerate(self.mixers_):
            g_theta = grad_parameters[:, 2**level - 1 : 2 ** (level + 1) - 1] @ mixer.T
            norms = self._subtree_norms(padded, level)
            left, right = norms[..., 0], norms[..., 1]
            total = left**2 + right**2
            scale = np.divide(2.0 * g_theta, total, out=np.zeros_like(total), where=total > 0)
            g_norms = np.stack([-right * scale, left * scale], axis=-1)  # d theta / d(L, R)
            blocks = padded.reshape(n, 2**level, 2, -1)
            safe = np.where(norms > 0, norms, 1.0)[..., None]
            d_norm = np.where(norms[..., None] > 0, blocks / safe, 1.0)  # one-sided at a zero norm
            grad += (g_norms[..., None] * d_norm).reshape(n, -1)
        return grad[:, : self.n_features_in_]

    def info(self) -> dict:
        return {
            "features": int(self.n_features_in_),
            "amplitudes": 2**self.n_qubits,
            "zero_sample": "encoded as |0...0>",
        }
