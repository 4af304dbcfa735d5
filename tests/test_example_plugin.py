"""The example plugin of docs/examples/qenc-example-plugin (an encoder and a dataset), installed
by pip, is found through its entry point by the real ``qenc-bench`` command, and its own tests
(qenc_bench.testing's contract checks) pass.

As in tests/test_example_attack.py, the package is installed with ``pip install --no-deps
--target DIR`` and put on ``PYTHONPATH`` of the subprocesses only: the project's environment
is never changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "qenc-example-plugin"
QENC_BENCH = Path(sys.executable).parent / "qenc-bench"


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("example-plugin")


@pytest.fixture(scope="module")
def source(work) -> Path:
    """A copy of the example: building writes build/ and *.egg-info next to the sources."""
    copy = work / "source"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache"))
    return copy


@pytest.fixture(scope="module")
def site(work, source, pip_install_target) -> Path:
    """A directory with the example package installed into it by pip."""
    return pip_install_target(source, work / "site", "qenc_example_plugin-*.dist-info")


def clean_env(site: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QENC_BENCH_DISABLE_PLUGINS", "QENC_BENCH_DATA")}
    env.pop("PYTHONPATH", None)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    env["COLUMNS"] = "200"
    return env


def run_cli(*args: str, site: Path | None, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(QENC_BENCH), *args], capture_output=True, text=True, env=clean_env(site), cwd=cwd,
                          timeout=300)


@pytest.mark.slow
def test_plugins_shows_the_example_and_its_distribution(site, tmp_path):
    done = run_cli("plugins", site=site, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    row = next((line for line in done.stdout.splitlines() if "example-plugin" in line), "")
    assert "qenc-example-plugin" in row and "0.1.0" in row, done.stdout
    assert "encoder phase-angle" in done.stdout and "dataset iris-pair" in done.stdout


@pytest.mark.slow
def test_list_shows_the_encoder_and_the_dataset(site, tmp_path):
    encoders = run_cli("list", "encoders", site=site, cwd=tmp_path)
    assert encoders.returncode == 0, encoders.stderr
    rows = {line.split()[0]: line for line in encoders.stdout.splitlines() if line.strip()}
    assert "phase-angle" in rows and rows["phase-angle"].endswith("[example-plugin]")
    datasets = run_cli("list", "datasets", site=site, cwd=tmp_path)
    assert datasets.returncode == 0, datasets.stderr
    assert "iris-pair" in datasets.stdout


@pytest.mark.slow
def test_without_the_package_there_is_no_phase_angle(tmp_path):
    done = run_cli("list", "encoders", site=None, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "phase-angle" not in done.stdout


@pytest.mark.slow
def test_compare_runs_the_plugin_encoder_on_the_plugin_dataset(site, tmp_path):
    done = run_cli("compare", "--encoders", "phase-angle,angle", "--dataset", "iris-pair", "--classes", "0,1",
                   "--seeds", "1", "--backend", "pennylane", "--out", "out.json", site=site, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "out.json").read_text())
    records = {r["encoder"]: r for r in result["records"]}
    assert {"phase-angle", "angle"} <= set(records)
    phase, angle = records["phase-angle"], records["angle"]
    assert phase["dataset"] == "iris-pair" and phase["encoder_info"]["n_qubits"] == 4
    assert phase["n_qubits"] == angle["n_qubits"] == 5  # 4 data qubits (one per iris feature) and the readout
    assert 0.0 <= phase["accuracy"] <= 1.0
    plugins = result["environment"]["plugins"]
    assert plugins["example-plugin"]["distribution"] == "qenc-example-plugin", plugins


@pytest.mark.slow
def test_the_example_packages_own_tests_pass(site, source):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_plugin.py"],
        capture_output=True, text=True, env=clean_env(site), cwd=source, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "7 passed" in done.stdout, done.stdout  # the entry-point test runs: the package is installed
