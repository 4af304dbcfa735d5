"""The comparison harness: every encoder (and classical reference) x seed, under one budget.

:func:`plan` checks everything that can be checked before work (components, options, output
capabilities, the data, the first seed's splits) and returns a typed :class:`Plan`;
:func:`run` trains and evaluates; :func:`compare` does both (what ``qenc-bench compare`` does;
a notebook can call it directly).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..attacks import Attack, AttackSetting
from ..circuit import Circuit
from ..datasets import RawDataset, resolve_data_dir
from ..encoders import Encoder
from ..encoding_metrics import EncodingMetric
from ..errors import ConfigError, IncompatibleComponentsError
from ..model import Model
from ..plugins import Registry, load_registry
from ..prepare import PreparedData, prepare
from ..results.records import BenchmarkResult, RunRecord, environment, with_relative_costs
from ..specs import BackendSpec, ClassicalSpec, DatasetSpec, EncoderSpec
from .classical import classical_record
from .config import AUTO, CompareConfig
from .engines import DEVICE_BACKEND, Engines, auto_order
from .evaluate import Evaluation, evaluate
from .metrics import compute_metrics
from .trainer import ModelTrainer

OnRecord = Callable[[RunRecord], None]


@dataclass(frozen=True)
class Plan:
    """A checked comparison, ready to run: components resolved, attacks built, data loaded and
    the first seed's splits prepared. Building it raises every configuration and data error."""

    config: CompareConfig
    dataset: DatasetSpec
    encoders: dict[str, EncoderSpec]
    classical: dict[str, ClassicalSpec]
    backends: dict[str, BackendSpec]
    model: Model
    attacks: dict[AttackSetting, Attack]
    grid: int | None
    raw: RawDataset
    first: PreparedData
    registry: Registry | None = None
    metrics: dict[str, EncodingMetric] = field(default_factory=dict)

    def size_warnings(self, asked: Iterable[str] = ("train", "test")) -> tuple[str, ...]:
        """One line per split of ``asked`` (``"train"``, ``"test"``) the dataset was too small
        for; the CLI passes the sizes the user gave (a default that was capped is only the
        footer's used sizes and the record's ``requested_sizes``)."""
        c = self.config
        return tuple(f"{c.dataset} classes {','.join(map(str, c.classes))} have too few samples for "
                     f"--{name}-size {want}: seed {c.seed} uses {used} (each record stores both)"
                     for name, (want, used) in self.first.capped.items() if name in tuple(asked))

    @property
    def seeds(self) -> range:
        return range(self.config.seed, self.config.seed + self.config.seeds)

    @property
    def runs(self) -> int:
        return (len(self.config.encoders) + len(self.config.classical)) * self.config.seeds

    def prepared(self, seed: int) -> PreparedData:
        if seed == self.config.seed:
            return self.first
        c = self.config
        return prepare(self.raw, c.classes, grid=self.grid, train_size=c.train_size, test_size=c.test_size,
                       validation_size=c.validation_size, seed=seed)

    def result(self, records: Iterable[RunRecord], *, complete: bool = True, notes: Sequence[str] = ()
               ) -> BenchmarkResult:
        plugins = self.registry.plugin_versions() if self.registry is not None else {}
        return BenchmarkResult(config=self.config.to_dict(), records=tuple(records), environment=environment(plugins),
                               notes=tuple(notes), complete=complete)


