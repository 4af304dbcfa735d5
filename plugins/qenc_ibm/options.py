"""The ``ibm`` backend's options, checked before anything is built, and the Runtime estimator
they configure.

Hardware runs through qiskit-ibm-runtime's current estimator: the client-side
``executor_estimator.Estimator`` (0.50 and later), or the server-side ``EstimatorV2`` with
``estimator=v2`` and on 0.40 to 0.49, where it is the only one (0.50 deprecated it). Each
validates ``estimator_options`` with its own ``EstimatorOptions`` model, so dynamical
decoupling, twirling, the ZNE extrapolator and job tags are the runtime's own names.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qenc_bench import ConfigError

DEFAULT_DEVICE = "FakeFez"
DEFAULT_SHOTS = 4000
FAKE_PREFIX = "Fake"
MODES = ("batch", "session", "job")
ESTIMATORS = ("auto", "client", "v2")
SIMULATION_METHODS = ("auto", "density_matrix", "statevector")
#: how long a job may take to finish (queue included) before the run stops waiting for it
DEFAULT_RESULT_TIMEOUT = 3600.0
#: the service's own cap on a job's execution time
MAX_EXECUTION_TIME = 10800
#: options the backend sets from its own (``--shots``): refused inside estimator_options
_OWN = {"default_shots": "--shots", "default_precision": "--shots"}


def _positive_int(value: Any) -> bool:
    return bool(not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= 1)


def parse_estimator_options(value: Any) -> dict[str, Any]:
    """``--backend-option estimator_options=JSON``: a JSON object (or a dict in Python)."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ConfigError(f"estimator_options is not valid JSON ({exc}); give a JSON object such as "
                              f"'{{\"dynamical_decoupling\": {{\"enable\": true}}}}'") from None
    if not isinstance(value, dict):
        raise ConfigError(f"estimator_options must be a JSON object, got {type(value).__name__}")
    for key, flag in _OWN.items():
        if key in value:
            raise ConfigError(f"estimator_options sets {key}; the backend sets it from {flag}: use {flag}")
    return dict(value)


