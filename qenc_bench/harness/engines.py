"""Which backend runs what: the engine for each circuit and task, from the backends' declared
capabilities and auto policies, never from their names.

A task is training (gradients, or none for COBYLA), clean evaluation (values and entropy),
noisy evaluation (``--noise``), an attack's input gradient, or a device's noise model. A named
``--backend`` / ``--train-backend`` runs its tasks (or fails before training, saying why);
``auto`` tries the backends that declare an :class:`~qenc_bench.AutoPolicy` in priority order
and takes the first that is installed, whose qubit range holds the circuit, that has the
capabilities the task needs and whose instance accepts the circuit (``check``, and
``check_noise`` for noise). Backends are built only when first chosen, so a comparison the
``exact`` backend covers imports no simulator SDK.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..backends import Backend
from ..circuit import Circuit
from ..errors import ConfigError, IncompatibleComponentsError, MissingDependencyError, UnknownComponentError
from ..specs import BackendSpec
from .config import AUTO, AUTO_OPTIONS, CompareConfig

DEVICE_BACKEND = "ibm"  # the backend whose factory takes a device name for --noise device:NAME


@dataclass(frozen=True)
class Engine:
    """A built backend and the name it is registered under (what records say ran)."""

    name: str
    backend: Backend


@dataclass(frozen=True)
class Task:
    """What a circuit needs of its engine."""

    name: str
    gradients: bool = False
    input_gradients: bool = False
    noise: bool = False
    shots: bool = False
    states: bool = False

    def lacking(self, spec: BackendSpec) -> list[str]:
        caps = spec.capabilities
        wanted = {"gradients": self.gradients, "input gradients": self.input_gradients, "noise": self.noise,
                  "shots": self.shots, "statevectors": self.states}
        have = {"gradients": caps.gradients, "input gradients": caps.input_gradients, "noise": caps.noise,
                "shots": caps.shots, "statevectors": caps.states}
        return [k for k, want in wanted.items() if want and not have[k]]


def auto_order(specs: Mapping[str, BackendSpec], role: str) -> list[str]:
    """The backends ``auto`` may choose for ``role`` (``"train"`` or ``"evaluate"``), in order."""
    chosen = [s for s in specs.values() if s.auto is not None and getattr(s.auto, role)]
    return [s.name for s in sorted(chosen, key=lambda s: (s.auto.priority, s.name))]  # type: ignore[union-attr]


class Engines:
    """Chooses and builds the backends of one comparison (one instance per run of the harness).

    :param specs: every registered backend spec (only the chosen ones are built).
    :param job_journal: where backends that run remote jobs log each job (their factory gets it).
    """

    def __init__(self, specs: Mapping[str, BackendSpec], config: CompareConfig, *,
                 job_journal: str | os.PathLike | None = None):
        self.specs, self.config = dict(specs), config
        self.job_journal = Path(job_journal) if job_journal is not None else None
        self._built: dict[str, Backend] = {}
        self._choices: dict[tuple, Engine] = {}
        #: what ``auto`` passed over only because it is not installed, for the user: one line each
        self.hints: list[str] = []
        self.gradient_free = config.training.optimizer == "cobyla"

    # --- building ---------------------------------------------------------------------------
    def _options(self, name: str, role: str) -> dict[str, Any]:
        """The factory options of ``name`` in ``role``: the ``--backend`` options go to the
        evaluation backend (under ``auto``, only ``shots``); a training backend gets them only when
        it is the named evaluation backend too, so training is shot-free unless asked."""
        c = self.config
        if role == "train" and not (name == c.train_backend == c.backend or
                                    (self.gradient_free and c.train_backend == AUTO and name == c.backend)):
            options: dict[str, Any] = {}
        elif name == c.backend:
            options = dict(c.backend_options)
        elif c.backend == AUTO:
            options = {k: v for k, v in c.backend_options.items() if k in AUTO_OPTIONS}
        else:
            options = {}
        if self.specs[name].capabilities.remote_jobs and self.job_journal is not None:
            options["job_journal"] = str(self.job_journal)
        return options

    def build(self, name: str, role: str = "evaluate", **extra: Any) -> Backend:
        spec = self.specs.get(name)
        if spec is None:
            raise UnknownComponentError("backend", name, self.specs)
        options = {**self._options(name, role), **extra}
        key = f"{name}:{sorted(options.items())}"
        if key not in self._built:
            try:
                self._built[key] = spec.factory(**options)
            except TypeError as exc:
                raise ConfigError(f"backend {name!r} does not take these options: {exc}") from None
        return self._built[key]

    def built(self) -> dict[str, Backend]:
        return dict(self._built)

    def close(self) -> None:
        """Close every built backend (a hardware batch or session); called when a run ends."""
        for backend in self._built.values():
            backend.close()

    # --- choosing ---------------------------------------------------------------------------
    def _why_not(self, name: str, role: str, circuit: Circuit, task: Task, *, auto: bool) -> str | None:
        spec = self.specs[name]
        missing = task.lacking(spec)
        if missing:
            return f"{name} has no {' or '.join(missing)}"
        if auto:
            if not spec.installed():
                return f"{name} is not installed ({', '.join(spec.requires)})"
            if task.noise and not spec.auto.noise:  # type: ignore[union-attr]
                return f"{name} leaves noise to faster simulators under auto"
            if not spec.auto.admits(circuit.n_qubits):  # type: ignore[union-attr]
                return f"{name} takes {spec.auto.min_qubits}..{spec.auto.max_qubits or 'any'} qubits under auto"  # type: ignore[union-attr]
        if circuit.n_qubits > spec.capabilities.max_qubits:
            return f"{name} runs at most {spec.capabilities.max_qubits} qubits"
        try:
            backend = self.build(name, role)
            backend.check(circuit)
            if task.noise:
                backend.check_noise(circuit)
        except (IncompatibleComponentsError, MissingDependencyError) as exc:
            if not auto:
                raise
            return str(exc)
        return None

    def _choose(self, requested: str, role: str, circuit: Circuit, task: Task) -> Engine:
        key = (requested, role, circuit, task)
        if key in self._choices:
            return self._choices[key]
        if requested != AUTO:
            if requested not in self.specs:
                raise UnknownComponentError("backend", requested, self.specs)
            reason = self._why_not(requested, role, circuit, task, auto=False)
            if reason is not None:
                raise IncompatibleComponentsError(f"backend {requested!r} cannot do the {task.name} of this "
                                                  f"{circuit.n_qubits}-qubit circuit: {reason}")
            engine = Engine(requested, self.build(requested, role))
        else:
            reasons: list[str] = []
            missing: list[str] = []
            for name in auto_order(self.specs, role):
                reason = self._why_not(name, role, circuit, task, auto=True)
                if reason is None:
                    engine = Engine(name, self.build(name, role))
                    if missing:
                        self._hint(f"auto ran the {task.name} of a {circuit.n_qubits}-qubit circuit on {name}; "
                                   f"{' and '.join(missing)}, tried first, is not installed (docs/engines.md)")
                    break
                reasons.append(reason)
                if not self.specs[name].installed() and not task.lacking(self.specs[name]):
                    missing.append(name)
            else:
                raise IncompatibleComponentsError(
                    f"no installed backend can do the {task.name} of this {circuit.n_qubits}-qubit circuit "
                    f"({'; '.join(reasons) or 'no backend declares an auto policy'})")
        self._choices[key] = engine
        return engine

    def _hint(self, line: str) -> None:
        if line not in self.hints:
            self.hints.append(line)

    @property
    def shots(self) -> bool:
        return bool(self.config.backend_options.get("shots"))

    def evaluation(self, circuit: Circuit) -> Engine:
        """Clean values and entropy of the trained model."""
        return self._choose(self.config.backend, "evaluate", circuit, Task("evaluation", shots=self.shots))

    def noisy(self, circuit: Circuit) -> Engine:
        """The depolarizing levels of ``--noise``."""
        return self._choose(self.config.backend, "evaluate", circuit, Task("noisy evaluation", noise=True,
                                                                             shots=self.shots))

    def training(self, circuit: Circuit) -> Engine:
        if self.gradient_free and self.config.train_backend == AUTO:
            return self.evaluation(circuit)  # COBYLA trains where the model runs (hardware, as the paper)
        return self._choose(self.config.train_backend, "train", circuit,
                            Task("training", gradients=not self.gradient_free))

    def attack(self, circuit: Circuit) -> Engine:
        """Input gradients for attacks and adversarial training: the training engine when it has
        them, else the evaluation engine; only when training is ``auto``, else the first engine
        that has them. Named backends that have none are refused, not replaced."""
        engines = [self.training(circuit)]
        if not self.config.adversarial_training:
            engines.append(self.evaluation(circuit))
        for engine in engines:
            if self.specs[engine.name].capabilities.input_gradients:
                return engine
        able = [n for n, s in self.specs.items() if s.capabilities.input_gradients]
        if self.config.train_backend != AUTO:
            raise IncompatibleComponentsError(
                f"attacks need input gradients and neither --train-backend {self.config.train_backend} nor "
                f"--backend {self.config.backend} gives them; backends with input gradients: {', '.join(able)}")
        return self._choose(AUTO, "train", circuit, Task("attack gradient", input_gradients=True))

    def states(self, circuit: Circuit) -> Engine:
        """Full statevectors (encoding metrics): the fastest installed engine that gives them."""
        return self._choose(AUTO, "evaluate", circuit, Task("statevector", states=True))

    def device(self, device: str) -> Engine:
        """A device's noise model (``--noise device:NAME``), with ``--shots`` when given."""
        if DEVICE_BACKEND not in self.specs:
            raise UnknownComponentError("backend", DEVICE_BACKEND, self.specs)
        shots = self.config.backend_options.get("shots")
        return Engine(f"{DEVICE_BACKEND}:{device}",
                      self.build(DEVICE_BACKEND, "evaluate", device=device, **({"shots": shots} if shots else {})))

    def check(self, circuit: Circuit) -> None:
        """Choose every engine the circuit will need, so a refusal comes before any training."""
        self.evaluation(circuit)
        if self.config.noise:
            self.noisy(circuit)
        self.training(circuit)
        if self.config.attacks or self.config.adversarial_training:
            self.attack(circuit)
        for device in self.config.device_noise:
            self.device(device).backend.check(circuit)