def _check_capabilities(config: CompareConfig, backends: dict[str, BackendSpec]) -> None:
    """What can be refused from the declared capabilities alone, before any data is loaded."""
    def able(capability: str) -> list[str]:
        return [n for n, s in backends.items() if getattr(s.capabilities, capability)]

    def named_or_auto(requested: str, role: str) -> list[str]:
        return auto_order(backends, role) if requested == AUTO else [requested]

    for requested in {config.backend, config.train_backend} - {AUTO}:
        if requested not in backends:
            from ..errors import UnknownComponentError

            raise UnknownComponentError("backend", requested, backends)
    evaluators = named_or_auto(config.backend, "evaluate")
    if config.noise and not any(backends[n].capabilities.noise for n in evaluators):
        raise IncompatibleComponentsError(
            f"backend {config.backend!r} cannot simulate noise; use --backend "
            f"{' or '.join(able('noise')) or '<a backend with noise support>'}")
    if config.backend_options.get("shots") and not any(backends[n].capabilities.shots for n in evaluators):
        raise IncompatibleComponentsError(f"backend {config.backend!r} does not sample shots; use --backend "
                                          f"{' or '.join(able('shots')) or '<a backend with shots>'}")
    if config.device_noise and DEVICE_BACKEND not in backends:
        from ..errors import UnknownComponentError

        raise UnknownComponentError("backend", DEVICE_BACKEND, backends)
    if config.training.optimizer != "cobyla" and config.train_backend != AUTO \
            and not backends[config.train_backend].capabilities.gradients:
        raise IncompatibleComponentsError(
            f"backend {config.train_backend!r} has no gradients to train with; pass --train-backend "
            f"{' or '.join(able('gradients'))}, or --optimizer cobyla")
    if config.attacks or config.adversarial_training:
        hint = f"backends with input gradients: {', '.join(able('input_gradients')) or 'none installed'}"
        trainers = named_or_auto(config.train_backend, "train")
        if config.adversarial_training and not any(backends[n].capabilities.input_gradients for n in trainers):
            raise IncompatibleComponentsError(
                f"adversarial training needs input gradients on the training backend ({', '.join(trainers)}); "
                f"pass --train-backend with one of the {hint}")
        if config.train_backend != AUTO and not any(backends[n].capabilities.input_gradients
                                                    for n in [*trainers, *named_or_auto(config.backend, "evaluate")]):
            raise IncompatibleComponentsError(
                f"attacks need input gradients and neither the training backend ({config.train_backend}) nor "
                f"--backend {config.backend} gives them; {hint}")


def plan(config: CompareConfig, registry: Registry | None = None) -> Plan:
    """Resolve every component, build the attacks and the model, load the dataset and prepare the
    first seed's splits: every input error surfaces here, before any quantum SDK is imported."""
    registry = registry or load_registry(config.disable_plugins)
    dataset = registry.get("dataset", config.dataset)
    encoders = {name: registry.get("encoder", name) for name in config.encoders}
    classical = {name: registry.get("classical", name) for name in config.classical}
    metrics = _metrics(registry, config)
    backends: dict[str, BackendSpec] = {e.spec.name: e.spec for e in registry.entries("backend")}  # type: ignore[misc]
    if config.cost_baseline is not None and config.cost_baseline not in registry.names("encoder"):
        registry.get("encoder", config.cost_baseline)  # an unknown name lists the known ones
    _check_capabilities(config, backends)
    if dataset.modality == "tabular" and config.grid not in ("auto", None):
        raise ConfigError(f"--grid applies to images; dataset {config.dataset!r} is tabular (leave --grid out)")
    attacks: dict[AttackSetting, Attack] = {}
    for setting in (*config.attacks, *([config.adversarial_training] if config.adversarial_training else [])):
        spec = registry.get("attack", setting.name)
        try:
            attacks[setting] = spec.factory(**dict(setting.options))
        except TypeError as exc:
            raise ConfigError(f"attack {setting.name!r}: {exc}") from None
    try:
        model = registry.get("model", config.model).factory(layers=config.layers)
    except ValueError as exc:
        raise ConfigError(f"model {config.model!r}: {exc}") from None
    grid = config.grid
    if grid == "auto":
        grid = 3 if dataset.modality == "image" else None
    raw = dataset.factory().load(resolve_data_dir(config.data_dir))
    first = prepare(raw, config.classes, grid=grid, train_size=config.train_size,  # type: ignore[arg-type]
                    test_size=config.test_size, validation_size=config.validation_size, seed=config.seed)
    return Plan(config, dataset, encoders, classical, backends, model, attacks, grid,  # type: ignore[arg-type]
                raw, first, registry, metrics)


