"""`qenc-bench reproduce atp-paper`: the paper's grid, resumable, reported side by side."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from click.testing import CliRunner

from qenc_bench.cli import main
from qenc_bench.reproduce import Cell, paper_grid, paper_tables
from qenc_bench.stats import Sample, estimate


def _estimate(*accuracies: float, n: int = 200):
    """An estimate from seeds with these accuracies on n test samples each."""
    return estimate([Sample.of(i, [1.0] * round(a * n) + [0.0] * (n - round(a * n))) for i, a in enumerate(accuracies)])


def test_the_shipped_tables_are_the_papers_grid():
    tables = paper_tables()
    assert tables["columns"] == ["angle", "amplitude", "atp", "pca", "sqe"]
    grid = paper_grid(tables)
    assert len(grid) == 11
    assert ("mnist", (0, 1)) in grid and ("pneumoniamnist", (0, 1)) in grid and ("cifar10", (0, 1)) in grid
    for table in ("accuracy", "entanglement_entropy", "accuracy_depolarizing", "accuracy_fgsm_eps_0.3"):
        assert len(tables[table]) == 11 and all(len(v) == 5 for v in tables[table].values())


def test_a_cell_marks_a_paper_value_outside_our_interval():
    ours = _estimate(0.90, 0.92, 0.91)
    assert Cell("mnist 0,1", "angle", "accuracy (%)", 91.0, ours, 100.0).outside is False
    assert Cell("mnist 0,1", "angle", "accuracy (%)", 99.0, ours, 100.0).outside is True
    assert Cell("mnist 0,1", "angle", "accuracy (%)", 99.0, None, 100.0).outside is None
    assert Cell("mnist 0,1", "logistic", "accuracy (%)", None, ours, 100.0).outside is None  # no paper value
    # one seed still has an interval (its test samples), so a paper value can be judged
    single = _estimate(0.9)
    assert single.low < 0.9 < single.high and Cell("p", "angle", "a", 99.0, single, 100.0).outside is True


@pytest.mark.slow
def test_reproduce_runs_pneumoniamnist_skips_a_missing_dataset_and_resumes(tmp_path, shared_data):
    out = tmp_path / "repro"
    args = ["reproduce", "atp-paper", "--quick", "--data-dir", str(shared_data), "--out", str(out),
            "--dataset", "pneumoniamnist", "--dataset", "fashion-mnist"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "skipped fashion-mnist 0,1" in first.stdout  # not in ../shared/data, and downloads are off in tests
    result = json.loads((out / "results" / "pneumoniamnist-0-1.json").read_text())
    assert {r["encoder"] for r in result["records"]} == {"angle", "amplitude", "atp", "pca", "sqe", "logistic", "svm"}
    record = result["records"][0]
    assert set(record["noisy_accuracy"]) == {"depolarizing:0.03", "depolarizing:0.05", "depolarizing:0.1"}
    assert set(record["adversarial_accuracy"]) == {"fgsm:0.3"}
    report = (out / "reproduction.md").read_text()
    assert "pneumoniamnist 0,1" in report and re.search(r"paper \**81", report) and "Choices where the paper is silent" in report
    html = (out / "reproduction.html").read_text()
    assert "http://" not in html and "https://" not in html
    assert (out / "leaderboard.html").exists()
    mtime = (out / "results" / "pneumoniamnist-0-1.json").stat().st_mtime_ns
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert "already done" in again.stderr
    assert (out / "results" / "pneumoniamnist-0-1.json").stat().st_mtime_ns == mtime


def test_the_metrics_section_reads_the_records_and_correlates_them_with_accuracy():
    """The reproduction's encoding-metrics table holds each encoder's metrics from its records,
    and its reading is scipy's Spearman correlation over the (pair, encoder) cells."""
    from scipy import stats

    from qenc_bench.harness import CompareConfig, compare
    from qenc_bench.reproduce.report import metric_rows
    from qenc_bench.reproduce.study import Reproduction
    from qenc_bench.stats import summarize
    from qenc_bench.training import TrainConfig

    config = CompareConfig(encoders=("angle", "atp", "pca", "sqe"), dataset="digits", classes=(0, 1), seeds=2,
                           train_size=80, test_size=40, classical=(), metrics=("entangling", "alignment"),
                           training=TrainConfig(restarts=1, max_epochs=5))
    first, second = compare(config), compare(dataclasses.replace(config, classes=(2, 8)))
    headers, rows, reading = metric_rows(Reproduction(results={"digits 0,1": first, "digits 2,8": second}))
    assert headers[:3] == ["pair", "encoder", "accuracy (%)"] and len(rows) == 8
    assert all(r[headers.index("entangling")].startswith("0 [0, 0]") for r in rows)  # product maps
    assert any("entangling: constant" in line for line in reading)
    cells = [(s.accuracy.mean, s.encoding["alignment"].mean)
             for result in (first, second) for s in summarize(result.records)]
    rho = stats.spearmanr([a for a, _ in cells], [v for _, v in cells]).statistic
    assert any(line.startswith(f"alignment: Spearman rho {rho:+.2f} with accuracy over 8") for line in reading)
    assert metric_rows(Reproduction(results={})) is None


def test_a_report_with_fewer_than_three_seeds_marks_its_intervals_provisional():
    from qenc_bench.reproduce.report import ours, provisional_note

    two, three = _estimate(0.90, 0.92), _estimate(0.90, 0.92, 0.91)
    assert ours(Cell("p", "angle", "accuracy (%)", 91.0, two, 100.0)).endswith("]?")
    assert ours(Cell("p", "angle", "accuracy (%)", 91.0, three, 100.0)).endswith("]")
    assert "2 seeds (fewer than 3)" in provisional_note(2) and provisional_note(5) is None
