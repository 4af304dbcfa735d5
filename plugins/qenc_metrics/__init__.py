"""Encoding metrics beyond accuracy: expressibility over the data distribution, entangling
capability (Meyer-Wallach), kernel-target alignment and trainability (gradient variance), and
a reporter that plots accuracy against them (docs/metrics.md)."""

from __future__ import annotations

from qenc_bench import MetricSpec, ReporterSpec, hookimpl

from .metrics import EntanglingCapability, Expressibility, KernelAlignment, Trainability
from .reporting import EncodingMetricsReporter

__all__ = ["EncodingMetricsReporter", "EntanglingCapability", "Expressibility", "KernelAlignment", "Trainability"]


@hookimpl
def qenc_bench_register_metrics(register):
    register(MetricSpec(name="expressibility", factory=Expressibility,
                        description="KL (nats) of the training data's pair-fidelity histogram from Haar; "
                                    "options pairs=2000, bins=75"))
    register(MetricSpec(name="entangling", factory=EntanglingCapability,
                        description="Meyer-Wallach Q of the feature-map state, mean over test samples; "
                                    "option max_samples=500"))
    register(MetricSpec(name="alignment", factory=KernelAlignment,
                        description="kernel-target alignment of the fidelity kernel on the training split; "
                                    "option max_samples=500"))
    register(MetricSpec(name="trainability", factory=Trainability,
                        description="variance over initialisations of the mean hinge loss gradient, mean over "
                                    "parameters; options initialisations=50, batch=32"))


@hookimpl
def qenc_bench_register_reporters(register):
    register(ReporterSpec(name="encoding-metrics", factory=EncodingMetricsReporter,
                          description="HTML plots of accuracy against kernel alignment and expressibility"))