def _metrics(registry: Registry, config: CompareConfig) -> dict[str, EncodingMetric]:
    """The encoding metrics asked for (``all``: every registered one), built."""
    names = registry.names("metric") if config.metrics == ("all",) else list(config.metrics)
    stray = sorted(set(config.metric_options) - set(names))
    if stray:
        raise ConfigError(f"options given for metric(s) not computed: {', '.join(stray)}")
    built = {}
    for name in names:
        spec = registry.get("metric", name)
        try:
            built[name] = spec.factory(**config.metric_options.get(name, {}))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"metric {name!r}: {exc}") from None
    return built


def _collection_tags(plan: Plan, data: PreparedData, name: str, seed: int, circuit: Circuit, result: Any,
                     train_engine: str) -> dict[str, Any]:
    """What completes a test evaluation's record from its job's results alone (for a backend
    with remote jobs: ``qenc-bench ibm-jobs --collect`` after a failed run): the test labels
    and sample ids, and the record's fields but the measured numbers."""
    evaluator = plan.config.backend
    record = {"dataset": plan.config.dataset, "classes": list(data.classes), "encoder": name, "seed": seed,
              "model": plan.model.label, "backend": evaluator, "train_backend": train_engine,
              "validation_accuracy": result.validation_accuracy, "n_qubits": circuit.n_qubits,
              "two_qubit_gates": circuit.two_qubit_gates, "depth": circuit.depth, "epochs": result.epochs,
              "converged": result.converged, "timings": {}, "entropy": None, "grid": data.grid,
              "sizes": data.sizes(), "requested_sizes": dict(data.requested_sizes), "training": result.training_info(),
              "gate_counts": circuit.gate_counts(), "dataset_notes": dict(plan.raw.notes)}
    return {"labels": data.test.y.tolist(), "test_ids": _index(data).tolist(), "record": record,
            "config": plan.config.to_dict()}


def _index(data: PreparedData) -> np.ndarray:
    index = data.test.index
    return np.arange(len(data.test)) if index is None else index


def _encoder_record(name: str, spec: EncoderSpec, plan: Plan, data: PreparedData, engines: Engines, seed: int,
                    fitted_qubits: dict[str, int], tags: dict[str, Any]) -> RunRecord:
    config = plan.config
    trainer = ModelTrainer(plan.model, data, engines, config, seed, plan.attacks)
    try:
        encoder: Encoder = spec.factory(**config.encoder_options.get(name, {}))
    except TypeError as exc:
        raise ConfigError(f"encoder {name!r}: {exc}") from None
    view = data.view(encoder.view)
    started = time.perf_counter()
    context = trainer.context(fitted_qubits)
    encoder.fit(view.train, view.validation, context)
    fitted = time.perf_counter()
    if context.final is not None:  # the encoder's fit already trained its final model
        circuit: Circuit = plan.model.build(encoder)
        engines.check(circuit)
        result, train_engine = context.final, engines.training(circuit).name
    else:
        trained = trainer.fit(encoder)
        circuit, result, train_engine = trained.circuit, trained.result, trained.engine
    done_training = time.perf_counter()
    record_tags = {**tags, "encoder": name, "seed": seed}
    if engines.specs[engines.evaluation(circuit).name].capabilities.remote_jobs:
        record_tags |= _collection_tags(plan, data, name, seed, circuit, result, train_engine)
    evaluation: Evaluation = evaluate(encoder, circuit, result.weights, data, engines, config, plan.attacks, seed,
                                      record_tags)
    evaluated = time.perf_counter()
    metrics = compute_metrics(plan.metrics, encoder, circuit, plan.model, data, engines, seed) if plan.metrics else {}
    info = encoder.info()
    info.setdefault("trainings", context.trainings)
    return RunRecord(
        dataset=config.dataset, classes=data.classes, encoder=name, seed=seed, model=plan.model.label,
        backend=evaluation.engines["evaluate"], train_backend=train_engine,
        accuracy=evaluation.accuracy,
        entropy=None if evaluation.entropies is None else float(np.mean(evaluation.entropies)),
        validation_accuracy=result.validation_accuracy, n_qubits=circuit.n_qubits,
        two_qubit_gates=circuit.two_qubit_gates, depth=circuit.depth, epochs=result.epochs,
        converged=result.converged,
        timings={"fit_encoder": fitted - started, "train": done_training - fitted, "evaluate": evaluated - done_training},
        measurement=evaluation.measurement, engines={"train": train_engine, **evaluation.engines},
        backend_info=evaluation.backend_info,
        samples=evaluation.samples(_index(data), data.test_split),
        training=result.training_info(),
        noisy_accuracy={k: evaluation.accuracy_of(v) for k, v in evaluation.noisy.items()},
        adversarial_accuracy={k: evaluation.accuracy_of(v) for k, v in evaluation.adversarial.items()},
        attack_seconds=evaluation.attack_seconds, attack_gradient=evaluation.attack_gradient,
        adversarial_training=config.adversarial_training.to_dict() | {"ratio": config.adversarial_ratio}
        if config.adversarial_training else None,
        grid=data.grid, feature_map=feature_map_resources(encoder), encoder_info=info, sizes=data.sizes(),
        requested_sizes=dict(data.requested_sizes), gate_counts=circuit.gate_counts(),
        dataset_notes=dict(plan.raw.notes), metrics=metrics,
    )


