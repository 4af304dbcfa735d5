"""What the ``pennylane`` and ``lightning`` backends can do, and which PennyLane devices they
run on, declared without importing PennyLane (the registration and the backends read it)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from qenc_bench import Capabilities, ConfigError, IncompatibleComponentsError, MissingDependencyError

#: default.qubit with backprop holds every intermediate state of a chunk: 20 qubits at most;
#: noise runs on default.mixed (``NOISY_MAX_QUBITS``), whatever the device
CAPABILITIES = Capabilities(
    gradients=True, input_gradients=True, noise=True, entropy=True, shots=False, max_qubits=20, states=True
)
#: lightning's adjoint method holds a few states per sample: 2^24 complex128 is 256 MiB each
LIGHTNING_CAPABILITIES = Capabilities(
    gradients=True, input_gradients=True, noise=False, entropy=True, shots=False, max_qubits=24, states=True
)
#: default.mixed holds 4^n entries per sample; beyond this it is far slower than Aer
NOISY_MAX_QUBITS = 8


@dataclass(frozen=True)
class DeviceSupport:
    """A statevector device the backends run on, and how.

    :param diff_method: how gradients are taken on it (``backprop`` or ``adjoint``).
    :param broadcasts: applies a gate to a whole batch at once; other devices run one tape per
        row (PennyLane splits a broadcast tape).
    :param distribution: the package that provides it, and ``install`` how to get it.
    """

    name: str
    diff_method: str
    broadcasts: bool
    distribution: str
    install: str


DEVICES = {
    d.name: d
    for d in (
        DeviceSupport("default.qubit", "backprop", True, "pennylane", "pip install pennylane"),
        DeviceSupport("lightning.qubit", "adjoint", False, "pennylane-lightning", "pip install pennylane-lightning"),
        DeviceSupport("lightning.kokkos", "adjoint", False, "pennylane-lightning-kokkos",
                      "pip install pennylane-lightning[kokkos]"),
        DeviceSupport("lightning.gpu", "adjoint", False, "pennylane-lightning-gpu", "pip install pennylane-lightning-gpu"),
    )
}
LIGHTNING_DEVICES = tuple(name for name in DEVICES if name.startswith("lightning."))


def installed_devices() -> set[str]:
    """PennyLane device names that installed packages register (read from their metadata,
    without importing PennyLane)."""
    return {ep.name for ep in metadata.entry_points(group="pennylane.plugins")}


def device_support(name: str, backend: str, allowed: tuple[str, ...] = tuple(DEVICES)) -> DeviceSupport:
    """The support entry of device ``name`` for ``backend``, or a one-line error: an unknown
    or unsupported name lists the supported ones; a supported device that is not installed
    names the package to install."""
    if name not in allowed:
        hint = " (noise runs on default.mixed automatically)" if name == "default.mixed" else ""
        if name in installed_devices() and name not in DEVICES:
            raise IncompatibleComponentsError(
                f"backend {backend!r}: PennyLane device {name!r} is installed but is not a statevector device this "
                f"backend supports; use {', '.join(allowed)}{hint}")
        raise ConfigError(f"backend {backend!r}: unknown device {name!r}; use {', '.join(allowed)}{hint}")
    support = DEVICES[name]
    if name not in installed_devices():
        raise MissingDependencyError(support.distribution, f"PennyLane device {name!r}", support.install)
    return support
