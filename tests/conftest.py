"""Fixtures shared by the test modules: a fresh plugin manager, hand-registered plugins,
fake entry points, an environment that cannot leak in, and the real test data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from qenc_bench import plugins as plugins_module
from qenc_bench.datasets import DATA_ENV
from qenc_bench.plugins import DISABLE_ENV, ENTRY_POINT_GROUP, PluginManager, get_plugin_manager
from qenc_datasets.download import cache_dir

TEST_DATA_ENV = "QENC_BENCH_TEST_DATA"
REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SUBSET_DATA = REPO / "tests" / "data"
#: the cache that downloads fill, where the caller's environment puts it (read before any
#: test points QENC_BENCH_CACHE at a private folder); the tests only read it
DOWNLOAD_CACHE = cache_dir()
#: the files that show a data directory holds each test dataset
TEST_DATASETS = {
    "mnist": tuple(f"mnist/{kind}-ubyte.gz" for kind in ("train-images-idx3", "train-labels-idx1",
                                                           "t10k-images-idx3", "t10k-labels-idx1")),
    "pneumoniamnist": ("pneumoniamnist/pneumoniamnist.npz",),
    "cifar-10-batches-bin": ("cifar-10-batches-bin/test_batch.bin",),
}


@dataclass(frozen=True)
class DataSource:
    """Where a test dataset was found: its data directory, and which step of the lookup."""

    dataset: str
    root: Path
    origin: str


def find_test_data() -> dict[str, DataSource]:
    """Each test dataset from the first place that holds it: ``$QENC_BENCH_TEST_DATA``, then
    ``../shared/data`` beside the repository, then the download cache, then the small real
    subset shipped in ``tests/data`` (MNIST and PneumoniaMNIST only)."""
    places = []
    explicit = os.environ.get(TEST_DATA_ENV)
    if explicit:
        if not Path(explicit).is_dir():
            raise RuntimeError(f"{TEST_DATA_ENV}={explicit} is not a folder")
        places.append((Path(explicit), f"${TEST_DATA_ENV}"))
    places += [(SHARED_DATA, "../shared/data"), (DOWNLOAD_CACHE, "the download cache"),
               (SUBSET_DATA, "the subset in tests/data")]
    found = {}
    for dataset, files in TEST_DATASETS.items():
        for root, origin in places:
            if all((root / f).is_file() for f in files):
                found[dataset] = DataSource(dataset, root, origin)
                break
    missing = sorted({"mnist", "pneumoniamnist"} - set(found))
    if missing:
        raise RuntimeError(f"the real test data is missing: no {', '.join(missing)} in {', '.join(str(p) for p, _ in places)}")
    return found


@pytest.fixture(scope="session")
def test_data_sources() -> dict[str, DataSource]:
    """Where each test dataset comes from (see :func:`find_test_data`)."""
    return find_test_data()


@pytest.fixture(scope="session")
def shared_data(test_data_sources, tmp_path_factory) -> Path:
    """A data directory with the real test data: ``mnist/`` (IDX files) and
    ``pneumoniamnist/pneumoniamnist.npz``, and ``cifar-10-batches-bin/`` when one is found.

    The one folder they all come from, or a folder of links to each. Read only: a test that
    changes a file copies it to ``tmp_path`` first. The shipped subset has a ``SUBSET.json``
    in each of its folders (copy it with the files) and fewer samples: 500 train and 250 test
    MNIST images (50 and 25 of each digit), 200/60/100 PneumoniaMNIST images (half of each class).
    """
    roots = {source.root for source in test_data_sources.values()}
    if len(roots) == 1:
        return roots.pop()
    combined = tmp_path_factory.mktemp("test-data")
    for name, source in test_data_sources.items():
        try:
            (combined / name).symlink_to(source.root / name, target_is_directory=True)
        except OSError:  # no symbolic links here (Windows without the privilege)
            shutil.copytree(source.root / name, combined / name)
    return combined


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
def pennylane():
    """The ``pennylane`` backend (default.qubit), one per test module."""
    from qenc_pennylane.backend import PennyLaneBackend

    return PennyLaneBackend()


@pytest.fixture(scope="module")
def aer():
    """The ``aer`` backend, one per test module."""
    from qenc_aer.backend import AerBackend

    return AerBackend()


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


#: the environment variables an IBM account can come from
IBM_ENV = ("QISKIT_IBM_TOKEN", "QISKIT_IBM_INSTANCE", "QISKIT_IBM_CHANNEL", "QISKIT_IBM_URL")


@pytest.fixture
def ibm_offline(monkeypatch, tmp_path):
    """No socket may connect; no IBM account leaks in from the caller's environment or home
    (the IBM test modules use it for every test)."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in IBM_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