def run(plan: Plan, on_record: OnRecord | None = None, *, previous: Sequence[RunRecord] = (),
        job_journal: str | os.PathLike | None = None, result_file: str | os.PathLike | None = None,
        engines: Engines | None = None) -> BenchmarkResult:
    """Train and evaluate every encoder and classical model with every seed of a plan.

    :param on_record: called with each record as it is finished (the CLI advances its progress
        and keeps a partial result with it); there are ``plan.runs`` records.
    :param previous: records of an earlier, interrupted run of the same plan: their (model, seed)
        runs are not run again (``compare --resume``).
    :param job_journal: where backends with remote jobs log each job.
    :param result_file: the result file the run will be written to (hardware jobs log it, so their
        results can be collected into it after a failure).
    :param engines: the engines to use (built by the caller, e.g. for a cost estimate); closed at
        the end either way.
    """
    config = plan.config
    done = {(r.encoder, r.seed): r for r in previous}
    engines = engines or Engines(plan.backends, config, job_journal=job_journal)
    tags = {"result_file": str(result_file)} if result_file is not None else {}
    records: list[RunRecord] = []
    try:
        for seed in plan.seeds:
            data = plan.prepared(seed)
            fitted_qubits: dict[str, int] = {}
            mine = []
            for name in config.encoders:
                record = done.get((name, seed)) or _encoder_record(name, plan.encoders[name], plan, data, engines,
                                                                    seed, fitted_qubits, tags)
                fitted_qubits[name] = record.feature_map.get("qubits", record.n_qubits)
                mine.append(record)
                if on_record is not None and (name, seed) not in done:
                    on_record(record)
            for name, spec in plan.classical.items():
                record = done.get((name, seed)) or classical_record(name, spec, data, config.dataset, seed,
                                                                    config.classical_options.get(name))
                mine.append(record)
                if on_record is not None and (name, seed) not in done:
                    on_record(record)
            records += with_relative_costs(mine, config.cost_baseline)
    finally:
        engines.close()
    return plan.result(records)


def compare(config: CompareConfig, on_record: OnRecord | None = None, registry: Registry | None = None
            ) -> BenchmarkResult:
    """Plan and run a comparison (what ``qenc-bench compare`` does); for notebooks."""
    return run(plan(config, registry), on_record)


def feature_map_resources(encoder: Encoder) -> dict[str, int]:
    """Qubits, two-qubit gates, depth and gate count of the encoder's feature map alone."""
    ops = encoder.feature_map()
    n_features = max((op.index + 1 for op in ops if op.source == "feature" and op.index is not None), default=0)
    fmap = Circuit(n_qubits=encoder.n_qubits, ops=ops, n_features=n_features, n_weights=0, readout=0)
    return {"qubits": fmap.n_qubits, "two_qubit_gates": fmap.two_qubit_gates, "depth": fmap.depth,
            "gates": len(fmap.ops)}