@dataclass(frozen=True)
class IBMSettings:
    """Every option of :class:`~qenc_ibm.backend.IBMBackend` but the service, validated.

    ``resilience_level`` and ``max_execution_time`` may come from the backend option or from
    ``estimator_options`` (not both, unless equal); :attr:`resilience` is the level used.
    """

    device: str = DEFAULT_DEVICE
    shots: int | None = None
    optimization_level: int = 1
    resilience_level: int | None = None
    seed: int | None = None
    noise: bool = True
    mode: str = "batch"
    account_file: str | None = None
    estimator_options: dict[str, Any] = field(default_factory=dict)
    estimator: str = "auto"
    max_execution_time: int | None = None
    result_timeout: float = DEFAULT_RESULT_TIMEOUT
    retries: int = 3
    job_journal: Path | None = None
    dry_run: bool = False
    simulation_method: str = "auto"
    layout_trials: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.device, str) or not self.device:
            raise ConfigError(f"device must be a device name such as {DEFAULT_DEVICE} or ibm_fez, got {self.device!r}")
        for name in ("noise", "dry_run"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.shots is not None and not _positive_int(self.shots):
            raise ConfigError(f"shots must be a positive integer, got {self.shots!r}")
        if self.optimization_level not in (0, 1, 2, 3) or isinstance(self.optimization_level, bool):
            raise ConfigError(f"optimization_level must be 0, 1, 2 or 3, got {self.optimization_level!r}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer))):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}")
        for name, allowed in (("mode", MODES), ("estimator", ESTIMATORS), ("simulation_method", SIMULATION_METHODS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not _positive_int(self.layout_trials):
            raise ConfigError(f"layout_trials must be a positive integer, got {self.layout_trials!r}")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ConfigError(f"retries must be a non-negative integer, got {self.retries!r}")
        if isinstance(self.result_timeout, bool) or not isinstance(self.result_timeout, (int, float)) \
                or not self.result_timeout > 0:
            raise ConfigError(f"result_timeout must be a positive number of seconds, got {self.result_timeout!r}")
        object.__setattr__(self, "estimator_options", parse_estimator_options(self.estimator_options))
        self._merge("resilience_level", self.resilience_level)
        self._merge("max_execution_time", self.max_execution_time)
        level = self.resilience
        if level not in (0, 1, 2) or isinstance(level, bool):
            raise ConfigError(f"resilience_level must be 0, 1 or 2, got {level!r}")
        limit = self.execution_limit
        if limit is not None and (not _positive_int(limit) or limit > MAX_EXECUTION_TIME):
            raise ConfigError(f"max_execution_time must be 1 to {MAX_EXECUTION_TIME} seconds (the service's cap), "
                              f"got {limit!r}")
        if self.local:
            self._check_local()
        elif not self.noise:
            raise ConfigError(f"noise=False needs a fake device (e.g. {DEFAULT_DEVICE}); {self.device} is hardware")
        if not self.noise and self.shots is not None:
            raise ConfigError("noise=False gives exact expectation values; leave shots out")

    def _merge(self, key: str, value: Any) -> None:
        given = self.estimator_options.get(key)
        if value is not None and given is not None and value != given:
            raise ConfigError(f"{key}={value} and estimator_options {key}={given} disagree; give it once")

    def _check_local(self) -> None:
        if self.resilience:
            raise ConfigError(
                f"resilience_level={self.resilience} is applied by IBM Quantum's service; a fake device runs locally "
                f"without error mitigation: leave it out or set 0"
            )
        if self.estimator_options:
            raise ConfigError(
                "estimator_options are applied by IBM Quantum's service; a fake device runs Aer locally without "
                "them (check them offline with dry_run=true on the device's name)"
            )
        if self.dry_run:
            raise ConfigError("dry_run=true previews hardware jobs; a fake device submits nothing anyway")

    # --- what the options mean --------------------------------------------------------------
    @property
    def local(self) -> bool:
        return self.device.startswith(FAKE_PREFIX)

    @property
    def shots_used(self) -> int | None:
        """Shots per value; ``None`` when exact (``noise=False``)."""
        if not self.noise:
            return None
        return int(self.shots) if self.shots is not None else DEFAULT_SHOTS

    @property
    def resilience(self) -> int:
        """The resilience level used: asked for, or 0 (no mitigation) by default."""
        level = self.estimator_options.get("resilience_level", self.resilience_level)
        return 0 if level is None else level

    @property
    def execution_limit(self) -> int | None:
        """``max_execution_time`` asked for (``None``: set per job from its estimate)."""
        return self.estimator_options.get("max_execution_time", self.max_execution_time)

    def zne_factor(self) -> int:
        """How many noise-scaled copies ZNE runs of each circuit (1 without ZNE)."""
        resilience = self.estimator_options.get("resilience", {})
        zne = resilience.get("zne_mitigation", self.resilience >= 2)
        if not zne:
            return 1
        factors = resilience.get("zne", {}).get("noise_factors")
        return len(factors) if isinstance(factors, (list, tuple)) else 3

    def job_limit(self, estimated_seconds: float) -> int:
        """``max_execution_time`` of a job estimated to take ``estimated_seconds``: the option,
        or three times the estimate (at least 5 minutes, at most the service's 3 hours)."""
        if self.execution_limit is not None:
            return int(self.execution_limit)
        return int(min(MAX_EXECUTION_TIME, max(300, math.ceil(3 * estimated_seconds))))


def hardware_measurement(device: str, shots: int | None, resilience: int, estimator_options: dict[str, Any]) -> str:
    """How hardware numbers were measured (:attr:`~qenc_bench.Backend.measurement`): what
    may be ranked together is the same device, shots, mitigation and estimator options."""
    options = f", options={json.dumps(estimator_options, sort_keys=True)}" if estimator_options else ""
    return f"{device}, shots={shots}, resilience_level={resilience}{options}"


def estimator_kind(requested: str) -> str:
    """``client`` (``executor_estimator.Estimator``) or ``v2`` (``EstimatorV2``)."""
    if requested != "auto":
        if requested == "client" and not has_client_estimator():
            raise ConfigError("estimator=client needs qiskit-ibm-runtime 0.50 or later; use estimator=v2 or upgrade")
        return requested
    return "client" if has_client_estimator() else "v2"


def has_client_estimator() -> bool:
    """Whether the runtime has the client-side ``executor_estimator.Estimator`` and its options
    model (0.50 and later; 0.49 has an experimental module of that name with other classes)."""
    try:
        from qiskit_ibm_runtime.executor_estimator import Estimator  # noqa: F401
        from qiskit_ibm_runtime.options_models import EstimatorOptions  # noqa: F401
    except ImportError:
        return False
    return True


def options_model(kind: str) -> type:
    if kind == "client":
        from qiskit_ibm_runtime.options_models import EstimatorOptions
    else:
        from qiskit_ibm_runtime.options import EstimatorOptions
    return EstimatorOptions


def runtime_options(settings: IBMSettings, kind: str) -> Any:
    """The estimator's options, validated by the runtime's ``EstimatorOptions``: the user's
    ``estimator_options`` with the shots and the resilience level used."""
    merged = {**settings.estimator_options, "default_shots": settings.shots_used, "resilience_level": settings.resilience}
    model = options_model(kind)
    try:
        with warnings.catch_warnings():  # the deprecated nested max_execution_time warns; it still works
            warnings.simplefilter("ignore", DeprecationWarning)
            return model(**merged)
    except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"estimator_options: {validation_message(exc)}") from None


def validation_message(exc: Exception) -> str:
    """A pydantic validation error as one line: the first field and why, and how many more."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        found = errors()
        if found:
            first = found[0]
            # the field path, without pydantic's validator and class names
            where = ".".join(str(part) for part in first.get("loc", ())
                             if isinstance(part, int) or (str(part).isidentifier() and str(part)[:1].islower()))
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            return f"{where or 'options'}: {first.get('msg', 'invalid')}{more}"
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
