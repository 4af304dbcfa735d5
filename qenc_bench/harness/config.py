"""What defines a comparison: :class:`CompareConfig`, stored in every result file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..attacks import AttackSetting
from ..errors import ConfigError
from ..training import TrainConfig

AUTO = "auto"
#: the classical reference rows every comparison shows unless told otherwise
DEFAULT_CLASSICAL = ("logistic", "svm")
#: backend options ``--backend auto`` passes to whichever engine it picks
AUTO_OPTIONS = ("shots",)


@dataclass(frozen=True)
class CompareConfig:
    """Everything that defines a comparison; stored in the result file.

    :param seeds: how many seeds, ``seed, seed + 1, ...``; each seed draws its own subsample,
        split and initial weights.
    :param classical: classical reference models (``qenc-bench list classical``) trained on the
        same grid features, splits and seeds; shown as marked rows.
    :param backend: the evaluation backend, or ``auto``: per circuit, the fastest installed engine
        that runs it (and its noise, and ``--shots``), by the backends' declared auto policies.
    :param train_backend: likewise for training; with the gradient-free COBYLA, ``auto`` trains
        where the model is evaluated.
    :param grid: images are resized to ``grid x grid``; ``"auto"`` is 3 for images and no
        resizing for tabular data; ``None`` keeps images at full size.
    :param noise: depolarizing levels p at which the trained model is also evaluated
        (convention in :mod:`qenc_bench.noise`).
    :param device_noise: device names (e.g. ``FakeFez``) whose noise model the trained model is
        also evaluated under, on the ``ibm`` backend.
    :param attacks: attacks (each with its eps values) on the test split's images.
    :param adversarial_training: train on a mix of clean and attacked samples (one eps).
    :param encoder_options: per encoder name, keyword options for its factory.
    :param backend_options: keyword options for the evaluation backend's factory (``device``,
        ``shots``, ...); the training backend gets them too when it is the same backend.
    :param classical_options: per classical model name, keyword options for its factory.
    :param metrics: encoding metrics computed per encoder and seed (``qenc-bench list metrics``;
        ``("all",)`` for every registered one); :param metric_options: per metric, factory options.
    :param cost_baseline: the encoder whose wall time every record's ``relative_cost`` divides
        by (the ATP paper's overhead is relative to angle encoding); ``None``: no ratio.
    """

    encoders: tuple[str, ...] = ("atp", "angle")
    dataset: str = "digits"
    classes: tuple[int, ...] = (0, 1)
    seeds: int = 3
    seed: int = 0
    grid: int | str | None = "auto"
    train_size: int = 400
    test_size: int = 200
    validation_size: int | None = None
    backend: str = AUTO
    backend_options: dict[str, Any] = field(default_factory=dict)
    train_backend: str = AUTO
    model: str = "readout"
    layers: int = 1
    noise: tuple[float, ...] = ()
    device_noise: tuple[str, ...] = ()
    attacks: tuple[AttackSetting, ...] = ()
    adversarial_training: AttackSetting | None = None
    adversarial_ratio: float = 0.5
    training: TrainConfig = field(default_factory=TrainConfig)
    encoder_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    classical: tuple[str, ...] = DEFAULT_CLASSICAL
    classical_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    cost_baseline: str | None = "angle"
    metrics: tuple[str, ...] = ()
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_dir: str | None = None
    disable_plugins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.encoders and not self.classical:
            raise ConfigError("give at least one encoder")
        for kind, names in (("an encoder", self.encoders), ("a classical model", self.classical)):
            if len(set(names)) != len(names):
                raise ConfigError(f"{kind} is listed twice: {','.join(names)}")
        clash = sorted(set(self.encoders) & set(self.classical))
        if clash:
            raise ConfigError(f"{clash[0]!r} is named both as an encoder and as a classical model")
        if self.seeds < 1:
            raise ConfigError(f"--seeds must be at least 1, got {self.seeds}")
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ConfigError(f"--classes needs two or more distinct classes, got {self.classes}")
        if len(self.classes) > 2 and (self.attacks or self.adversarial_training):
            raise ConfigError("attacks and adversarial training support two classes; drop --attack for one-vs-rest")
        if not 0.0 < self.adversarial_ratio <= 1.0:
            raise ConfigError(f"adversarial ratio must be in (0, 1], got {self.adversarial_ratio}")
        if self.adversarial_training is not None and len(self.adversarial_training.eps) != 1:
            raise ConfigError("adversarial training takes one eps, e.g. fgsm:0.1")
        labels = [label for setting in self.attacks for label in setting.labels()]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ConfigError(f"attack asked for twice: {', '.join(duplicates)}")
        stray = sorted(set(self.encoder_options) - set(self.encoders))
        if stray:
            raise ConfigError(f"options given for encoder(s) not compared: {', '.join(stray)}")
        if len(set(self.metrics)) != len(self.metrics):
            raise ConfigError(f"a metric is listed twice: {','.join(self.metrics)}")
        stray = sorted(set(self.classical_options) - set(self.classical))
        if stray:
            raise ConfigError(f"options given for classical model(s) not compared: {', '.join(stray)}")
        if self.backend == AUTO:
            other = sorted(set(self.backend_options) - set(AUTO_OPTIONS))
            if other:
                raise ConfigError(f"--backend auto picks a backend per circuit and passes it only "
                                  f"{', '.join(AUTO_OPTIONS)}; give {', '.join(other)} with a named --backend")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for name in ("encoders", "classes", "disable_plugins", "noise", "device_noise", "classical", "metrics"):
            d[name] = list(getattr(self, name))
        d["attacks"] = [a.to_dict() for a in self.attacks]
        if self.adversarial_training is not None:
            d["adversarial_training"] = self.adversarial_training.to_dict()
        d.pop("data_dir")  # a local path says nothing about the result
        return d
