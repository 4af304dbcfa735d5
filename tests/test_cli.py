"""The ``qenc-bench`` command line, through click's test runner, on real data."""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from qenc_bench import harness
from qenc_bench.cli import main
from qenc_bench.datasets import DATA_ENV
from qenc_bench.results import SCHEMA_VERSION, BenchmarkResult

SMALL = ["--seeds", "1", "--train-size", "60", "--test-size", "40", "--epochs", "20"]
MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(autouse=True)
def _isolated(clean_env, monkeypatch, tmp_path):
    """No data directory from the environment, a wide terminal so table rows stay on one
    line, and a working directory of our own so nothing is written into the project."""
    monkeypatch.setenv("COLUMNS", "2000")
    monkeypatch.chdir(tmp_path)


def invoke(*args: str) -> Result:
    # click >= 8.2 keeps stderr apart (result.stderr) and has no mix_stderr argument.
    return CliRunner().invoke(main, list(args))


def one_line_error(result: Result) -> str:
    """The single ``Error:`` line of a user error; anything else (a traceback, a progress
    bar, a usage message) fails."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), f"not a user error: {result.exception!r}"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("Error: "), lines[0]
    return lines[0]


def row_of(stdout: str, encoder: str) -> str:
    rows = [line for line in stdout.splitlines() if f"│ {encoder} " in line]
    assert len(rows) == 1, f"expected one table row for {encoder}:\n{stdout}"
    return rows[0]


@pytest.fixture
def mnist_copy(tmp_path, shared_data) -> Path:
    """A data directory with a private copy of the four MNIST files (and the subset's manifest)."""
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name in (*MNIST_FILES, "SUBSET.json"):
        if (shared_data / "mnist" / name).is_file():
            shutil.copyfile(shared_data / "mnist" / name, folder / name)
    return folder.parent


# --- compare -----------------------------------------------------------------------------


def test_compare_on_digits_prints_the_ranking_and_writes_the_result(tmp_path):
    out = tmp_path / "result.json"
    result = invoke("compare", *SMALL, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "tau=" in row_of(result.stdout, "atp")
    assert row_of(result.stdout, "angle")
    assert f"result written to {out}" in result.stdout

    data = json.loads(out.read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 2
    assert len(data["records"]) == 4
    by_encoder = {r["encoder"]: r for r in data["records"]}
    assert set(by_encoder) == {"atp", "angle", "logistic", "svm"}
    assert {r["encoder"] for r in data["records"] if r["kind"] == "classical"} == {"logistic", "svm"}
    assert row_of(result.stdout, "logistic (classical)")
    assert by_encoder["atp"]["n_qubits"] < by_encoder["angle"]["n_qubits"]
    assert all(r["dataset"] == "digits" and r["classes"] == [0, 1] for r in data["records"])

    loaded = BenchmarkResult.load(out)
    assert [r.encoder for r in loaded.records] == [r["encoder"] for r in data["records"]]
    assert loaded.config["train_size"] == 60 and loaded.config["seeds"] == 1


def test_force_overwrites_an_existing_result(tmp_path):
    out = tmp_path / "result.json"
    out.write_text("an older result\n")
    result = invoke("compare", *SMALL, "--encoders", "angle", "--epochs", "5", "--out", str(out), "--force")
    assert result.exit_code == 0, result.output
    loaded = BenchmarkResult.load(out)
    assert [r.encoder for r in loaded.records] == ["angle", "logistic", "svm"]


def test_existing_result_without_force_fails_before_any_work(tmp_path, monkeypatch):
    out = tmp_path / "result.json"
    out.write_text("an older result\n")
    runs = []
    monkeypatch.setattr(harness, "plan", lambda *args, **kwargs: runs.append(args))
    monkeypatch.setattr(harness, "run", lambda *args, **kwargs: runs.append(args))
    line = one_line_error(invoke("compare", *SMALL, "--out", str(out)))
    assert str(out) in line and "--force" in line
    assert out.read_text() == "an older result\n"
    assert runs == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--encoders", "angle,nope"], ["unknown encoder 'nope'", "angle", "atp"]),
        (["--dataset", "nope"], ["unknown dataset 'nope'", "digits", "mnist"]),
        (["--backend", "nope"], ["unknown backend 'nope'", "exact", "pennylane"]),
        (["--classes", "0,12"], ["class 12", "'digits'"]),
        (["--grid", "9"], ["grid 9", "8x8", "'digits'"]),
        (["--seeds", "0"], ["--seeds", "0"]),
    ],
    ids=["encoder", "dataset", "backend", "class", "grid", "seeds"],
)
def test_bad_input_is_a_one_line_error_naming_it(tmp_path, args, expected):
    out = tmp_path / "result.json"
    line = one_line_error(invoke("compare", *SMALL, *args, "--out", str(out)))
    for text in expected:
        assert text in line
    assert not out.exists()


def test_one_class_is_a_usage_error():
    result = invoke("compare", *SMALL, "--classes", "1")
    assert result.exit_code == 2
    assert "Invalid value for '--classes'" in result.stderr
    assert "expected two or more class indices" in result.stderr


def test_missing_data_file_names_the_file_and_where_it_was_looked_for(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    line = one_line_error(invoke("compare", *SMALL, "--dataset", "mnist", "--data-dir", str(empty)))
    assert "train-images-idx3-ubyte.gz" in line
    assert str(empty / "mnist") in line


def test_data_directory_comes_from_the_environment_when_not_given(tmp_path, monkeypatch):
    empty = tmp_path / "from-env"
    empty.mkdir()
    monkeypatch.setenv(DATA_ENV, str(empty))
    line = one_line_error(invoke("compare", *SMALL, "--dataset", "mnist"))
    assert str(empty / "mnist") in line


def test_no_data_directory_at_all_says_how_to_give_one():
    line = one_line_error(invoke("compare", *SMALL, "--dataset", "mnist"))
    assert "--data-dir" in line and DATA_ENV in line


def test_truncated_idx_file_names_the_file(mnist_copy):
    damaged = mnist_copy / "mnist" / "train-labels-idx1-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    line = one_line_error(invoke("compare", *SMALL, "--dataset", "mnist", "--data-dir", str(mnist_copy)))
    assert str(damaged) in line
    assert "truncated" in line


@pytest.mark.slow
def test_compare_on_real_mnist_zero_versus_one(tmp_path, shared_data):
    out = tmp_path / "mnist.json"
    result = invoke(
        "compare", "--dataset", "mnist", "--classes", "0,1", "--data-dir", str(shared_data),
        "--seeds", "1", "--out", str(out),
    )
    assert result.exit_code == 0, result.output
    records = BenchmarkResult.load(out).records
    assert {r.encoder for r in records} == {"atp", "angle", "logistic", "svm"}
    for record in records:
        assert record.dataset == "mnist" and record.classes == (0, 1)
        assert record.accuracy > 0.85, (record.encoder, record.accuracy)


# --- plugins and list --------------------------------------------------------------------


def test_plugins_shows_every_builtin_plugin_and_its_distribution():
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    version = metadata.version("qenc-bench")
    registers = {
        "datasets": ["dataset digits", "dataset mnist"],
        "encoders": ["encoder angle", "encoder atp"],
        "pennylane": ["backend pennylane"],
        "exact": ["backend exact"],
    }
    for plugin, components in registers.items():
        row = next((line for line in result.stdout.splitlines() if f" {plugin} " in line), "")
        assert "qenc-bench" in row and version in row, f"no row for {plugin}:\n{result.stdout}"
        for component in components:
            assert component in row


def test_plugins_does_not_show_a_disabled_plugin_as_loaded():
    result = invoke("plugins", "--disable-plugin", "exact", "--disable-plugin", "no-such-plugin")
    assert result.exit_code == 0, result.output
    assert "backend exact" not in result.stdout
    for name in ("exact", "no-such-plugin"):
        rows = [line for line in result.stdout.splitlines() if f" {name} " in line]
        assert all("disabled" in row for row in rows), f"{name} listed as loaded:\n{result.stdout}"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("encoders", {"angle": "encoders", "atp": "encoders"}),
        ("datasets", {"digits": "datasets", "mnist": "datasets"}),
        ("backends", {"exact": "exact", "pennylane": "pennylane"}),
    ],
)
def test_list_shows_each_registered_component_and_its_plugin(kind, expected):
    result = invoke("list", kind)
    assert result.exit_code == 0, result.output
    listed = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert set(expected) <= set(listed)
    for name, plugin in expected.items():
        assert listed[name].endswith(f"[{plugin}]")


def test_list_attacks_shows_fgsm_and_pgd():
    result = invoke("list", "attacks")
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"fgsm", "pgd"} <= set(names)


def test_list_says_when_nothing_is_registered():
    result = invoke("list", "attacks", "--disable-plugin", "attacks")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no attacks registered"


def test_list_without_a_disabled_plugin_leaves_out_its_components():
    result = invoke("list", "encoders", "--disable-plugin", "encoders")
    assert result.exit_code == 0, result.output
    names = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert not names & {"angle", "atp"}
    assert "[encoders]" not in result.stdout


def test_list_of_an_unknown_kind_is_a_usage_error():
    result = invoke("list", "widgets")
    assert result.exit_code == 2
    assert "widgets" in result.stderr
