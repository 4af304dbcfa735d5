"""Evaluating a trained model on the test split: every number a record holds, per sample.

:func:`evaluate` returns an :class:`Evaluation`: the predictions on the clean test split (and
their accuracy), each sample's readout entropy where the engine gives states, the predictions
under each depolarizing level and device noise model, and under each attack and eps. Attacks
perturb the test split's full-resolution images, the same for every encoder; an encoder that
reads the grid sees the attacked image through the grid map, and the input gradient flows
back through it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..attacks import AttackSetting, margin_gradient_fn
from ..circuit import Circuit
from ..encoders import Encoder
from ..noise import Depolarizing, DeviceNoise
from ..prepare import PreparedData
from .config import CompareConfig
from .engines import Engines
from .trainer import outputs_of, predictions


@dataclass(frozen=True)
class Evaluation:
    """What the trained model did on the test split.

    :param predictions: (N,) predicted labels on the clean test samples.
    :param entropies: (N,) readout entropy per sample (mean over the k models of one-vs-rest),
        ``None`` when the engine gives no states.
    :param noisy: label (``depolarizing:0.05``, ``device:FakeFez``) -> (N,) predictions.
    :param adversarial: label (``fgsm:0.3``) -> (N,) predictions on the attacked samples.
    :param engines: the registered name of the engine of each task.
    """

    predictions: np.ndarray
    labels: np.ndarray
    entropies: np.ndarray | None
    noisy: dict[str, np.ndarray]
    adversarial: dict[str, np.ndarray]
    attack_seconds: dict[str, float]
    attack_gradient: str | None
    engines: dict[str, str]
    measurement: str
    backend_info: dict[str, Any] = field(default_factory=dict)

    def accuracy_of(self, predicted: np.ndarray) -> float:
        return float(np.mean(predicted == self.labels))

    @property
    def accuracy(self) -> float:
        return self.accuracy_of(self.predictions)

    def samples(self, index: np.ndarray, split: str) -> dict[str, Any]:
        """The record's per-sample outcomes (see :class:`~qenc_bench.results.RunRecord`)."""
        out: dict[str, Any] = {"split": split, "index": np.asarray(index).tolist(), "label": self.labels.tolist(),
                               "prediction": self.predictions.tolist()}
        if self.entropies is not None:
            out["entropy"] = [float(v) for v in np.round(self.entropies, 10)]
        if self.noisy:
            out["noisy"] = {k: v.tolist() for k, v in self.noisy.items()}
        if self.adversarial:
            out["adversarial"] = {k: v.tolist() for k, v in self.adversarial.items()}
        return out


def evaluate(encoder: Encoder, circuit: Circuit, weights: np.ndarray, data: PreparedData, engines: Engines,
             config: CompareConfig, attacks: Mapping[AttackSetting, Any], seed: int,
             tags: Mapping[str, Any] | None = None) -> Evaluation:
    """Evaluate a trained model on the seed's test split (see the module docstring).

    :param tags: what the test evaluation is for, passed to the evaluation engine's
        :meth:`~qenc_bench.Backend.job_tags` (hardware backends log them beside the job id).
    """
    view = encoder.view
    test = data.view(view).test
    x_test, labels = encoder.transform(test.x), test.y
    engine = engines.evaluation(circuit)
    with engine.backend.job_tags(purpose="test", **(tags or {})):
        clean = predictions(outputs_of(engine, circuit, x_test, weights))
    used = {"evaluate": engine.name}
    entropies = None
    if engine.backend.capabilities.entropy:
        per_model = outputs_of(engine, circuit, x_test, weights,
                               lambda f, w: engine.backend.entropy(circuit, f, w, [circuit.readout]))
        entropies = per_model if per_model.ndim == 1 else per_model.mean(axis=1)
    noisy: dict[str, np.ndarray] = {}
    if config.noise:
        noise_engine = engines.noisy(circuit)
        used["noise"] = noise_engine.name
        for p in config.noise:
            level = Depolarizing(p)

            def noisy_values(f: np.ndarray, w: np.ndarray, level: Depolarizing = level) -> np.ndarray:
                return noise_engine.backend.noisy_expval(circuit, f, w, level)

            noisy[level.label] = predictions(outputs_of(noise_engine, circuit, x_test, weights, noisy_values))
    for device in config.device_noise:
        device_engine = engines.device(device)
        device_engine.backend.check(circuit)
        with device_engine.backend.job_tags(purpose="device noise", **(tags or {})):
            noisy[DeviceNoise(device).label] = predictions(outputs_of(device_engine, circuit, x_test, weights))
        used[f"noise {device}"] = device_engine.name
    adversarial, attack_seconds, gradient_method = {}, {}, None
    if config.attacks:
        attack_engine = engines.attack(circuit)
        used["attack"] = attack_engine.name
        gradient, method = margin_gradient_fn(encoder, circuit, attack_engine.backend, weights, labels)

        def image_gradient(images: np.ndarray) -> np.ndarray:
            return data.from_view(gradient(data.to_view(images, view)), view)

        images = data.test.images()
        for setting in config.attacks:
            attack = attacks[setting]
            for eps, label in zip(setting.eps, setting.labels(), strict=True):
                started = time.perf_counter()
                attacked = attack.perturb(images, image_gradient, eps, np.random.default_rng(seed))
                features = encoder.transform(data.to_view(attacked, view))
                adversarial[label] = predictions(outputs_of(engine, circuit, features, weights))
                attack_seconds[label] = time.perf_counter() - started
        gradient_method = f"{method} on {attack_engine.name}"
    return Evaluation(predictions=clean, labels=labels, entropies=entropies, noisy=noisy, adversarial=adversarial,
                      attack_seconds=attack_seconds, attack_gradient=gradient_method, engines=used,
                      measurement=engine.backend.measurement, backend_info=engine.backend.info())
