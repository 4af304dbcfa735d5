"""Sweeps: the TOML grid and its checks, the resumable store, local worker processes, a crash
and Ctrl-C then resume, failed runs, a dying worker, and a Dask cluster that gives the same
numbers as local processes. Runs use the real MNIST files of the shared_data fixture, small sizes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from qenc_bench.errors import ConfigError, MissingDependencyError, ResultFileError
from qenc_bench.harness import CompareConfig
from qenc_bench.results import BenchmarkResult, write_json_atomic
from qenc_bench.results.store import FAILED, OK, ResultStore, StoredRun, load_results, to_results
from qenc_bench.sweep import SweepProgress, load_spec, parse_spec, run_sweep
from qenc_bench.sweep.runner import _local_outcomes

GRID = {"datasets": ["mnist"], "classes": [[0, 1], [2, 8]], "encoders": ["atp", "angle", "sqe"], "seeds": [0, 1]}
# the exact backend evaluates as pennylane does (same entropy) without its seconds-long import per worker
# classical reference runs are left out here (their own test below): the counts stay pairs x encoders x seeds
SMALL = {"compare": {"train_size": 60, "test_size": 40, "backend": "exact", "classical": []},
         "training": {"max_epochs": 10, "restarts": 1}}
# what a run measured with its trained weights; equal numbers mean the same training
MEASURED = ("accuracy", "entropy", "validation_accuracy", "epochs", "converged", "n_qubits", "two_qubit_gates",
            "noisy_accuracy", "encoder_info")


def toml_value(value) -> str:
    return json.dumps(value)  # lists, strings and numbers read the same in TOML


def write_sweep(path: Path, sweep: dict | None = None, tables: dict | None = None, extra: str = "") -> Path:
    sweep = {**GRID, "data_dir": str(DATA_DIR[0]), **(sweep or {})}
    lines = ["[sweep]", *(f"{k} = {toml_value(v)}" for k, v in sweep.items())]
    for table, values in (tables or SMALL).items():
        lines += [f"[{table}]", *(f"{k} = {toml_value(v)}" for k, v in values.items())]
    path.write_text("\n".join(lines) + "\n" + textwrap.dedent(extra))
    return path


def cli():
    """The CLI with the sweep commands, registered here if cli.py does not list them yet."""
    from qenc_bench.cli import main
    from qenc_bench.cli.sweep import sweep, sweep_export

    for command in (sweep, sweep_export):
        if command.name not in main.commands:
            main.add_command(command)
    return main


CLI_SCRIPT = ("import sys; from qenc_bench.cli import main; from qenc_bench.cli.sweep import sweep, sweep_export; "
              "[main.add_command(c) for c in (sweep, sweep_export) if c.name not in main.commands]; sys.exit(main())")


def store_files(store: Path) -> dict[str, StoredRun]:
    """Every run file, each of which must be whole JSON (no partial file)."""
    runs = {}
    for path in sorted((store / "runs").glob("*.json")):
        runs[path.stem] = StoredRun.from_dict(json.loads(path.read_text()))
    return runs


def mtimes(store: Path) -> dict[str, int]:
    return {p.stem: p.stat().st_mtime_ns for p in (store / "runs").glob("*.json")}


#: the data directory of every sweep file: the shared_data fixture's, set by _real_data
DATA_DIR: list[Path] = []


@pytest.fixture(autouse=True, scope="module")
def _real_data(shared_data):
    DATA_DIR[:] = [shared_data]


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory, _real_data):
    """The 2 pairs x 3 encoders x 2 seeds sweep, once, on 2 local worker processes."""
    folder = tmp_path_factory.mktemp("local")
    spec = write_sweep(folder / "mnist.toml")
    events: list[SweepProgress] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QENC_BENCH_OFFLINE", "1")
        mp.setenv("QENC_BENCH_CACHE", str(folder / "cache"))
        started = time.perf_counter()
        outcome = run_sweep(spec, folder / "store", workers=2, progress=events.append)
        print(f"12-run local sweep: {time.perf_counter() - started:.1f} s")
    return spec, folder / "store", outcome, events


# --- the sweep file ---------------------------------------------------------------------------

def test_the_grid_expands_into_one_run_per_dataset_pair_encoder_and_seed():
    spec = parse_spec({"sweep": {**GRID, "datasets": ["mnist", "fashion_mnist"]}, **SMALL,
                       "compare": {"train_size": 60, "encoder_options": {"atp": {"optimizer": "grid"}}}})
    everything = spec.runs()
    # the default classical references (logistic, svm) are runs of their own, with no encoder
    classical = [r for r in everything if not r.config.encoders]
    assert len(classical) == 2 * 2 * 2 * 2 and all(len(r.config.classical) == 1 for r in classical)
    assert {r.config.classical[0] for r in classical} == {"logistic", "svm"}
    runs = [r for r in everything if r.config.encoders]
    assert len(runs) == 2 * 2 * 3 * 2
    assert len({r.run_id for r in everything}) == len(everything)
    for run in runs:
        c = run.config
        assert len(c.encoders) == 1 and c.seeds == 1 and c.train_size == 60 and c.training.max_epochs == 10
        assert c.classical == ()
        assert c.encoder_options == ({"atp": {"optimizer": "grid"}} if c.encoders == ("atp",) else {})
        assert run.run_id.startswith(f"{c.dataset}-{c.classes[0]}v{c.classes[1]}-{c.encoders[0]}-s{c.seed}-")
    assert {(r.config.dataset, r.config.classes, r.config.encoders[0], r.config.seed) for r in runs} == {
        (d, (a, b), e, s) for d in ("mnist", "fashion_mnist") for a, b in GRID["classes"]
        for e in GRID["encoders"] for s in GRID["seeds"]}


def test_run_ids_are_stable_and_follow_every_option_but_the_data_dir():
    def runs(sweep=None, **compare):
        return parse_spec({"sweep": {**GRID, **(sweep or {})}, **SMALL,
                           "compare": {**SMALL["compare"], **compare}}).runs()

    plain = [r.run_id for r in runs()]
    assert plain == [r.run_id for r in runs()]
    assert set(plain).isdisjoint(r.run_id for r in runs(layers=2))
    for run, with_option in zip(runs(), runs(encoder_options={"atp": {"optimizer": "grid"}}), strict=True):
        assert (run.run_id == with_option.run_id) == (run.config.encoders != ("atp",))  # only atp's runs change
    assert [r.run_id for r in runs({"data_dir": "/elsewhere"})] == plain


def test_one_vs_rest_class_sets_and_noise_levels():
    spec = parse_spec({"sweep": {**GRID, "classes": [[0, 1, 2]], "noise": [0.03, 0.1]}})
    assert {r.config.classes for r in spec.runs()} == {(0, 1, 2)}
    assert spec.base.noise == (0.03, 0.1)
    assert spec.runs()[0].run_id.startswith("mnist-0v1v2-")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"sweep": GRID, "compar": {}}, "unknown key 'compar' in the sweep file; known tables: sweep, compare, training"),
        ({"sweep": {**GRID, "encoder": ["atp"]}}, "unknown key 'encoder' in [sweep]; known keys: datasets, classes"),
        ({"sweep": GRID, "compare": {"train_sise": 60}}, "unknown key 'train_sise' in [compare]; known keys: grid"),
        ({"sweep": GRID, "training": {"epochs": 5}}, "unknown key 'epochs' in [training]; known keys: learning_rate"),
        ({"sweep": GRID, "compare": {"seeds": 3}}, "[compare] 'seeds' is set by [sweep] seeds"),
        ({"sweep": GRID, "compare": {"max_epochs": 3}}, "unknown key 'max_epochs' in [compare]"),
        ({"sweep": GRID, "compare": {"training": {}}}, "[compare] 'training' is set by the [training] table"),
        ({"compare": {}}, "needs a [sweep] table"),
        ({"sweep": {k: v for k, v in GRID.items() if k != "seeds"}}, "[sweep] lacks 'seeds'"),
        ({"sweep": {**GRID, "classes": [0, 1]}}, "[sweep] classes must be a list of class pairs"),
        ({"sweep": {**GRID, "classes": [[3, 3]]}}, "[sweep] classes must be"),
        ({"sweep": {**GRID, "seeds": 2}}, "[sweep] seeds must be a non-empty list of non-negative integers"),
        ({"sweep": {**GRID, "encoders": ["atp", "atp"]}}, "[sweep] encoders lists 'atp' twice"),
        ({"sweep": {**GRID, "datasets": []}}, "[sweep] datasets must be a non-empty list of names"),
        ({"sweep": {**GRID, "noise": [0.9]}}, "depolarizing probability must be in [0, 0.75]"),
        ({"sweep": GRID, "compare": {"train_size": "big"}}, "[compare] train_size must be an integer, got 'big'"),
        ({"sweep": GRID, "compare": {"grid": 0}}, "[compare] grid must be a positive integer, 'auto' or 'none'"),
        ({"sweep": GRID, "training": {"learning_rate": "fast"}}, "[training] learning_rate must be a number"),
        ({"sweep": GRID, "training": {"max_epochs": 0}}, "epochs, patience and batch size must be at least 1"),
        ({"sweep": GRID, "compare": {"encoder_options": {"pca": {"k": 2}}}},
         "names encoder 'pca', which [sweep] encoders does not list"),
    ],
)
def test_mistakes_in_the_sweep_file_are_named(data, message):
    with pytest.raises(ConfigError) as info:
        parse_spec(data)
    assert message in str(info.value)


def test_attacks_go_into_every_run_config():
    data = {"sweep": {**GRID, "attacks": ["fgsm:0.1,0.3"]}}
    if "attacks" not in {f.name for f in fields(CompareConfig)}:
        with pytest.raises(ConfigError, match="does not run attacks yet"):
            parse_spec(data)
        return
    runs = parse_spec(data).runs()
    assert all(r.config.to_dict()["attacks"][0]["eps"] == [0.1, 0.3] for r in runs)


def test_the_data_dir_is_relative_to_the_sweep_file_and_the_option_overrides_it(tmp_path):
    (tmp_path / "sub").mkdir()
    path = write_sweep(tmp_path / "sub" / "s.toml", {"data_dir": "../data"})
    assert load_spec(path).base.data_dir == str(tmp_path / "sub" / ".." / "data")
    assert load_spec(path, data_dir="/mnt/d").base.data_dir == "/mnt/d"
    assert load_spec(path).name == "s"
    (tmp_path / "bad.toml").write_text("[sweep\n")
    with pytest.raises(ConfigError, match="bad.toml is not valid TOML"):
        load_spec(tmp_path / "bad.toml")


def test_the_cli_reports_a_bad_sweep_file_in_one_line(tmp_path):
    path = write_sweep(tmp_path / "s.toml", {"encoderz": ["atp"]})
    result = CliRunner().invoke(cli(), ["sweep", str(path), "--store", str(tmp_path / "store")])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "unknown key 'encoderz' in [sweep]" in lines[0]


# --- the store --------------------------------------------------------------------------------

def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "run.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"a": float("nan")})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_store_has_one_writer_and_is_recognised(tmp_path):
    store = ResultStore.create(tmp_path / "store")
    with store.lock():
        with pytest.raises(ResultFileError, match="in use by another sweep"):
            with ResultStore.open(tmp_path / "store").lock():
                pass
    with store.lock():  # released
        pass
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ResultFileError, match="not a qenc-bench store"):
        ResultStore.create(tmp_path / "other")
    with pytest.raises(ResultFileError, match="is not a qenc-bench sweep store"):
        ResultStore.open(tmp_path / "other")


def test_a_missing_dask_install_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "qenc-bench\[dask\]"'):
        run_sweep(write_sweep(tmp_path / "s.toml"), tmp_path / "store", scheduler="tcp://127.0.0.1:8786")
    assert not (tmp_path / "store").exists()


# --- running ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_local_sweep_stores_every_run(local_sweep):
    spec, store, outcome, events = local_sweep
    runs = store_files(store)
    assert len(runs) == 12 and all(r.status == OK and r.attempts == 1 for r in runs.values())
    assert (outcome.total, outcome.skipped, outcome.succeeded, outcome.failed) == (12, 0, 12, ())
    assert [e.done for e in events] == list(range(13)) and events[-1].failed == 0
    for run_id, run in runs.items():
        record = run.record
        assert run_id == run.run_id and run.config["encoders"] == [record.encoder]
        assert (record.dataset, list(record.classes), record.seed) == ("mnist", run.config["classes"], run.config["seed"])
    results = sorted(load_results(store), key=lambda r: r.config["classes"])
    assert [r.config["classes"] for r in results] == [[0, 1], [2, 8]]
    assert all(len(r.records) == 6 and r.config["seeds"] == 2 and sorted(r.config["encoders"]) == ["angle", "atp", "sqe"]
               for r in results)


@pytest.mark.slow
def test_a_finished_sweep_runs_nothing_again_and_exports(local_sweep, tmp_path):
    spec, store, _, _ = local_sweep
    before = mtimes(store)
    again = run_sweep(spec, store, workers=2)
    assert (again.skipped, again.succeeded) == (12, 0) and mtimes(store) == before
    with pytest.raises(ResultFileError, match="already holds 12 of these 12 runs"):
        run_sweep(spec, store, resume=False)
    runner = CliRunner()
    out = tmp_path / "exported"
    result = runner.invoke(cli(), ["sweep-export", str(store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = sorted(out.glob("*.json"))
    assert len(exported) == 2
    loaded = [BenchmarkResult.load(p) for p in exported]
    assert sorted(len(r.records) for r in loaded) == [6, 6]
    refused = runner.invoke(cli(), ["sweep-export", str(store), "--out", str(out)])
    assert refused.exit_code == 1 and "already exists" in refused.stderr
    dry = runner.invoke(cli(), ["sweep", str(spec), "--store", str(store), "--dry-run"])
    assert "12 runs; in" in dry.output and "12 finished, 0 failed, 0 missing" in dry.output


@pytest.mark.slow
def test_a_crash_and_ctrl_c_keep_finished_runs_and_resume_runs_only_the_rest(tmp_path):
    spec = write_sweep(tmp_path / "mnist.toml")
    store = tmp_path / "store"
    command = [sys.executable, "-c", CLI_SCRIPT, "sweep", str(spec), "--store", str(store), "--workers", "2"]

    def start() -> subprocess.Popen:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, cwd=tmp_path)

    def wait_for(process: subprocess.Popen, count: int) -> None:
        deadline = time.monotonic() + 120
        while len(list((store / "runs").glob("*.json"))) < count:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the sweep wrote too few runs in time"
            time.sleep(0.2)

    crashing = start()
    try:
        wait_for(crashing, 2)
        os.killpg(crashing.pid, signal.SIGKILL)  # the whole machine goes: parent and workers
    finally:
        if crashing.poll() is None:
            os.killpg(crashing.pid, signal.SIGKILL)
        crashing.communicate(timeout=30)
    after_crash = store_files(store)  # whole files only
    assert 2 <= len(after_crash) < 12 and all(r.status == OK for r in after_crash.values())

    interrupted = start()
    try:
        wait_for(interrupted, len(after_crash) + 2)
        interrupted.send_signal(signal.SIGINT)
        _, stderr = interrupted.communicate(timeout=60)
    finally:
        if interrupted.poll() is None:
            os.killpg(interrupted.pid, signal.SIGKILL)
            interrupted.communicate(timeout=30)
    assert interrupted.returncode == 130, stderr
    assert "stopped:" in stderr and "run the same command again to resume" in stderr
    assert not list((store / "runs").glob(".*.tmp"))
    finished = store_files(store)
    assert all(r.status == OK for r in finished.values()) and len(finished) < 12
    before = mtimes(store)
    assert {k: v for k, v in before.items() if k in after_crash} == {k: v for k, v in mtimes(store).items()
                                                                      if k in after_crash}

    resumed = run_sweep(spec, store, workers=2)
    assert (resumed.skipped, resumed.succeeded, resumed.failed) == (len(finished), 12 - len(finished), ())
    final = store_files(store)
    assert len(final) == 12 and all(r.status == OK and r.attempts == 1 for r in final.values())
    assert {k: v for k, v in mtimes(store).items() if k in before} == before  # finished runs were not run again


@pytest.mark.slow
def test_a_failing_run_is_recorded_the_others_finish_and_resume_retries_only_it(tmp_path):
    spec = write_sweep(tmp_path / "s.toml", {"classes": [[0, 1]], "seeds": [0]},
                       extra="[compare.encoder_options.atp]\noptimizer = \"nope\"\n")
    store = tmp_path / "store"
    result = CliRunner().invoke(cli(), ["sweep", str(spec), "--store", str(store), "--workers", "2"])
    assert result.exit_code == 1, result.output
    assert "3 runs: 0 already in the store, 2 ran now, 1 failed" in result.stdout
    assert "failed: mnist-0v1-atp-s0-" in result.stderr and "unknown ATP optimizer 'nope'" in result.stderr
    runs = store_files(store)
    failed = [r for r in runs.values() if r.status == FAILED]
    assert len(runs) == 3 and len(failed) == 1
    error = failed[0].error
    assert error["type"] == "qenc_bench.errors.ConfigError" and "nope" in error["message"]
    assert error["traceback"].startswith("Traceback") and "ConfigError" in error["traceback"]
    assert to_results(store)[0].config["encoders"] == ["angle", "sqe"]

    before = mtimes(store)
    resumed = run_sweep(spec, store, workers=2)
    assert (resumed.skipped, resumed.succeeded, len(resumed.failed)) == (2, 0, 1)
    after = mtimes(store)
    assert {k: after[k] for k in before if runs[k].status == OK} == {k: before[k] for k in before if runs[k].status == OK}
    assert store_files(store)[failed[0].run_id].attempts == 2

    rerun = run_sweep(spec, store, workers=2, rerun=True)
    assert (rerun.skipped, rerun.succeeded, len(rerun.failed)) == (0, 2, 1)
    again = store_files(store)
    for run_id, run in runs.items():
        assert mtimes(store)[run_id] != after[run_id]
        if run.status == OK:
            assert again[run_id].attempts == 2
            assert [getattr(again[run_id].record, m) for m in MEASURED] == [getattr(run.record, m) for m in MEASURED]


def test_a_dying_worker_fails_its_run_and_a_new_pool_runs_the_rest(tmp_path, monkeypatch):
    (tmp_path / "dying_worker.py").write_text(textwrap.dedent("""
        import os

        def execute(config):
            if config.encoders == ("sqe",):
                os._exit(3)  # as if killed by the kernel
            return {"status": "ok", "encoder": config.encoders[0]}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers get the parent's sys.path
    import dying_worker

    runs = [r for r in parse_spec({"sweep": {**GRID, "classes": [[0, 1]], "seeds": [0]}}).runs() if r.config.encoders]
    runs.sort(key=lambda r: ["angle", "sqe", "atp"].index(r.config.encoders[0]))
    outcomes = {run.config.encoders[0]: outcome for run, outcome in _local_outcomes(runs, 1, dying_worker.execute)}
    assert outcomes["angle"] == {"status": "ok", "encoder": "angle"}
    assert outcomes["atp"] == {"status": "ok", "encoder": "atp"}
    assert outcomes["sqe"]["status"] == FAILED
    assert outcomes["sqe"]["error"]["type"].endswith("BrokenProcessPool")
    assert "a worker process died" in outcomes["sqe"]["error"]["traceback"]


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_records_as_local_processes(local_sweep, tmp_path):
    distributed = pytest.importorskip("distributed")
    _, local_store, _, _ = local_sweep
    spec = write_sweep(tmp_path / "s.toml", {"seeds": [0]})  # 6 of the local sweep's 12 runs
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        outcome = run_sweep(spec, tmp_path / "store", scheduler=cluster.scheduler_address)
    assert (outcome.succeeded, outcome.failed) == (6, ())
    local, remote = store_files(local_store), store_files(tmp_path / "store")
    assert len(remote) == 6 and set(remote) <= set(local)
    for run_id, run in remote.items():
        assert run.config == local[run_id].config
        assert [getattr(run.record, m) for m in MEASURED] == [getattr(local[run_id].record, m) for m in MEASURED]
