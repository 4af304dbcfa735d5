"""The example attack plugin of docs/examples/qenc-example-attack: its attack keeps the
budget, and the package, installed by pip, is found through its entry point by the real
``qenc-bench`` command.

The package is installed with ``pip install --no-deps --target DIR`` (a real wheel build
and install, entry-point metadata included) and put on ``PYTHONPATH`` of the subprocesses
only: the project's environment is never changed, so a test run elsewhere on the same
environment never sees the plugin, and nothing is left behind when a test dies.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "qenc-example-attack"
QENC_BENCH = Path(sys.executable).parent / "qenc-bench"
SMALL = ["--encoders", "angle", "--seeds", "1", "--train-size", "60", "--test-size", "40", "--epochs", "15",
         "--backend", "exact"]


def load_example_module():
    spec = importlib.util.spec_from_file_location("qenc_example_attack_source", EXAMPLE / "qenc_example_attack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the attack itself -------------------------------------------------------------------


def never_called(x):
    raise AssertionError("random-sign must not ask for a gradient")


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.3, 1.0])
def test_random_sign_moves_every_pixel_by_eps_within_the_unit_interval(eps):
    attack = load_example_module().RandomSign()
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(400, 9))
    x[:40] = 0.0
    x[40:80] = 1.0
    x_adv = attack.perturb(x, never_called, eps, np.random.default_rng(1))
    assert np.all((x_adv >= 0.0) & (x_adv <= 1.0))
    step = x_adv - x
    assert np.max(np.abs(step)) <= eps + 1e-12
    unclipped = (x >= eps) & (x <= 1.0 - eps)  # room for a full step either way
    np.testing.assert_allclose(np.abs(step[unclipped]), eps, atol=1e-12)
    if eps > 0 and unclipped.sum() > 1000:
        up = np.mean(step[unclipped] > 0)
        assert 0.45 < up < 0.55, up  # fair coin flips
    if eps == 1.0:
        assert set(np.unique(x_adv)) <= {0.0, 1.0}


def test_random_sign_is_reproducible_from_the_generator():
    attack = load_example_module().RandomSign()
    x = np.random.default_rng(0).uniform(size=(50, 9))
    first = attack.perturb(x, never_called, 0.1, np.random.default_rng(5))
    np.testing.assert_array_equal(first, attack.perturb(x, never_called, 0.1, np.random.default_rng(5)))
    assert np.any(first != attack.perturb(x, never_called, 0.1, np.random.default_rng(6)))


# --- installed with pip, used by the command line ----------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory, pip_install_target) -> Path:
    """A directory with the example package installed into it by pip."""
    work = tmp_path_factory.mktemp("example-attack")
    source = work / "source"  # a copy: building writes build/ and *.egg-info next to the sources
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    return pip_install_target(source, work / "site", "qenc_example_attack-*.dist-info")


def run_cli(*args: str, site: Path | None, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("QENC_BENCH_DISABLE_PLUGINS", "QENC_BENCH_DATA")}
    env.pop("PYTHONPATH", None)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    env["COLUMNS"] = "200"
    return subprocess.run([str(QENC_BENCH), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.mark.slow
def test_the_installed_plugin_registers_random_sign(site, tmp_path):
    listed = run_cli("list", "attacks", site=site, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    assert {"fgsm", "pgd", "random-sign"} <= set(rows)
    assert rows["random-sign"].endswith("[example-attack]")

    plugins = run_cli("plugins", site=site, cwd=tmp_path)
    assert plugins.returncode == 0, plugins.stderr
    assert "qenc-example-attack" in plugins.stdout and "attack random-sign" in plugins.stdout


@pytest.mark.slow
def test_without_the_package_on_the_path_there_is_no_random_sign(tmp_path):
    listed = run_cli("list", "attacks", site=None, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "random-sign" not in listed.stdout


@pytest.fixture(scope="module")
def attacked_result(site, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("compare")
    done = run_cli("compare", *SMALL, "--attack", "random-sign:0.1", "--attack", "fgsm:0.1", "--out", "out.json",
                   site=site, cwd=work)
    assert done.returncode == 0, done.stderr
    assert "random-sign eps=0.1" in done.stdout
    return json.loads((work / "out.json").read_text())


@pytest.mark.slow
def test_compare_runs_the_plugin_attack_and_records_it(attacked_result):
    record = attacked_result["records"][0]
    assert set(record["adversarial_accuracy"]) == {"random-sign:0.1", "fgsm:0.1"}
    assert 0.0 <= record["adversarial_accuracy"]["random-sign:0.1"] <= 1.0
    assert record["attack_seconds"]["random-sign:0.1"] > 0
    assert {"name": "random-sign", "eps": [0.1], "options": {}} in attacked_result["config"]["attacks"]


@pytest.mark.slow
def test_the_result_names_the_plugin_distribution_that_made_a_number(attacked_result):
    """DESIGN.md: a result carries the versions of Python, qenc-bench, plugins and SDKs; a
    third-party attack's number is not reproducible without its distribution and version."""
    assert "qenc-example-attack" in json.dumps(attacked_result["environment"]), attacked_result["environment"]


@pytest.mark.slow
def test_disabling_the_plugin_makes_its_attack_unknown(site, tmp_path):
    done = run_cli("compare", *SMALL, "--attack", "random-sign:0.1", "--disable-plugin", "example-attack",
                   "--out", "out.json", site=site, cwd=tmp_path)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: unknown attack 'random-sign'"), done.stderr
