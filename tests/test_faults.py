"""Faults lose nothing: outputs that cannot be written fail before any work, as one line;
SIGINT and SIGTERM stop compare, sweep and reproduce cleanly with a resume hint; a killed
sweep's workers end with it (even on SIGKILL) and a resume stores every run exactly once;
resumes refuse other settings."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from qenc_bench.cli import main
from qenc_bench.results import BenchmarkResult

CLI = [sys.executable, "-c", "import sys; from qenc_bench.cli import main; sys.exit(main())"]
SMALL = ["--seeds", "1", "--train-size", "40", "--test-size", "20", "--epochs", "5", "--restarts", "1"]


def one_line(result) -> str:
    """The single ``Error:`` line of a refused command: no traceback, nothing else on stderr."""
    stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def can_mount() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


def readonly(folder: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the CLI with ``folder`` a read-only tmpfs in a private mount namespace (root cannot be
    stopped by chmod; a read-only mount stops everyone)."""
    if not can_mount():
        pytest.skip("needs root and unshare for a read-only mount (CI runs as root)")
    folder.mkdir(parents=True, exist_ok=True)
    command = " ".join(f"'{c}'" for c in [*CLI, *args])
    script = f"mount -t tmpfs -o ro tmpfs '{folder}' && exec {command}"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


@pytest.fixture
def digits_result(tmp_path) -> Path:
    out = tmp_path / "r.json"
    assert CliRunner().invoke(main, ["compare", *SMALL, "--out", str(out)]).exit_code == 0
    return out


# --- outputs are checked before any work --------------------------------------------------


def test_an_unwritable_out_fails_before_any_work(tmp_path):
    started = time.monotonic()
    done = readonly(tmp_path / "ro", "compare", *SMALL, "--out", str(tmp_path / "ro" / "r.json"))
    line = one_line(done)
    assert done.returncode == 1 and "--out folder" in line and "cannot be written" in line
    assert time.monotonic() - started < 60  # refused at once, not after training


def test_an_unwritable_default_results_folder_fails_before_any_work(tmp_path):
    done = readonly(tmp_path / "ro", "compare", *SMALL, cwd=tmp_path / "ro")
    assert "results" in one_line(done) and done.returncode == 1


def test_unwritable_report_export_and_store_targets_are_one_line(tmp_path, digits_result):
    ro = tmp_path / "ro"
    assert "report folder" in one_line(readonly(ro, "report", str(digits_result), "--html", str(ro / "b.html")))
    store = tmp_path / "store"
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\ndatasets = ["digits"]\nclasses = [[0, 1]]\nencoders = ["angle"]\nseeds = [0]\n'
                     '[compare]\ntrain_size = 40\ntest_size = 20\nclassical = []\n[training]\nmax_epochs = 3\n'
                     'restarts = 1\n')
    assert CliRunner().invoke(main, ["sweep", str(sweep), "--store", str(store), "--workers", "1"]).exit_code == 0
    assert "--out folder" in one_line(readonly(ro, "sweep-export", str(store), "--out", str(ro / "exported")))
    assert "--store folder" in one_line(readonly(ro, "sweep", str(sweep), "--store", str(ro / "store")))


def test_result_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        out = tmp_path / "r.json"
        assert CliRunner().invoke(main, ["compare", *SMALL, "--encoders", "angle", "--out", str(out)]).exit_code == 0
        assert out.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(previous)


def test_a_killed_writers_temporary_file_is_removed_by_the_next_run(tmp_path):
    out = tmp_path / "r.json"
    stale = tmp_path / ".r.json.x1y2.tmp"
    stale.write_text("half a result")
    assert CliRunner().invoke(main, ["compare", *SMALL, "--encoders", "angle", "--out", str(out)]).exit_code == 0
    assert not stale.exists() and BenchmarkResult.load(out).records


