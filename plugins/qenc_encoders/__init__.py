"""First-party encoders: angle, atp (Adaptive Threshold Pruning), amplitude, sqe, pca,
dense-angle and iqp."""

from __future__ import annotations

from qenc_bench import EncoderSpec, ReporterSpec, hookimpl

from .amplitude import AmplitudeEncoder
from .angle import AngleEncoder
from .atp import ATPEncoder
from .dense_angle import DenseAngleEncoder
from .iqp import IQPEncoder
from .pca import PCAEncoder
from .reporting import ATPReporter
from .sqe import SQEEncoder


@hookimpl
def qenc_bench_register_encoders(register):
    register(EncoderSpec(name="angle", factory=AngleEncoder, description="RX(pi x_j) on qubit j, one qubit per feature"))
    register(
        EncoderSpec(
            name="atp",
            factory=ATPEncoder,
            description="Adaptive Threshold Pruning: drop pixels dim in both class averages, then angle",
        )
    )
    register(
        EncoderSpec(
            name="amplitude",
            factory=AmplitudeEncoder,
            description="normalised features as amplitudes of ceil(log2 d) qubits: RY tree with CNOTs",
        )
    )
    register(
        EncoderSpec(
            name="sqe",
            factory=SQEEncoder,
            description="features in threes as RZ, RY, RZ (pi x) on one qubit each: ceil(d/3) qubits",
        )
    )
    register(
        EncoderSpec(
            name="pca",
            factory=PCAEncoder,
            description="the paper's PCA: k principal components of the full image, rescaled to [0, 1], "
                        "RX(pi z_j); k = the grid's feature count (angle's qubits) unless k is given",
        )
    )
    register(
        EncoderSpec(
            name="dense-angle",
            factory=DenseAngleEncoder,
            description="features in pairs as RY(pi a) then RZ(pi b) on one qubit each: ceil(d/2) qubits",
        )
    )
    register(
        EncoderSpec(
            name="iqp",
            factory=IQPEncoder,
            description="Qiskit ZZFeatureMap on pi x: reps of H, RZ, linear CNOT-RZ-CNOT; d qubits",
        )
    )


@hookimpl
def qenc_bench_register_reporters(register):
    register(ReporterSpec(name="atp", factory=ATPReporter,
                          description="ATP's chosen threshold in the notes; its threshold search as a plot"))
