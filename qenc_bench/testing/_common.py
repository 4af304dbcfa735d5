"""What every contract check shares: failing with a message that names the component, the
small digits set, the plugin registry."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from ..encoders import Encoder
from ..prepare import PreparedData, prepare

#: the step of every central finite difference a check takes
FD_STEP = 1e-5

def _fail(component: str, message: str) -> AssertionError:
    return AssertionError(f"{component}: {message}")


def _require(condition: Any, component: str, message: str) -> None:
    if not condition:
        raise _fail(component, message)


@contextmanager
def _step(component: str, what: str) -> Iterator[None]:
    """Turn an exception raised by the component into an AssertionError naming the step."""
    try:
        yield
    except AssertionError:
        raise
    except Exception as exc:
        raise _fail(component, f"{what} raised {type(exc).__name__}: {exc}") from exc


def _spec_name(spec: Any, default: str) -> str:
    name = getattr(spec, "name", None)
    return name if isinstance(name, str) else getattr(spec, "__name__", default)


@lru_cache(maxsize=1)
def _registry():
    from ..plugins import load_registry

    return load_registry()


@lru_cache(maxsize=1)
def small_digits() -> PreparedData:
    """scikit-learn's digits (the registered ``digits`` dataset), classes 0 and 1, grid 3
    (9 features), 40 train / 20 test, seed 0."""
    raw = _registry().get("dataset", "digits").factory().load(None)
    return prepare(raw, (0, 1), grid=3, train_size=40, test_size=20, seed=0)


def _deterministic_score(encoder: Encoder) -> float:
    """A stand-in for validation accuracy that trains nothing: a fixed function of the candidate."""
    return 0.5 + 0.01 * (int(getattr(encoder, "n_qubits", 0) or 0) % 50)
