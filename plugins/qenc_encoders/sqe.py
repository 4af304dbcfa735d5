"""Single-qubit encoding (SQE): three features per qubit as Z-Y-Z Euler rotations.

Group q = (a, b, c) = (x_3q, x_3q+1, x_3q+2) acts on qubit q as, in time order, H, then
RZ(pi a), RY(pi b), RZ(pi c): the state ``RZ(pi c) RY(pi b) RZ(pi a) H |0>`` (ceil(d / 3)
qubits; the last group zero-padded).

Why the H: started from |0>, an eigenstate of Z, the first RZ changes only the global phase,
so a third of the features (x_0, x_3, x_6, ...) would never reach the model. Starting from
|+> = H|0> every Euler angle acts. This is our choice where the ATP paper states only the
RZ-RY-RZ order; it is recorded in ``info()``.
"""

from __future__ import annotations

from .rotation_groups import RotationGroupEncoder


class SQEEncoder(RotationGroupEncoder):
    """H, then RZ(pi a), RY(pi b), RZ(pi c) on one qubit per group of three features."""

    name = "sqe"
    prepare = ("H",)
    gates = ("RZ", "RY", "RZ")
