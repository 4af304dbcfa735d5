"""Contract checks a plugin author runs against their own components.

Each check builds the component from its spec, exercises the interface the harness relies on,
and raises :class:`AssertionError` with a message that names the component and what failed::

    from qenc_bench.testing import check_attack, check_backend, check_dataset, check_encoder

    def test_my_encoder_keeps_the_contract():
        check_encoder(EncoderSpec(name="my-encoder", factory=MyEncoder))

- :func:`check_encoder` fits the encoder on a small real data set (scikit-learn's digits at
  grid 3), with a :class:`~qenc_bench.FitContext` whose ``score`` is a deterministic number
  (nothing is trained), and checks the qubit count, the feature map, the feature matrix,
  determinism, the readout model's circuit and ``input_vjp`` (when implemented).
- :func:`check_dataset` loads the dataset and checks the :class:`~qenc_bench.RawDataset`
  (shapes, dtypes, labels, modality), then prepares its first two classes.
- :func:`check_backend` evaluates a small readout circuit: values in [-1, 1], equal to the
  ``exact`` backend's (1e-8) unless the instance samples shots, gradients against central
  finite differences, declared capabilities equal to the instance's.
- :func:`check_attack` checks the eps ball, the unit interval, reproducibility from the
  generator and that the attack follows the gradient of a linear loss.

The module is also a pytest plugin, loaded through the ``pytest11`` entry point wherever
qenc-bench is installed (or with ``pytest_plugins = ["qenc_bench.testing"]``): fixtures ``qenc_contracts`` (the four checks),
``qenc_registry`` (every installed plugin's components) and ``qenc_digits`` (the small
prepared digits set :func:`check_encoder` uses).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..attacks import Attack
from ..circuit import GATES, Circuit, Op
from ..datasets import Dataset, RawDataset
from ..encoders import Encoder, FitContext
from ..prepare import PreparedData, Split, prepare
from ..specs import AttackSpec, DatasetSpec, EncoderSpec
from ._common import FD_STEP, _deterministic_score, _fail, _require, _spec_name, _step, small_digits
from .backends import check_backend

__all__ = [
    "check_attack",
    "check_backend",
    "check_dataset",
    "check_encoder",
    "small_digits",
]


# -- encoders -----------------------------------------------------------------------------


def _fit_encoder(factory: Callable[..., Any], name: str, data: PreparedData, label: str) -> Encoder:
    with _step(label, "the factory"):
        encoder = factory()
    _require(isinstance(encoder, Encoder), label, f"the factory returned {type(encoder).__name__}, not an Encoder")
    encoder.name = name
    with _step(label, "fit"):
        fitted = encoder.fit(data.train, data.validation, FitContext(seed=0, score=_deterministic_score))
    _require(fitted is encoder, label, "fit must return self")
    return encoder


def check_encoder(spec_or_factory: EncoderSpec | Callable[..., Encoder], data: PreparedData | None = None) -> Encoder:
    """Fit the encoder and check what the harness relies on; returns the fitted encoder.

    :param spec_or_factory: an :class:`EncoderSpec` or a callable returning an unfitted encoder.
    :param data: prepared data to fit on; default :func:`small_digits`.
    :raises AssertionError: naming the encoder and the broken rule.
    """
    from ..model import ReadoutModel

    factory = spec_or_factory.factory if isinstance(spec_or_factory, EncoderSpec) else spec_or_factory
    name = _spec_name(spec_or_factory, "encoder")
    label = f"encoder {name!r}"
    data = data if data is not None else small_digits()
    encoder = _fit_encoder(factory, name, data, label)

    n = encoder.n_qubits
    _require(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1, label,
             f"n_qubits must be a positive int after fit, got {n!r}")
    with _step(label, "feature_map"):
        ops = tuple(encoder.feature_map())
    for op in ops:
        _require(isinstance(op, Op) and op.gate in GATES, label, f"feature_map holds {op!r}, not a qenc_bench.Op")
        _require(all(0 <= w < n for w in op.wires), label, f"{op.gate} on wires {op.wires} outside 0..{n - 1}")
        _require(op.source in (None, "feature"), label, f"{op.gate} reads a {op.source}; a feature map reads no weights")
    n_columns = max((op.index + 1 for op in ops if op.source == "feature" and op.index is not None), default=0)
    with _step(label, "the feature map as a Circuit"):
        Circuit(int(n), ops, n_columns, 0, 0)

    for split_name in ("train", "validation", "test"):
        split: Split = getattr(data, split_name)
        with _step(label, f"transform of the {split_name} split"):
            features = np.asarray(encoder.transform(split.x))
        _require(features.shape == (len(split.x), n_columns), label,
                 f"transform({split_name}) has shape {features.shape}; the feature map reads "
                 f"{n_columns} column(s), so expected {(len(split.x), n_columns)}")
        _require(np.all(np.isfinite(features)), label, f"transform({split_name}) has non-finite values")

    with _step(label, "info"):
        info = encoder.info()
    _require(isinstance(info, dict), label, f"info() must return a dict, got {type(info).__name__}")
    try:
        json.dumps(info)
    except TypeError as exc:
        raise _fail(label, f"info() is not JSON-serialisable: {exc}") from exc

    again = _fit_encoder(factory, name, data, label)
    _require(again.n_qubits == n and tuple(again.feature_map()) == ops, label,
             "fitting twice on the same data and seed gave a different feature map")
    _require(np.array_equal(again.transform(data.test.x), encoder.transform(data.test.x)), label,
             "fitting twice on the same data and seed gave a different transform")

    with _step(label, "ReadoutModel().build"):
        circuit = ReadoutModel().build(encoder)
    _require(circuit.n_qubits == n + 1, label, f"the readout model has {circuit.n_qubits} qubits, expected {n + 1}")

    if type(encoder).input_vjp is not Encoder.input_vjp:
        rng = np.random.default_rng(1)
        x = rng.uniform(0.05, 0.95, size=(4, data.n_features))
        cotangent = rng.normal(size=(4, n_columns))
        with _step(label, "input_vjp"):
            grad = np.asarray(encoder.input_vjp(x, cotangent))
        _require(grad.shape == x.shape, label, f"input_vjp has shape {grad.shape}, expected the input's {x.shape}")
        numeric = np.empty_like(x)
        for j in range(x.shape[1]):
            e = np.zeros_like(x)
            e[:, j] = FD_STEP
            numeric[:, j] = np.sum((encoder.transform(x + e) - encoder.transform(x - e)) / (2 * FD_STEP) * cotangent, axis=1)
        error = float(np.max(np.abs(grad - numeric)))
        _require(error <= 1e-5 * max(1.0, float(np.max(np.abs(numeric)))), label,
                 f"input_vjp differs from central finite differences of transform by {error:.3g}")
    return encoder


# -- datasets -----------------------------------------------------------------------------


def check_dataset(spec: DatasetSpec, data_dir: str | Path | None = None) -> RawDataset:
    """Load the dataset, check the :class:`RawDataset` and prepare its first two classes.

    :param data_dir: passed to ``load`` (``None`` for a dataset that needs no files).
    :returns: the loaded raw dataset.
    """
    _require(isinstance(spec, DatasetSpec), "dataset", f"expected a DatasetSpec, got {type(spec).__name__}")
    label = f"dataset {spec.name!r}"
    with _step(label, "the factory"):
        dataset = spec.factory()
    _require(isinstance(dataset, Dataset), label, f"the factory returned {type(dataset).__name__}, not a Dataset")
    with _step(label, "load"):
        raw = dataset.load(Path(data_dir) if data_dir is not None else None)
    _require(isinstance(raw, RawDataset), label, f"load returned {type(raw).__name__}, not a RawDataset")
    _require(raw.modality == spec.modality, label,
             f"load gave modality {raw.modality!r} but the spec declares {spec.modality!r}")
    names = raw.class_names
    _require(isinstance(names, tuple) and len(names) >= 2 and all(isinstance(c, str) for c in names), label,
             f"class_names must be a tuple of at least two str, got {names!r}")
    _require(set(raw.splits) <= {"train", "test", "val"}, label,
             f"unknown split(s) {sorted(set(raw.splits) - {'train', 'test', 'val'})}; use train, test, val")
    sample_shape = None
    for split, (x, y) in raw.splits.items():
        where = f"{label} split {split!r}"
        _require(isinstance(x, np.ndarray) and isinstance(y, np.ndarray), where, "samples and labels must be numpy arrays")
        _require(len(x) > 0, where, "is empty")
        _require(np.issubdtype(x.dtype, np.number) and not np.issubdtype(x.dtype, np.complexfloating), where,
                 f"samples have dtype {x.dtype}, expected a real number type")
        _require(np.issubdtype(y.dtype, np.integer), where, f"labels have dtype {y.dtype}, expected integers")
        _require(y.shape == (len(x),), where, f"labels have shape {y.shape}, expected {(len(x),)}")
        if raw.modality == "tabular":
            _require(x.ndim == 2, where, f"tabular samples must be (N, d), got {x.shape}")
        else:
            _require(x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 3), where,
                     f"images must be (N, H, W) or (N, H, W, 3), got {x.shape}")
            _require(raw.max_value and raw.max_value > 0, where, f"max_value must be positive, got {raw.max_value!r}")
            _require(x.min() >= 0 and x.max() <= raw.max_value, where,
                     f"pixel values span [{x.min()}, {x.max()}], outside [0, max_value={raw.max_value}]")
        _require(np.all(np.isfinite(x)), where, "samples have non-finite values")
        _require(y.min() >= 0 and y.max() < len(names), where,
                 f"labels span {y.min()}..{y.max()}, outside 0..{len(names) - 1} (one per class name)")
        _require(sample_shape is None or x.shape[1:] == sample_shape, where,
                 f"sample shape {x.shape[1:]} differs from another split's {sample_shape}")
        sample_shape = x.shape[1:]
    grid = None if raw.modality == "tabular" else min(3, *raw.splits["train"][0].shape[1:3])
    with _step(label, "prepare(classes=(0, 1))"):
        prepared = prepare(raw, (0, 1), grid=grid, train_size=20, test_size=10, seed=0)
    for split_name in ("train", "validation", "test"):
        s = getattr(prepared, split_name)
        where = f"{label} prepared {split_name}"
        _require(s.x.ndim == 2 and s.x.shape[1] == prepared.n_features, where, f"unexpected shape {s.x.shape}")
        _require(np.all((s.x >= 0) & (s.x <= 1)), where, "features outside [0, 1]")
        _require(set(np.unique(s.y)) == {0, 1}, where, f"labels {sorted(set(np.unique(s.y)))}, expected 0 and 1")
    return raw


# -- attacks ------------------------------------------------------------------------------


def check_attack(spec: AttackSpec, **options: Any) -> Attack:
    """Build the attack with ``options`` and check it against a linear loss ``w . x``.

    Checks: shape, the eps ball and [0, 1] for several eps, no movement at eps 0,
    reproducibility from the generator, that the gradient is asked for, and that the loss
    rises by at least half of what FGSM's step ``eps * sign(w)`` gains.
    :returns: the attack.
    """
    _require(isinstance(spec, AttackSpec), "attack", f"expected an AttackSpec, got {type(spec).__name__}")
    label = f"attack {spec.name!r}"
    with _step(label, "the factory"):
        attack = spec.factory(**options)
    _require(callable(getattr(attack, "perturb", None)), label, f"{type(attack).__name__} has no perturb method")

    rng = np.random.default_rng(3)
    n, d = 40, 6
    x = rng.uniform(size=(n, d))
    x[:4] = 0.0
    x[4:8] = 1.0
    w = rng.normal(size=d)
    w[d - 1] = 0.0  # a pixel the loss ignores
    calls = []

    def gradient(z: np.ndarray) -> np.ndarray:
        _require(np.shape(z) == (n, d), label, f"asked for the gradient at shape {np.shape(z)}, expected {(n, d)}")
        calls.append(1)
        return np.broadcast_to(w, (n, d)).copy()

    for eps in (0.0, 0.05, 0.3):
        with _step(label, f"perturb(eps={eps})"):
            x_adv = np.asarray(attack.perturb(x.copy(), gradient, eps, np.random.default_rng(0)))
        where = f"{label} at eps={eps}"
        _require(x_adv.shape == x.shape, where, f"perturb returned shape {x_adv.shape}, expected {x.shape}")
        _require(np.all(np.isfinite(x_adv)), where, "perturb returned non-finite values")
        _require(np.all((x_adv >= 0.0) & (x_adv <= 1.0)), where,
                 f"samples outside [0, 1] (range {x_adv.min():.3g}..{x_adv.max():.3g})")
        moved = float(np.max(np.abs(x_adv - x)))
        _require(moved <= eps + 1e-12, where, f"moved a pixel by {moved:.6g}, outside the eps ball")
        if eps == 0.0:
            continue
        again = np.asarray(attack.perturb(x.copy(), gradient, eps, np.random.default_rng(0)))
        _require(np.array_equal(again, x_adv), where, "two runs with the same generator seed differ")
        gain = float(np.sum((x_adv - x) @ w))
        fgsm_gain = float(np.sum((np.clip(x + eps * np.sign(w), 0, 1) - x) @ w))
        _require(gain >= 0.5 * fgsm_gain, where,
                 f"raised the linear loss w.x by {gain:.4g}, less than half of FGSM's {fgsm_gain:.4g}: "
                 f"it does not follow the gradient")
    _require(calls, label, "never asked for the gradient")
    return attack


# -- pytest plugin ------------------------------------------------------------------------

try:  # the checks are plain functions; the fixtures need pytest
    import pytest

    _HAVE_PYTEST = True
except ImportError:  # pragma: no cover
    _HAVE_PYTEST = False

if _HAVE_PYTEST:

    @pytest.fixture
    def qenc_contracts() -> SimpleNamespace:
        """The contract checks: ``encoder``, ``dataset``, ``backend``, ``attack``."""
        return SimpleNamespace(encoder=check_encoder, dataset=check_dataset, backend=check_backend,
                               attack=check_attack)

    @pytest.fixture
    def qenc_registry():
        """A registry of every installed plugin (a fresh plugin manager)."""
        from ..plugins import load_registry

        return load_registry()

    @pytest.fixture(scope="session")
    def qenc_digits() -> PreparedData:
        """The small prepared digits set :func:`check_encoder` fits on."""
        return small_digits()