def test_a_result_without_records_is_an_error_for_show_and_report(tmp_path, digits_result):
    data = json.loads(digits_result.read_text())
    data["records"] = []
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps(data))
    for args in (["show", str(empty)], ["report", str(empty), "--markdown", str(tmp_path / "b.md")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "no records" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "b.md").exists()


def test_a_capped_size_is_a_warning_and_the_record_keeps_both(tmp_path):
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["compare", "--encoders", "angle", "--seeds", "1", "--train-size", "100000",
                                       "--epochs", "3", "--restarts", "1", "--classical", "none", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "too few samples for --train-size 100000" in result.stderr
    # the default --test-size (200) is more than digits 0,1 holds too, but nobody asked for it:
    # no warning, the footer's used sizes and the record say what ran
    assert "--test-size" not in result.stderr
    record = BenchmarkResult.load(out).records[0]
    assert record.requested_sizes["train"] == 100000 and record.sizes["train"] < 1000
    assert record.requested_sizes["test"] == 200 and record.sizes["test"] < 200


# --- sweep inputs -------------------------------------------------------------------------


def test_a_non_utf8_sweep_file_is_one_line(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_bytes(b"[sweep]\ndatasets = [\"\xff\xfe\"]\n")
    result = CliRunner().invoke(main, ["sweep", str(bad)])
    assert result.exit_code == 1 and "is not UTF-8 text" in result.stderr and result.stderr.count("\n") == 1


def test_a_bad_scheduler_address_fails_at_once_without_a_traceback(tmp_path):
    pytest.importorskip("distributed")
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\ndatasets = ["digits"]\nclasses = [[0, 1]]\nencoders = ["angle"]\nseeds = [0]\n')
    started = time.monotonic()
    done = subprocess.run([*CLI, "sweep", str(sweep), "--scheduler", "notaurl"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert "is not a Dask scheduler address" in one_line(done)
    assert "Exception ignored" not in done.stderr and time.monotonic() - started < 30
    assert not (tmp_path / "sweep-results").exists()


def test_zero_workers_are_refused_before_anything_is_announced(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\ndatasets = ["digits"]\nclasses = [[0, 1]]\nencoders = ["angle"]\nseeds = [0]\n')
    result = CliRunner().invoke(main, ["sweep", str(sweep), "--workers", "0", "--store", str(tmp_path / "st")])
    assert result.exit_code == 1 and result.stderr == "Error: --workers must be at least 1, got 0\n"
    assert not (tmp_path / "st").exists()


def test_a_sweep_that_fails_validation_leaves_no_store(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\ndatasets = ["digits"]\nclasses = [[0, 99]]\nencoders = ["angle"]\nseeds = [0]\n')
    result = CliRunner().invoke(main, ["sweep", str(sweep), "--store", str(tmp_path / "st")])
    assert result.exit_code == 1 and "class 99" in result.stderr
    assert not (tmp_path / "st").exists()


def test_a_dask_cluster_without_workers_says_so_and_gives_up(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr("qenc_bench.sweep.runner.WORKER_WAIT_SECONDS", 3)
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\ndatasets = ["digits"]\nclasses = [[0, 1]]\nencoders = ["angle"]\nseeds = [0]\n'
                     '[compare]\nclassical = []\n')
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        result = CliRunner().invoke(main, ["sweep", str(sweep), "--store", str(tmp_path / "st"),
                                           "--scheduler", cluster.scheduler_address])
    assert result.exit_code == 1, result.output
    assert "has no workers yet" in result.stderr and "no Dask worker joined" in result.stderr


# --- resumes cannot mix settings ----------------------------------------------------------


def test_compare_resume_finishes_a_stopped_run_and_refuses_other_settings(tmp_path):
    out = tmp_path / "r.json"
    args = [*CLI, "compare", "--encoders", "angle,sqe,atp", "--seeds", "3", "--train-size", "120", "--test-size",
            "60", "--epochs", "40", "--classical", "none", "--out", str(out)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 120
    # one line per finished run on a pipe: wait for the first, then SIGTERM
    line = process.stderr.readline()
    while "[1/" not in line and time.monotonic() < deadline:
        line = process.stderr.readline()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "stopped:" in stderr and "--resume" in stderr and "Traceback" not in stderr
    partial = BenchmarkResult.load(out)
    assert not partial.complete and 1 <= len(partial.records) < 9
    other = CliRunner().invoke(main, [*args[3:-4], "--test-size", "30", "--out", str(out), "--resume"])
    assert other.exit_code == 1 and "other settings" in other.stderr and "test_size" in other.stderr
    done = CliRunner().invoke(main, [*args[3:], "--resume"])
    assert done.exit_code == 0, done.output
    final = BenchmarkResult.load(out)
    assert final.complete and len(final.records) == 9
    kept = {(r.encoder, r.seed): r.accuracy for r in partial.records}
    assert all(r.accuracy == kept[(r.encoder, r.seed)] for r in final.records if (r.encoder, r.seed) in kept)


def test_a_sweep_store_refuses_a_resume_with_other_settings(tmp_path):
    sweep = tmp_path / "s.toml"
    body = ('[sweep]\ndatasets = ["digits"]\nclasses = [[0, 1]]\nencoders = ["angle"]\nseeds = [0]\n'
            '[compare]\ntrain_size = {n}\ntest_size = 20\nclassical = []\n[training]\nmax_epochs = 3\nrestarts = 1\n')
    sweep.write_text(body.format(n=40))
    store = tmp_path / "st"
    assert CliRunner().invoke(main, ["sweep", str(sweep), "--store", str(store), "--workers", "1"]).exit_code == 0
    sweep.write_text(body.format(n=60))
    result = CliRunner().invoke(main, ["sweep", str(sweep), "--store", str(store), "--workers", "1"])
    assert result.exit_code == 1 and "other settings" in result.stderr and "train_size 40" in result.stderr
    assert "--rerun" in result.stderr and "new --store" in result.stderr


def test_reproduce_refuses_to_resume_with_other_settings(tmp_path):
    (tmp_path / "repro" / "results").mkdir(parents=True)
    from qenc_bench.reproduce.study import SETTINGS_FILE, SIZES, check_settings, pair_config, paper_tables

    settings = {"study": "atp-paper", "size": vars(SIZES["quick"]),
                "example": pair_config("mnist", (0, 1), SIZES["quick"], None, paper_tables()).to_dict()}
    check_settings(tmp_path / "repro" / "results", settings, rerun=False)
    assert (tmp_path / "repro" / "results" / SETTINGS_FILE).exists()
    result = CliRunner().invoke(main, ["reproduce", "atp-paper", "--full", "--out", str(tmp_path / "repro"),
                                       "--dataset", "nothing"])
    assert result.exit_code == 1, result.output
    assert "other settings" in result.stderr and "size.seeds 2 (stored) vs 5 (now)" in result.stderr
    assert "--rerun" in result.stderr and result.stderr.count("\n") == 1


# --- signals end every worker -------------------------------------------------------------

SWEEP = textwrap.dedent("""\
    [sweep]
    datasets = ["mnist"]
    classes = [[0, 1], [2, 8]]
    encoders = ["angle", "atp", "sqe"]
    seeds = [0]
    data_dir = "{data}"
    [compare]
    train_size = 60
    test_size = 40
    backend = "exact"
    classical = []
    [training]
    max_epochs = 10
    restarts = 1
    """)
#: makes the parent's fsync slow, so a test can kill it while a result is being written
SLOW_FSYNC = textwrap.dedent("""\
    import os, time
    if os.environ.get("QENC_TEST_SLOW_FSYNC"):
        _fsync = os.fsync
        def fsync(fd):
            time.sleep(1.5)
            return _fsync(fd)
        os.fsync = fsync
    """)


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def run_files(store: Path) -> list[Path]:
    return sorted((store / "runs").glob("*.json"))


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the workers")
@pytest.mark.parametrize("moment", ["before any run ends", "mid-way", "during a result write", "sigterm"])
def test_a_killed_sweep_leaves_no_worker_and_resumes_to_every_run_once(tmp_path, shared_data, moment):
    sweep = tmp_path / "s.toml"
    sweep.write_text(SWEEP.format(data=shared_data))
    store = tmp_path / "st"
    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "sitecustomize.py").write_text(SLOW_FSYNC)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "inject") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if moment == "during a result write":
        env["QENC_TEST_SLOW_FSYNC"] = "1"
    process = subprocess.Popen([*CLI, "sweep", str(sweep), "--store", str(store), "--workers", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    deadline = time.monotonic() + 180
    workers: set[int] = set()

    def wait(condition) -> None:
        nonlocal workers
        while not condition():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, f"the sweep never reached {moment!r}"
            workers |= descendants(process.pid)
            time.sleep(0.05)
        workers |= descendants(process.pid)

    wait(lambda: len(descendants(process.pid)) >= 2)  # the pool's workers are up
    if moment == "mid-way":
        wait(lambda: len(run_files(store)) >= 3)
    elif moment == "during a result write":
        wait(lambda: list((store / "runs").glob(".*.tmp")))
    elif moment == "sigterm":
        wait(lambda: len(run_files(store)) >= 1)
    assert workers, "no worker process was seen"
    finished_before = len(run_files(store))
    process.send_signal(signal.SIGTERM if moment == "sigterm" else signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    if moment == "sigterm":
        assert process.returncode == 143 and "stopped:" in stderr and "run the same command again" in stderr, stderr
    else:
        assert process.returncode == -signal.SIGKILL
    if moment == "before any run ends":
        assert finished_before == 0
    gone_by = time.monotonic() + 5
    while alive(workers) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert not alive(workers), f"workers outlived their parent: {alive(workers)}"

    resumed = subprocess.run([*CLI, "sweep", str(sweep), "--store", str(store), "--workers", "2"],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    files = run_files(store)
    ids = [json.loads(p.read_text())["run_id"] for p in files]
    assert len(files) == len(set(ids)) == 6 and not list((store / "runs").glob(".*.tmp"))
    assert all(json.loads(p.read_text())["status"] == "ok" for p in files)


@pytest.mark.slow
def test_reproduce_stopped_says_how_to_resume(tmp_path, shared_data):
    process = subprocess.Popen([*CLI, "reproduce", "atp-paper", "--quick", "--data-dir", str(shared_data), "--out",
                                str(tmp_path / "repro"), "--dataset", "pneumoniamnist"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    time.sleep(8)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "run the same command again to resume" in stderr and "Aborted" not in stderr and "Traceback" not in stderr
