"""First-party encoders: ``angle`` and ``atp`` (Adaptive Threshold Pruning)."""

from __future__ import annotations

from qenc_bench import EncoderSpec, hookimpl

from .angle import AngleEncoder
from .atp import ATPEncoder


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
