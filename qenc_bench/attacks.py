"""Adversarial attacks on the input pixels, and the input gradient they need.

An attack perturbs samples x in [0, 1]^d within an L-infinity ball of radius ``eps`` to raise
the model's loss. The loss attacked is the margin loss ``-y f(x)`` (y = +-1, f = <Z>): the
hinge loss used for training is flat beyond the margin, so its gradient would hide every
confidently classified sample from a gradient attack; the margin loss has the same sign of
gradient wherever the hinge loss has one, and a gradient everywhere else.

The gradient w.r.t. the pixels is taken through the circuit and the encoder: the backend's
vector-Jacobian product w.r.t. the circuit's feature parameters (exact closed form, backprop,
or the parameter-shift rule), pulled back by the encoder's ``input_vjp``. Encoders without an
``input_vjp`` fall back to a central finite-difference estimate over the pixels, named as
such in the record. Pixels an encoder ignores (ATP's pruned pixels) get a zero gradient and
are never moved by FGSM or PGD.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .backends import Backend
from .circuit import Circuit
from .encoders import Encoder
from .errors import ConfigError, IncompatibleComponentsError

GradientFn = Callable[[np.ndarray], np.ndarray]

FD_STEP = 1e-4


class Attack(ABC):
    """An attack plugin's component."""

    name: str = "attack"

    @abstractmethod
    def perturb(self, x: np.ndarray, gradient: GradientFn, eps: float, rng: np.random.Generator) -> np.ndarray:
        """Adversarial samples (N, d) in [0, 1] with ``|x' - x|_inf <= eps``.

        :param gradient: ``gradient(x)`` is d(loss)/dx (N, d) of the attacked model, batched.
        """


def check_eps(eps: float) -> float:
    eps = float(eps)
    if not 0.0 <= eps <= 1.0:
        raise ConfigError(f"attack eps must be in [0, 1] (pixels are in [0, 1]), got {eps:g}")
    return eps


def project(x_adv: np.ndarray, x: np.ndarray, eps: float) -> np.ndarray:
    """Into the eps ball around x and into [0, 1]."""
    return np.clip(np.clip(x_adv, x - eps, x + eps), 0.0, 1.0)


@dataclass(frozen=True)
class AttackSetting:
    """One attack as asked for on the command line: a name, its eps values and options."""

    name: str
    eps: tuple[float, ...]
    options: tuple[tuple[str, object], ...] = ()

    def labels(self) -> list[str]:
        """``name:eps``, with the options appended when there are any (``pgd:0.1:steps=20``)."""
        options = ",".join(f"{k}={v}" for k, v in self.options)
        return [f"{self.name}:{e:g}" + (f":{options}" if options else "") for e in self.eps]

    def to_dict(self) -> dict:
        return {"name": self.name, "eps": list(self.eps), "options": dict(self.options)}


def _option_value(text: str) -> object:
    low = text.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_attack(text: str) -> AttackSetting:
    """``fgsm:0.1,0.3`` or ``pgd:0.1:steps=20,random_start=false``."""
    parts = text.split(":")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ConfigError(f"attack {text!r}: use NAME:EPS[,EPS...][:key=value,...], e.g. fgsm:0.1,0.3")
    try:
        eps = tuple(check_eps(float(v)) for v in parts[1].split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"attack {text!r}: eps values must be numbers") from None
    if not eps:
        raise ConfigError(f"attack {text!r}: give at least one eps, e.g. {parts[0]}:0.1")
    options = []
    if len(parts) > 2:
        for item in ":".join(parts[2:]).split(","):
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"attack {text!r}: options are key=value, got {item!r}")
            options.append((key.strip().replace("-", "_"), _option_value(value.strip())))
    return AttackSetting(parts[0].strip(), eps, tuple(options))


def margin_gradient_fn(
    encoder: Encoder, circuit: Circuit, backend: Backend, weights: np.ndarray, labels: np.ndarray
) -> tuple[GradientFn, str]:
    """``gradient(x)`` of the margin loss ``-y f(x)`` w.r.t. the pixels, and how it is computed."""
    y = 2.0 * np.asarray(labels, dtype=np.float64) - 1.0

    def has_input_vjp() -> bool:
        return type(encoder).input_vjp is not Encoder.input_vjp

    if has_input_vjp():
        if not backend.capabilities.input_gradients:
            raise IncompatibleComponentsError(
                f"backend {backend.name!r} gives no gradients w.r.t. inputs, which attacks need; "
                f"choose a backend whose capabilities include input gradients ('qenc-bench list backends')"
            )
        method = getattr(backend, "input_gradient_method", "backend gradient")

        def gradient(x: np.ndarray) -> np.ndarray:
            features = encoder.transform(x)
            _, vjp = backend.expval_vjp(circuit, features, weights, features_grad=True)
            pulled = vjp(-y[: len(x)]).features
            assert pulled is not None  # asked for with features_grad=True
            return encoder.input_vjp(x, pulled)

        return gradient, method

    def finite_difference(x: np.ndarray) -> np.ndarray:
        n, d = x.shape
        shifts = np.eye(d) * FD_STEP
        plus = (x[:, None, :] + shifts[None]).reshape(n * d, d)
        minus = (x[:, None, :] - shifts[None]).reshape(n * d, d)
        values = backend.expval(circuit, encoder.transform(np.vstack([plus, minus])), weights)
        df = (values[: n * d] - values[n * d :]).reshape(n, d) / (2 * FD_STEP)
        return -y[: len(x), None] * df

    return finite_difference, f"finite-difference (central, step {FD_STEP:g}; {encoder.name} has no input gradient)"
