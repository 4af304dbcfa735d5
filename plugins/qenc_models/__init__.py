"""First-party models: the paper's ``readout`` QNN (default), a hardware-efficient ansatz
(``hea``) and a data re-uploading model (``reuploading``)."""

from __future__ import annotations

from dataclasses import dataclass

from qenc_bench import Circuit, Encoder, Model, ModelSpec, Op, ReadoutModel, hookimpl, weight_op


def _rotation_ring(n: int, base: int) -> list[Op]:
    """RY(w) RZ(w) on every qubit, then a ring of CNOTs (i -> i+1 mod n)."""
    ops = [weight_op("RY", (j,), base + j) for j in range(n)]
    ops += [weight_op("RZ", (j,), base + n + j) for j in range(n)]
    if n == 2:
        ops.append(Op("CNOT", (0, 1)))
    elif n > 2:
        ops += [Op("CNOT", (j, (j + 1) % n)) for j in range(n)]
    return ops


def _circuit(encoder: Encoder, ops: list[Op], n_weights: int, name: str, layers: int) -> Circuit:
    n_features = max((op.index + 1 for op in ops if op.source == "feature"), default=0)
    return Circuit(n_qubits=encoder.n_qubits, ops=tuple(ops), n_features=n_features, n_weights=n_weights,
                   readout=0, family=name, meta={"model": name, "layers": layers})


@dataclass(frozen=True)
class HardwareEfficientModel(Model):
    """Feature map, then ``layers`` x (RY(w), RZ(w) on every qubit; CNOT ring); output <Z_0>.
    No extra qubit; 2 n layers weights."""

    layers: int = 2
    name: str = "hea"

    def build(self, encoder: Encoder) -> Circuit:
        n = encoder.n_qubits
        ops = list(encoder.feature_map())
        for layer in range(self.layers):
            ops += _rotation_ring(n, 2 * n * layer)
        return _circuit(encoder, ops, 2 * n * self.layers, self.name, self.layers)


@dataclass(frozen=True)
class ReuploadingModel(Model):
    """Data re-uploading (Pérez-Salinas et al. 2020): ``layers`` x (feature map; RY(w), RZ(w)
    on every qubit; CNOT ring); output <Z_0>. 2 n layers weights."""

    layers: int = 2
    name: str = "reuploading"

    def build(self, encoder: Encoder) -> Circuit:
        n = encoder.n_qubits
        ops: list[Op] = []
        for layer in range(self.layers):
            ops += encoder.feature_map()
            ops += _rotation_ring(n, 2 * n * layer)
        return _circuit(encoder, ops, 2 * n * self.layers, self.name, self.layers)


@hookimpl
def qenc_bench_register_models(register):
    register(ModelSpec(name="readout", factory=ReadoutModel,
                       description="the paper's QNN: readout qubit in |->, XX then ZZ couplings to every data qubit"))
    register(ModelSpec(name="hea", factory=HardwareEfficientModel,
                       description="hardware-efficient ansatz: RY/RZ layers and a CNOT ring, <Z_0>"))
    register(ModelSpec(name="reuploading", factory=ReuploadingModel,
                       description="data re-uploading: the feature map repeated before every RY/RZ + CNOT-ring layer"))
