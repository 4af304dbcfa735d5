"""The plugin manager and the component registry.

:func:`get_plugin_manager` builds a fresh :class:`pluggy.PluginManager` for each run (never a
module global): hook specifications, blocked plugins, the ``qenc_bench`` entry-point group
(built-in plugins are listed there exactly like third-party ones), ``check_pending()``.
:class:`Registry` collects what every plugin registers, per kind, rejecting duplicate names.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Literal, overload

import pluggy

from . import hookspecs
from .errors import DuplicateComponentError, PluginLoadError, UnknownComponentError
from .specs import (
    SPEC_TYPES,
    AttackSpec,
    BackendSpec,
    ClassicalSpec,
    CommandSpec,
    ComponentSpec,
    DatasetSpec,
    EncoderSpec,
    MetricSpec,
    ModelSpec,
    ReporterSpec,
)

ENTRY_POINT_GROUP = "qenc_bench"
DISABLE_ENV = "QENC_BENCH_DISABLE_PLUGINS"

_HOOKS = {
    "dataset": "qenc_bench_register_datasets",
    "encoder": "qenc_bench_register_encoders",
    "backend": "qenc_bench_register_backends",
    "attack": "qenc_bench_register_attacks",
    "model": "qenc_bench_register_models",
    "command": "qenc_bench_register_commands",
    "reporter": "qenc_bench_register_reporters",
    "classical": "qenc_bench_register_classical",
    "metric": "qenc_bench_register_metrics",
}
KINDS = tuple(_HOOKS)


def _disabled_from_env() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


class PluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers which distribution each plugin came from."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.distributions: dict[str, tuple[str, str]] = {}

    def distribution_of(self, plugin_name: str) -> tuple[str, str]:
        """(distribution name, version), or ("-", "-") for a plugin registered by hand."""
        return self.distributions.get(plugin_name, ("-", "-"))


def get_plugin_manager(
    disable: Iterable[str] = (), *, load_entrypoints: bool = True
) -> PluginManager:
    """Build a fresh plugin manager with every installed plugin loaded.

    :param disable: entry-point names not to load (also read from ``QENC_BENCH_DISABLE_PLUGINS``,
        comma separated).
    :param load_entrypoints: ``False`` gives a manager with only the hook specifications,
        for tests that register plugins by hand.
    :raises PluginLoadError: a plugin fails to import or implements a hook that does not exist.
    """
    pm = PluginManager()
    for name in set(disable) | _disabled_from_env():
        pm.set_blocked(name)
    if load_entrypoints:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "unknown distribution"
            if pm.is_blocked(ep.name):
                continue
            if pm.get_plugin(ep.name) is not None:
                other = " ".join(pm.distribution_of(ep.name))
                if other == dist:  # the same distribution seen twice on the path
                    continue
                raise PluginLoadError(
                    f"two plugins are named {ep.name!r}: one from {other} and one from {dist}; "
                    f"rename the entry point of one, or disable it with --disable-plugin {ep.name}"
                )
            try:
                plugin = ep.load()
            except Exception as exc:  # an import error of someone else's code: name it
                raise PluginLoadError(
                    f"plugin {ep.name!r} ({dist}) failed to import: {type(exc).__name__}: {exc}; "
                    f"disable it with --disable-plugin {ep.name} or {DISABLE_ENV}={ep.name}"
                ) from exc
            try:
                pm.register(plugin, name=ep.name)
            except pluggy.PluginValidationError as exc:
                detail = "; ".join(str(exc).splitlines())
                raise PluginLoadError(
                    f"plugin {ep.name!r} ({dist}) is invalid: {detail}; "
                    f"disable it with --disable-plugin {ep.name} or {DISABLE_ENV}={ep.name}"
                ) from exc
            if ep.dist is not None:
                pm.distributions[ep.name] = (ep.dist.name, ep.dist.version)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = (pm.get_name(exc.plugin) if exc.plugin is not None else None) or "?"
        raise PluginLoadError(
            f"plugin {name!r} {exc}; disable it with --disable-plugin {name}"
        ) from exc
    return pm


@dataclass(frozen=True)
class Registered:
    spec: ComponentSpec
    plugin: str
    distribution: str
    version: str = "-"


@dataclass
class Registry:
    """Every component registered by the loaded plugins, by kind and name."""

    components: dict[str, dict[str, Registered]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )

    @classmethod
    def from_plugin_manager(cls, pm: PluginManager) -> Registry:
        registry = cls()
        for kind, hook_name in _HOOKS.items():
            for impl in getattr(pm.hook, hook_name).get_hookimpls():
                dist, version = pm.distribution_of(impl.plugin_name)
                register = registry._register_callback(kind, impl.plugin_name, dist, version)
                kwargs = {"register": register}
                impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
        return registry

    def _register_callback(self, kind: str, plugin: str, dist: str, version: str = "-"):
        expected = SPEC_TYPES[kind]

        def register(spec: Any) -> None:
            if not isinstance(spec, expected):
                raise PluginLoadError(
                    f"plugin {plugin!r} ({dist}) registered {type(spec).__name__} as a {kind}; "
                    f"expected {expected.__name__}"
                )
            self.add(spec, plugin=plugin, distribution=dist, version=version)

        return register

    def add(self, spec: ComponentSpec, *, plugin: str, distribution: str = "-", version: str = "-") -> None:
        table = self.components[spec.kind]
        if spec.name in table:
            other = table[spec.name]
            raise DuplicateComponentError(
                f"{spec.kind} {spec.name!r} is registered twice: by plugin {other.plugin!r} "
                f"({other.distribution}) and by plugin {plugin!r} ({distribution}); "
                f"disable one with --disable-plugin NAME"
            )
        table[spec.name] = Registered(spec, plugin, distribution, version)

    @overload
    def get(self, kind: Literal["dataset"], name: str) -> DatasetSpec: ...
    @overload
    def get(self, kind: Literal["encoder"], name: str) -> EncoderSpec: ...
    @overload
    def get(self, kind: Literal["backend"], name: str) -> BackendSpec: ...
    @overload
    def get(self, kind: Literal["attack"], name: str) -> AttackSpec: ...
    @overload
    def get(self, kind: Literal["model"], name: str) -> ModelSpec: ...
    @overload
    def get(self, kind: Literal["classical"], name: str) -> ClassicalSpec: ...
    @overload
    def get(self, kind: Literal["reporter"], name: str) -> ReporterSpec: ...
    @overload
    def get(self, kind: Literal["command"], name: str) -> CommandSpec: ...
    @overload
    def get(self, kind: Literal["metric"], name: str) -> MetricSpec: ...
    @overload
    def get(self, kind: str, name: str) -> ComponentSpec: ...

    def get(self, kind: str, name: str) -> ComponentSpec:
        """The spec of ``kind`` called ``name``; unknown names list the known ones."""
        try:
            return self.components[kind][name].spec
        except KeyError:
            raise UnknownComponentError(kind, name, self.components[kind]) from None

    def plugin_versions(self) -> dict[str, dict[str, str]]:
        """Every plugin that registered something: its distribution and version."""
        return {
            e.plugin: {"distribution": e.distribution, "version": e.version}
            for table in self.components.values() for e in table.values()
        }

    def names(self, kind: str) -> list[str]:
        return sorted(self.components[kind])

    def entries(self, kind: str) -> list[Registered]:
        return [self.components[kind][n] for n in self.names(kind)]


def load_registry(disable: Iterable[str] = ()) -> Registry:
    """A registry built from a fresh plugin manager with every installed plugin."""
    return Registry.from_plugin_manager(get_plugin_manager(disable))
