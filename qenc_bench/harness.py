"""The comparison harness: every encoder x seed trained and evaluated under one budget.

:func:`compare` is what ``qenc-bench compare`` calls; a notebook can call it directly.
Every component is resolved through the plugin registry before any work starts, so a
misspelt name fails at once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from .attacks import AttackSetting, margin_gradient_fn
from .backends import Backend
from .circuit import Circuit
from .prepare import PreparedData, prepare
from .datasets import resolve_data_dir
from .encoders import Encoder, FitContext, TrainingPlan
from .errors import ConfigError, IncompatibleComponentsError, UnknownComponentError
from .metrics import accuracy
from .model import Model
from .noise import Depolarizing, DeviceNoise
from .plugins import Registry, load_registry
from .records import BenchmarkResult, RunRecord, environment
from .training import TrainConfig, TrainResult, train

AUTO = "auto"
FAST_TRAIN_BACKEND = "exact"
#: ``--backend auto`` evaluates on the first of these that runs the circuit (and its noise)
AUTO_EVALUATORS = ("exact", "aer", "pennylane")
#: ``--train-backend auto`` trains circuits outside the exact family here under ``--backend auto``
AUTO_TRAIN_FALLBACK = "pennylane"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CompareConfig:
    """Everything that defines a comparison; stored in the result file.

    :param seeds: how many seeds, ``seed, seed + 1, ...``; each seed draws its own subsample,
        split and initial weights.
    :param train_backend: ``"auto"`` trains on the ``exact`` backend when the circuit is in
        its family, else on ``backend``; with the gradient-free COBYLA optimizer, on ``backend``.
    :param grid: images are resized to ``grid x grid``; ``"auto"`` is 3 for images and no
        resizing for tabular data; ``None`` keeps images at full size.
    :param noise: depolarizing levels p at which the trained model is also evaluated
        (convention in :mod:`qenc_bench.noise`).
    :param device_noise: device names (e.g. ``FakeSherbrooke``) whose noise model the trained
        model is also evaluated under, on the ``ibm`` backend (transpiled, sampled with shots).
    :param attacks: attacks (each with its eps values) run on the test split of every trained
        model; adversarial accuracy is stored per attack and eps.
    :param adversarial_training: train on a mix of clean and attacked samples (one eps); a
        fraction ``adversarial_ratio`` of every minibatch is replaced by its attacked version,
        computed against the current weights.
    :param encoder_options: per encoder name, keyword options for its factory.
    :param backend_options: keyword options for the evaluation backend's factory (``device``,
        ``shots``, ...); the training backend gets them too when it is the same backend.
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
    data_dir: str | None = None
    disable_plugins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.encoders:
            raise ConfigError("give at least one encoder")
        if len(set(self.encoders)) != len(self.encoders):
            raise ConfigError(f"an encoder is listed twice: {','.join(self.encoders)}")
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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["encoders"] = list(self.encoders)
        d["classes"] = list(self.classes)
        d["disable_plugins"] = list(self.disable_plugins)
        d["noise"] = list(self.noise)
        d["device_noise"] = list(self.device_noise)
        d["attacks"] = [a.to_dict() for a in self.attacks]
        if self.adversarial_training is not None:
            d["adversarial_training"] = self.adversarial_training.to_dict()
        d.pop("data_dir")  # a local path says nothing about the result
        return d


def model_outputs(backend: Backend, circuit: Circuit, features: np.ndarray, weights: np.ndarray,
                  evaluate=None) -> np.ndarray:
    """Outputs (N,) of a binary model, or (N, k) of a one-vs-rest model (weights (k, W)).
    ``evaluate(features, weights)`` defaults to ``backend.expval``."""
    evaluate = evaluate or (lambda f, w: backend.expval(circuit, f, w))
    weights = np.asarray(weights)
    if weights.ndim == 1:
        return evaluate(features, weights)
    return np.stack([evaluate(features, w) for w in weights], axis=1)


def predict_accuracy(outputs: np.ndarray, labels: np.ndarray) -> float:
    """Binary: sign of the output; one-vs-rest: the class whose model outputs the most."""
    if outputs.ndim == 1:
        return accuracy(outputs, labels)
    return float(np.mean(np.argmax(outputs, axis=1) == labels))


