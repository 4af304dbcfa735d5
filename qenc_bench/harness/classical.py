"""The classical reference rows: each classical model trained on the seed's grid features (the
ones angle encoding reads) and training split, and evaluated on its test split, so a reader
sees whether any encoder is worth its qubits (Bowles, Ahmed and Schuld 2024)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..prepare import PreparedData
from ..results.records import CLASSICAL, RunRecord
from ..specs import ClassicalSpec


def classical_record(name: str, spec: ClassicalSpec, data: PreparedData, config_dataset: str, seed: int,
                     options: dict[str, Any] | None = None) -> RunRecord:
    """Fit one classical model on the seed's training split and score it on its test split."""
    try:
        model = spec.factory(seed=seed, **(options or {}))
    except TypeError as exc:
        raise ConfigError(f"classical model {name!r}: {exc}") from None
    started = time.perf_counter()
    model.fit(data.train.x, data.train.y)
    trained = time.perf_counter()
    predicted = np.asarray(model.predict(data.test.x), dtype=np.int64)
    validation = float(np.mean(np.asarray(model.predict(data.validation.x)) == data.validation.y))
    done = time.perf_counter()
    iterations = getattr(model, "n_iter_", None)
    epochs = int(np.max(iterations)) if iterations is not None else 0
    converged = bool(getattr(model, "converged_", True))
    describe = getattr(model, "describe", None)
    return RunRecord(
        dataset=config_dataset, classes=data.classes, encoder=name, seed=seed, model=name,
        backend="scikit-learn", train_backend="scikit-learn", kind=CLASSICAL,
        accuracy=float(np.mean(predicted == data.test.y)), entropy=None, validation_accuracy=validation,
        n_qubits=0, two_qubit_gates=0, depth=0, epochs=epochs, converged=converged,
        timings={"train": trained - started, "evaluate": done - trained},
        engines={"train": "scikit-learn", "evaluate": "scikit-learn"},
        samples={"split": data.test_split, "index": np.asarray(data.test.index).tolist(),
                 "label": data.test.y.tolist(), "prediction": predicted.tolist()},
        encoder_info=describe() if callable(describe) else {"estimator": repr(model)},
        sizes=data.sizes(), requested_sizes=dict(data.requested_sizes), grid=data.grid,
    )
