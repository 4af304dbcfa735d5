"""Noise specifications shared by every backend.

Convention (stated once, used everywhere): at level ``p``,

- after every single-qubit gate, a single-qubit depolarizing channel with Pauli-error
  probability ``p``: rho -> (1 - p) rho + p/3 (X rho X + Y rho Y + Z rho Z). This is
  PennyLane's ``DepolarizingChannel(p)`` and Qiskit Aer's ``depolarizing_error(4p/3, 1)``;
- after every two-qubit gate, a two-qubit depolarizing channel with Pauli-error probability
  ``p``: each of the 15 non-identity two-qubit Paulis with probability p/15. This is Aer's
  ``depolarizing_error(16p/15, 2)``.

State preparation and measurement are noiseless.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError


@dataclass(frozen=True)
class Depolarizing:
    """Depolarizing noise after every gate at Pauli-error probability ``p`` (see module doc)."""

    p: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 0.75:
            raise ConfigError(f"depolarizing probability must be in [0, 0.75], got {self.p}")

    @property
    def label(self) -> str:
        return f"depolarizing:{self.p:g}"

    @property
    def aer_lambda_1q(self) -> float:
        return 4.0 * self.p / 3.0

    @property
    def aer_lambda_2q(self) -> float:
        return 16.0 * self.p / 15.0


@dataclass(frozen=True)
class DeviceNoise:
    """The noise model of a device (e.g. ``FakeFez``), run by the ``ibm`` backend: the
    circuit transpiled to the device and sampled with its noise model and shots."""

    device: str

    @property
    def label(self) -> str:
        return f"device:{self.device}"


def parse_noise(text: str) -> list[Depolarizing | DeviceNoise]:
    """``depolarizing:0.03,0.05,0.10`` -> one :class:`Depolarizing` per level;
    ``device:FakeFez`` -> a :class:`DeviceNoise`."""
    kind, _, levels = text.partition(":")
    if kind == "device" and levels.strip():
        return [DeviceNoise(levels.strip())]
    if kind != "depolarizing" or not levels:
        raise ConfigError(
            f"unknown noise {text!r}; use depolarizing:P[,P...] (e.g. depolarizing:0.03,0.05) or device:NAME "
            f"(e.g. device:FakeFez)"
        )
    try:
        return [Depolarizing(float(v)) for v in levels.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"noise levels must be numbers, got {levels!r}") from None