class _Trainer:
    """Trains the model for a fitted encoder; caches by (circuit, data) so ATP's chosen
    candidate is not trained twice (its training is counted in ATP's fit time)."""

    def __init__(self, model: Model, data: PreparedData, backends: dict[str, Backend],
                 config: CompareConfig, seed: int, attacks: dict | None = None):
        self.model, self.data, self.backends, self.config, self.seed = model, data, backends, config, seed
        self.attacks = attacks or {}
        self._cache: dict[tuple, tuple[TrainResult, str]] = {}

    def train_backend(self, circuit: Circuit) -> Backend:
        name = self.config.train_backend
        gradient_free = self.config.training.optimizer == "cobyla"
        if name == AUTO and gradient_free:  # COBYLA trains where the model runs (hardware, as the paper)
            name = self.config.backend
        if name == AUTO and gradient_free:  # --backend auto with COBYLA: where the model is evaluated
            return self.evaluator(circuit)
        if name == AUTO:
            fast = self.backends.get(FAST_TRAIN_BACKEND)
            if fast is not None:
                try:
                    fast.check(circuit)
                    return fast
                except IncompatibleComponentsError:
                    pass
            name = self.config.backend if self.config.backend != AUTO else AUTO_TRAIN_FALLBACK
        backend = self.backends[name]
        if not backend.capabilities.gradients and not gradient_free:
            raise IncompatibleComponentsError(
                f"backend {name!r} has no gradients to train with; pass --train-backend exact or pennylane"
            )
        backend.check(circuit)
        return backend

    def evaluator(self, circuit: Circuit) -> Backend:
        """The backend that evaluates this circuit: ``--backend``, or under ``auto`` the first of
        :data:`AUTO_EVALUATORS` that runs it (and its noise). Refuses before any training."""
        names = AUTO_EVALUATORS if self.config.backend == AUTO else (self.config.backend,)
        errors = []
        for name in names:
            backend = self.backends.get(name)
            if backend is None:
                continue
            try:
                backend.check(circuit)
                if self.config.noise:
                    backend.check_noise(circuit)
                return backend
            except IncompatibleComponentsError as exc:
                if self.config.backend != AUTO:
                    raise
                errors.append(str(exc))
        raise IncompatibleComponentsError(f"no installed backend can evaluate this circuit: {'; '.join(errors)}")

    def fit(self, encoder: Encoder, initial_weights: np.ndarray | None = None, max_epochs: int | None = None,
            patience: int | None = None) -> tuple[Circuit, TrainResult, str]:
        circuit = self.model.build(encoder)
        self.evaluator(circuit)  # the evaluator must run it (and its noise): fail before training
        backend = self.train_backend(circuit)
        x_train = encoder.transform(self.data.train.x)
        x_val = encoder.transform(self.data.validation.x)
        budget = self.config.training
        if max_epochs is not None or patience is not None:
            budget = replace(budget, max_epochs=max_epochs or budget.max_epochs, patience=patience or budget.patience)
        digest = hashlib.sha1(x_train.tobytes() + x_val.tobytes())
        if initial_weights is not None:
            digest.update(np.asarray(initial_weights, dtype=np.float64).tobytes())
        key = (circuit, digest.hexdigest(), backend.name, budget)
        if key not in self._cache:
            result = self._train(encoder, circuit, backend, x_train, x_val, initial_weights, budget)
            self._cache[key] = (result, backend.name)
        result, backend_name = self._cache[key]
        return circuit, result, backend_name

    @property
    def n_classes(self) -> int:
        return len(self.data.classes)

    def _train(self, encoder, circuit, backend, x_train, x_val, initial_weights, budget) -> TrainResult:
        """One binary model, or one-vs-rest: one binary model per class (class c against the
        rest), whose weights are stacked (k, W) and whose prediction is the argmax of outputs."""
        y_train, y_val = self.data.train.y, self.data.validation.y
        if self.n_classes == 2:
            rng = np.random.default_rng(self.seed)  # same init and batch order for every encoder
            weights = self.model.init_weights(circuit, rng) if initial_weights is None else initial_weights
            return train(circuit, backend, x_train, y_train, x_val, y_val, np.asarray(weights, dtype=np.float64),
                         budget, rng, batch_features=self._adversarial_batches(encoder, circuit, backend))
        results = []
        for c in range(self.n_classes):
            rng = np.random.default_rng([self.seed, c])
            weights = self.model.init_weights(circuit, rng) if initial_weights is None else initial_weights[c]
            results.append(train(circuit, backend, x_train, (y_train == c).astype(np.int64), x_val,
                                 (y_val == c).astype(np.int64), np.asarray(weights, dtype=np.float64), budget, rng))
        stacked = np.stack([r.weights for r in results])
        val_out = np.stack([backend.expval(circuit, x_val, w) for w in stacked], axis=1)
        return TrainResult(
            weights=stacked,
            epochs=max(r.epochs for r in results),
            converged=all(r.converged for r in results),
            best_epoch=max(r.best_epoch for r in results),
            validation_loss=float(np.mean([r.validation_loss for r in results])),
            validation_accuracy=predict_accuracy(val_out, y_val),
            history={f"class {c}": r.history["validation_loss"] for c, r in enumerate(results)},
        )

    def _adversarial_batches(self, encoder: Encoder, circuit: Circuit, backend: Backend):
        setting = self.config.adversarial_training
        if setting is None:
            return None
        attack, eps = self.attacks[setting], setting.eps[0]
        x_all, y_all = self.data.train.x, self.data.train.y
        ratio = self.config.adversarial_ratio

        def batch_features(batch: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
            k = int(round(ratio * len(batch)))  # the batch is already shuffled: attack its first k
            x = x_all[batch].copy()
            if k:
                gradient, _ = margin_gradient_fn(encoder, circuit, backend, weights, y_all[batch[:k]])
                x[:k] = attack.perturb(x[:k], gradient, eps, rng)
            return encoder.transform(x)

        return batch_features

    def score(self, candidate: Encoder) -> float:
        return self.fit(candidate)[1].validation_accuracy

    def train_candidate(self, candidate: Encoder, initial_weights=None, max_epochs=None, patience=None) -> TrainResult:
        return self.fit(candidate, initial_weights, max_epochs, patience)[1]

    def validation_accuracy(self, candidate: Encoder, weights: np.ndarray) -> float:
        circuit = self.model.build(candidate)
        backend = self.train_backend(circuit)
        return predict_accuracy(
            model_outputs(backend, circuit, candidate.transform(self.data.validation.x), weights), self.data.validation.y
        )

    def training_plan(self, candidate: Encoder) -> TrainingPlan | None:
        """What :meth:`_train` would do for a candidate (same circuit, backend, budget, initial
        weights, generators and labels), for an encoder that trains candidates itself; ``None``
        under adversarial training, whose minibatches depend on the harness's attacks."""
        if self.config.adversarial_training is not None:
            return None
        circuit = self.model.build(candidate)
        self.evaluator(circuit)
        backend = self.train_backend(circuit)
        y_train, y_val = self.data.train.y, self.data.validation.y
        if self.n_classes == 2:
            seeds, labels = [self.seed], [(y_train, y_val)]
        else:
            seeds = [[self.seed, c] for c in range(self.n_classes)]
            labels = [((y_train == c).astype(np.int64), (y_val == c).astype(np.int64)) for c in range(self.n_classes)]
        rngs = [np.random.default_rng(s) for s in seeds]
        weights = [np.asarray(self.model.init_weights(circuit, rng), dtype=np.float64) for rng in rngs]
        return TrainingPlan(circuit=circuit, backend=backend, config=self.config.training,
                            initial_weights=tuple(weights), rngs=tuple(rngs),
                            train_labels=tuple(t for t, _ in labels), validation_labels=tuple(v for _, v in labels))

    def context(self, seed: int) -> FitContext:
        return FitContext(seed=seed, score=self.score, train=self.train_candidate,
                          validation_accuracy=self.validation_accuracy,
                          restrict_weights=self.model.restrict_weights, training_plan=self.training_plan)


def _check_input_gradients(registry: Registry, config: CompareConfig, backend_specs: dict) -> None:
    """Attacks differentiate w.r.t. inputs on the training backend (else the evaluation
    backend); adversarial training on the training backend. Fail before any training."""
    able = [e.spec.name for e in registry.entries("backend") if e.spec.capabilities.input_gradients]
    hint = f"backends with input gradients: {', '.join(able) or 'none installed'}"
    evaluators = [n for n in AUTO_EVALUATORS if n in backend_specs] if config.backend == AUTO else [config.backend]
    if config.train_backend == AUTO:
        candidates = [n for n in (FAST_TRAIN_BACKEND, *evaluators) if n in backend_specs]
    else:
        candidates = [config.train_backend]
    train_ok = any(backend_specs[name].capabilities.input_gradients for name in candidates)
    if config.adversarial_training and not train_ok:
        raise IncompatibleComponentsError(
            f"adversarial training needs input gradients on the training backend "
            f"({', '.join(candidates)}); pass --train-backend with one of the {hint}"
        )
    if config.attacks and not (train_ok or any(backend_specs[n].capabilities.input_gradients for n in evaluators)):
        raise IncompatibleComponentsError(
            f"attacks need input gradients and neither the training backend ({', '.join(candidates)}) nor "
            f"--backend {config.backend} gives them; {hint}"
        )


def _resolve(registry: Registry, config: CompareConfig) -> dict[str, Any]:
    """Look up every component before any work: unknown names fail here."""
    dataset_spec = registry.get("dataset", config.dataset)
    model_spec = registry.get("model", config.model)
    encoder_specs = {name: registry.get("encoder", name) for name in config.encoders}
    unknown_options = set(config.encoder_options) - set(config.encoders)
    if unknown_options:
        raise ConfigError(f"options given for encoder(s) not compared: {', '.join(sorted(unknown_options))}")
    if config.backend == AUTO:
        if config.backend_options:
            raise ConfigError("--backend auto picks a backend per circuit: give --device/--shots with a named --backend")
        backend_names = {name for name in AUTO_EVALUATORS if name in registry.names("backend")}
        if not backend_names:
            raise UnknownComponentError("backend", AUTO, registry.names("backend"))
    else:
        backend_names = {config.backend}
    if config.train_backend != AUTO:
        backend_names.add(config.train_backend)
    elif FAST_TRAIN_BACKEND in registry.names("backend"):
        backend_names.add(FAST_TRAIN_BACKEND)
    backend_specs = {name: registry.get("backend", name) for name in backend_names}
    if dataset_spec.modality == "tabular" and config.grid not in ("auto", None):
        raise ConfigError(f"--grid applies to images; dataset {config.dataset!r} is tabular (leave --grid out)")
    evaluators = backend_names if config.backend == AUTO else {config.backend}
    if config.noise and not any(backend_specs[name].capabilities.noise for name in evaluators):
        able = [e.spec.name for e in registry.entries("backend") if e.spec.capabilities.noise]
        raise IncompatibleComponentsError(
            f"backend {config.backend!r} cannot simulate noise; use --backend "
            f"{' or '.join(able) if able else '<a backend with noise support>'}"
        )
    device_spec = None
    if config.device_noise:
        if "ibm" not in registry.names("backend"):
            raise UnknownComponentError("backend", "ibm", registry.names("backend"))
        device_spec = registry.get("backend", "ibm")
    if config.attacks or config.adversarial_training:
        _check_input_gradients(registry, config, backend_specs)
    attacks = {}
    for setting in (*config.attacks, *([config.adversarial_training] if config.adversarial_training else [])):
        spec = registry.get("attack", setting.name)
        try:
            attacks[setting] = spec.factory(**dict(setting.options))
        except TypeError as exc:
            raise ConfigError(f"attack {setting.name!r}: {exc}") from None
    grid = config.grid
    if grid == "auto":
        grid = 3 if dataset_spec.modality == "image" else None
    return {"dataset": dataset_spec, "encoders": encoder_specs, "backends": backend_specs, "grid": grid,
            "model": model_spec, "attacks": attacks, "device_backend": device_spec}


@dataclass
class Plan:
    """A checked comparison, ready to run: components resolved, data loaded, the first
    seed's splits prepared. Building it raises every configuration and data error."""

    config: CompareConfig
    specs: dict[str, Any]
    model: Model
    raw: Any
    first: PreparedData
    registry: Registry | None = None

    @property
    def runs(self) -> int:
        return len(self.config.encoders) * self.config.seeds

    def prepared(self, seed: int) -> PreparedData:
        if seed == self.config.seed:
            return self.first
        c = self.config
        return prepare(self.raw, c.classes, grid=self.specs["grid"], train_size=c.train_size,
                       test_size=c.test_size, validation_size=c.validation_size, seed=seed)


def plan(config: CompareConfig, registry: Registry | None = None) -> Plan:
    """Resolve every component, load the dataset and prepare the first seed's splits."""
    registry = registry or load_registry(config.disable_plugins)
    specs = _resolve(registry, config)
    try:
        model = specs["model"].factory(layers=config.layers)
    except ValueError as exc:
        raise ConfigError(f"model {config.model!r}: {exc}") from None
    raw = specs["dataset"].factory().load(resolve_data_dir(config.data_dir))
    first = prepare(raw, config.classes, grid=specs["grid"], train_size=config.train_size,
                    test_size=config.test_size, validation_size=config.validation_size, seed=config.seed)
    return Plan(config, specs, model, raw, first, registry)


def run(plan: Plan, progress: Progress | None = None) -> BenchmarkResult:
    """Train and evaluate every encoder with every seed of a plan; return the records.

    :param progress: called with a short description after each finished run (the CLI
        advances its progress bar with it); there are ``plan.runs`` runs.
    """
    config, specs = plan.config, plan.specs
    backends = {}
    for name, spec in specs["backends"].items():
        options = config.backend_options if name == config.backend else {}
        try:
            backends[name] = spec.factory(**options)
        except TypeError as exc:
            raise ConfigError(f"backend {name!r} does not take these options: {exc}") from None
    for name, backend in backends.items():
        backend.name = name
    device_backends = {}
    for device in config.device_noise:
        shots = config.backend_options.get("shots")
        device_backends[device] = specs["device_backend"].factory(device=device, **({"shots": shots} if shots else {}))
        device_backends[device].name = f"ibm:{device}"
    records = []
    for seed in range(config.seed, config.seed + config.seeds):
        data = plan.prepared(seed)
        for name in config.encoders:
            # a trainer (and its cache) per encoder: no encoder's timings borrow another's training
            trainer = _Trainer(plan.model, data, backends, config, seed, specs["attacks"])
            trainer.device_backends = device_backends
            record = _run_one(name, specs["encoders"][name], config, data, trainer, seed)
            records.append(replace(record, dataset_notes=dict(plan.raw.notes)))
            if progress is not None:
                progress(f"{name} seed {seed}")
        _cost_versus_angle([r for r in records if r.seed == seed])
    plugins = plan.registry.plugin_versions() if plan.registry is not None else {}
    return BenchmarkResult(config=config.to_dict(), records=tuple(records), environment=environment(plugins))


def compare(config: CompareConfig, progress: Progress | None = None, registry: Registry | None = None) -> BenchmarkResult:
    """Plan and run a comparison (what ``qenc-bench compare`` does); for notebooks."""
    return run(plan(config, registry), progress)


def _cost_versus_angle(records: list[RunRecord]) -> None:
    """Each record's wall time (fit, train, evaluate) over angle encoding's on the same split:
    the overhead the ATP paper reports (about 1.15 for ATP). Only when angle was compared."""
    angle = next((r for r in records if r.encoder == "angle"), None)
    if angle is None:
        return
    baseline = sum(angle.timings.values())
    for r in records:
        if baseline > 0:
            r.encoder_info["cost_vs_angle"] = sum(r.timings.values()) / baseline


def feature_map_resources(encoder: Encoder) -> dict[str, int]:
    """Qubits, two-qubit gates, depth and gate count of the encoder's feature map alone."""
    ops = encoder.feature_map()
    n_features = max((op.index + 1 for op in ops if op.source == "feature"), default=0)
    fmap = Circuit(n_qubits=encoder.n_qubits, ops=ops, n_features=n_features, n_weights=0, readout=0)
    return {"qubits": fmap.n_qubits, "two_qubit_gates": fmap.two_qubit_gates, "depth": fmap.depth,
            "gates": len(fmap.ops)}


def _run_one(name, spec, config: CompareConfig, data: PreparedData, trainer: _Trainer, seed: int) -> RunRecord:
    encoder = spec.factory(**config.encoder_options.get(name, {}))
    encoder.name = name
    t0 = time.perf_counter()
    context = trainer.context(seed)
    encoder.fit(data.train, data.validation, context)
    t1 = time.perf_counter()
    if context.final is not None:  # the encoder's fit already trained its final model
        circuit, result = trainer.model.build(encoder), context.final
        train_backend = trainer.train_backend(circuit).name
    else:
        circuit, result, train_backend = trainer.fit(encoder)
    t2 = time.perf_counter()
    evaluator = trainer.evaluator(circuit)
    x_test = encoder.transform(data.test.x)
    outputs = model_outputs(evaluator, circuit, x_test, result.weights)
    entropy = None
    if evaluator.capabilities.entropy:  # one-vs-rest: the mean over the k models too
        entropy = float(np.mean(model_outputs(
            evaluator, circuit, x_test, result.weights,
            lambda f, w: evaluator.entropy(circuit, f, w, [circuit.readout]))))
    noisy = {}
    for p in config.noise:
        noisy_out = model_outputs(evaluator, circuit, x_test, result.weights,
                                  lambda f, w: evaluator.noisy_expval(circuit, f, w, Depolarizing(p)))
        noisy[Depolarizing(p).label] = predict_accuracy(noisy_out, data.test.y)
    for device, device_backend in getattr(trainer, "device_backends", {}).items():
        device_backend.check(circuit)
        device_out = model_outputs(device_backend, circuit, x_test, result.weights)
        noisy[DeviceNoise(device).label] = predict_accuracy(device_out, data.test.y)
    adversarial, attack_seconds, gradient_method = {}, {}, None
    if config.attacks:
        attack_backend = trainer.train_backend(circuit)
        if not attack_backend.capabilities.input_gradients:
            attack_backend = evaluator
        gradient, gradient_method = margin_gradient_fn(encoder, circuit, attack_backend, result.weights, data.test.y)
        for setting in config.attacks:
            attack = trainer.attacks[setting]
            for eps, label in zip(setting.eps, setting.labels()):
                ta = time.perf_counter()
                x_adv = attack.perturb(data.test.x, gradient, eps, np.random.default_rng(seed))
                adv_out = evaluator.expval(circuit, encoder.transform(x_adv), result.weights)
                adversarial[label] = accuracy(adv_out, data.test.y)
                attack_seconds[label] = time.perf_counter() - ta
        gradient_method = f"{gradient_method} on {attack_backend.name}"
    t3 = time.perf_counter()
    info = encoder.info()
    info["trainings"] = info.get("trainings", context.trainings)
    return RunRecord(
        dataset=config.dataset,
        classes=data.classes,
        encoder=name,
        seed=seed,
        model=trainer.model.label,
        backend=evaluator.name,
        train_backend=train_backend,
        accuracy=predict_accuracy(outputs, data.test.y),
        entropy=entropy,
        validation_accuracy=result.validation_accuracy,
        n_qubits=circuit.n_qubits,
        two_qubit_gates=circuit.two_qubit_gates,
        depth=circuit.depth,
        epochs=result.epochs,
        converged=result.converged,
        noisy_accuracy=noisy,
        adversarial_accuracy=adversarial,
        attack_seconds=attack_seconds,
        attack_gradient=gradient_method,
        adversarial_training=config.adversarial_training.to_dict() | {"ratio": config.adversarial_ratio}
        if config.adversarial_training else None,
        grid=data.grid,
        feature_map=feature_map_resources(encoder),
        timings={"fit_encoder": t1 - t0, "train": t2 - t1, "evaluate": t3 - t2},
        encoder_info=info,
        sizes=data.sizes(),
        gate_counts=circuit.gate_counts(),
    )
