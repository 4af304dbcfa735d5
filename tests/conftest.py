"""Fixtures shared by the test modules: a fresh plugin manager, hand-registered plugins,
fake entry points, an environment that cannot leak in, and the real shared data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from qenc_bench import plugins as plugins_module
from qenc_bench.datasets import DATA_ENV
from qenc_bench.plugins import DISABLE_ENV, ENTRY_POINT_GROUP, PluginManager, get_plugin_manager

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real data sets shared by the project (MNIST IDX files under ``mnist/``)."""
    if not (SHARED_DATA / "mnist").is_dir():
        raise RuntimeError(f"the real test data is missing: expected {SHARED_DATA / 'mnist'}")
    return SHARED_DATA


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No data directory and no disabled plugins come from the caller's environment."""
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.delenv(DISABLE_ENV, raising=False)


@pytest.fixture
def pm(clean_env) -> PluginManager:
    """A fresh plugin manager with the hook specifications and no plugin loaded."""
    return get_plugin_manager(load_entrypoints=False)


@pytest.fixture
def register_plugin(pm: PluginManager) -> Iterator[Callable[[Any, str], Any]]:
    """``register_plugin(plugin, name)`` registers a plugin on ``pm``; all are unregistered
    at teardown."""
    names: list[str] = []

    def register(plugin: Any, name: str) -> Any:
        pm.register(plugin, name=name)
        names.append(name)
        return plugin

    try:
        yield register
    finally:
        for name in names:
            if pm.get_plugin(name) is not None:
                pm.unregister(name=name)


@dataclass(frozen=True)
class FakeDistribution:
    name: str
    version: str


@dataclass(frozen=True)
class FakeEntryPoint:
    """What :mod:`qenc_bench.plugins` uses of an ``importlib.metadata.EntryPoint``."""

    name: str
    target: Any
    dist: FakeDistribution | None

    def load(self) -> Any:
        if isinstance(self.target, BaseException):
            raise self.target
        return self.target


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``fake_entry_points(name, target, dist=("acme-qenc", "2.0"))`` adds an entry point to
    the ``qenc_bench`` group, after the installed ones, as if another distribution declared
    it; ``target`` is what ``load()`` returns, or an exception it raises."""
    real = plugins_module.metadata.entry_points
    extra: list[FakeEntryPoint] = []

    def entry_points(**kwargs):  # every other caller (e.g. Qiskit's transpiler plugins) passes through
        if kwargs.get("group") != ENTRY_POINT_GROUP:
            return real(**kwargs)
        return list(real(**kwargs)) + extra

    def add(name: str, target: Any, dist: tuple[str, str] | None = ("acme-qenc", "2.0")) -> None:
        extra.append(FakeEntryPoint(name, target, FakeDistribution(*dist) if dist else None))

    monkeypatch.setattr(plugins_module.metadata, "entry_points", entry_points)
    return add


@pytest.fixture(autouse=True)
def _no_network_and_a_private_cache(monkeypatch, tmp_path_factory):
    """No test may download or touch the user's cache: offline mode and a private cache."""
    monkeypatch.setenv("QENC_BENCH_OFFLINE", "1")
    monkeypatch.setenv("QENC_BENCH_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("QENC_BENCH_MIRROR", raising=False)


@pytest.fixture(scope="module")
def pip_install_target():
    """``install(source, target, dist_glob)``: pip-install a package (no dependencies) into a
    folder of its own, so the example plugins never touch the shared environment."""
    import subprocess
    import sys

    def install(source: Path, target: Path, dist_glob: str) -> Path:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check",
             "--target", str(target), str(source)],
            capture_output=True, text=True, timeout=300,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pip could not install {source.name}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        assert list(target.glob(dist_glob)), f"no {dist_glob} in {target}"
        return target

    return install
