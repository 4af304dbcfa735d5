"""Dense angle encoding (LaRose and Coyle 2020): two features per qubit.

Pair q = (a, b) = (x_2q, x_2q+1) acts on qubit q as RY(pi a), then RZ(pi b) (time order): the
state ``RZ(pi b) RY(pi a) |0> = e^{-i pi b / 2} (cos(pi a / 2) |0> + e^{i pi b} sin(pi a / 2) |1>)``.
ceil(d / 2) qubits; with d odd the last pair is zero-padded.
"""

from __future__ import annotations

from .rotation_groups import RotationGroupEncoder


class DenseAngleEncoder(RotationGroupEncoder):
    """RY(pi a) then RZ(pi b) on one qubit per pair of features."""

    name = "dense-angle"
    gates = ("RY", "RZ")
