"""What makes a verdict defensible, end to end on real data: classical reference rows on the
same samples, restarts, the paper's PCA on the full image, grouping by how a result was
measured, finite shots, and old results that cannot be paired."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from qenc_bench import ClassicalSpec, hookimpl
from qenc_bench.errors import ConfigError, UnknownComponentError
from qenc_bench.harness import CompareConfig, compare
from qenc_bench.leaderboard import leaderboard_of
from qenc_bench.plugins import Registry, get_plugin_manager
from qenc_bench.results import BenchmarkResult, merge
from qenc_bench.results.schema import UNPAIRED_NOTE
from qenc_bench.stats import rank
from qenc_bench.training import TrainConfig

SMALL = dict(train_size=80, test_size=40, seeds=2, training=TrainConfig(max_epochs=15, restarts=2))


@pytest.fixture(scope="module")
def digits() -> BenchmarkResult:
    return compare(CompareConfig(encoders=("atp", "angle", "pca"), **SMALL))


def test_classical_rows_see_the_same_test_samples_as_the_encoders(digits):
    by = {(r.encoder, r.seed): r for r in digits.records}
    assert {name for name, _ in by} == {"atp", "angle", "pca", "logistic", "svm"}
    for seed in (0, 1):
        angle, logistic = by[("angle", seed)], by[("logistic", seed)]
        assert logistic.kind == "classical" and logistic.n_qubits == 0 and logistic.entropy is None
        assert logistic.samples["index"] == angle.samples["index"] and logistic.samples["label"] == angle.samples["label"]
        assert logistic.accuracy == np.mean(np.array(logistic.samples["prediction"]) == logistic.samples["label"])
        assert logistic.timings["train"] < 1.0  # milliseconds, not a training loop
    ranking = rank(digits.records)
    assert all(c.paired for c in ranking.comparisons)


def test_a_third_party_classical_model_is_a_plugin(tmp_path):
    class Majority:
        def __init__(self, seed=0):
            self.label = 0

        def fit(self, x, y):
            self.label = int(np.bincount(y).argmax())
            return self

        def predict(self, x):
            return np.full(len(x), self.label)

    class Plugin:
        @hookimpl
        def qenc_bench_register_classical(self, register):
            register(ClassicalSpec(name="majority", factory=Majority, description="the majority class"))

    pm = get_plugin_manager()
    pm.register(Plugin(), name="majority")
    registry = Registry.from_plugin_manager(pm)
    result = compare(CompareConfig(encoders=("angle",), classical=("majority",), seeds=1, train_size=40,
                                   test_size=20, training=TrainConfig(max_epochs=3, restarts=1)), registry=registry)
    majority = next(r for r in result.records if r.encoder == "majority")
    assert majority.kind == "classical" and majority.accuracy == pytest.approx(0.5, abs=0.05)
    with pytest.raises(UnknownComponentError, match="unknown classical 'nope'.*logistic"):
        compare(CompareConfig(encoders=("angle",), classical=("nope",)))


def test_restarts_keep_the_best_validation_loss_and_are_recorded(digits):
    for r in (r for r in digits.records if not r.is_classical):
        info = r.training
        assert info["restarts"] == 2 and len(info["restart_validation_losses"]) == 2
        assert info["restart_validation_losses"][info["chosen_restart"]] == min(info["restart_validation_losses"])
    with pytest.raises(ConfigError, match="--restarts must be a positive integer"):
        TrainConfig(restarts=0)
    with pytest.raises(ConfigError, match="--restarts must be a positive integer"):
        TrainConfig(restarts=-2)


def test_one_restart_is_the_single_training_of_before():
    """Restart 0 draws from the seed's generator exactly as a single training always did."""
    one = compare(CompareConfig(encoders=("angle",), classical=(), seeds=1, train_size=60, test_size=30,
                                training=TrainConfig(max_epochs=10, restarts=1)))
    three = compare(CompareConfig(encoders=("angle",), classical=(), seeds=1, train_size=60, test_size=30,
                                  training=TrainConfig(max_epochs=10, restarts=3)))
    first = three.records[0].training["restart_validation_losses"][0]
    assert one.records[0].training["restart_validation_losses"] == [pytest.approx(first, abs=1e-12)]


def test_pca_reads_the_full_image_with_the_grid_qubit_budget(digits):
    pca = [r for r in digits.records if r.encoder == "pca"]
    angle = [r for r in digits.records if r.encoder == "angle"]
    for p, a in zip(pca, angle, strict=True):
        assert p.encoder_info["input_features"] == 64  # digits are 8x8; the grid is 3x3
        assert p.encoder_info["k"] == 9 == a.feature_map["qubits"]
        assert len(p.encoder_info["components"]) == 9  # kept up to 64 inputs; a 784-pixel image's are not
    atp_k = compare(CompareConfig(encoders=("atp", "pca"), encoder_options={"pca": {"k": "atp"}}, **SMALL)).records
    for seed in (0, 1):
        atp = next(r for r in atp_k if r.encoder == "atp" and r.seed == seed)
        pca = next(r for r in atp_k if r.encoder == "pca" and r.seed == seed)
        assert pca.encoder_info["k"] == atp.feature_map["qubits"]
    with pytest.raises(ConfigError, match="k=atp takes ATP's kept qubits"):
        compare(CompareConfig(encoders=("pca",), encoder_options={"pca": {"k": "atp"}}, **SMALL))


def test_results_are_grouped_by_how_they_were_measured(digits):
    as_if_pennylane = replace(digits, records=tuple(replace(r, backend="pennylane", engines={"evaluate": "pennylane"})
                                                     for r in digits.records))
    assert len(merge([digits, as_if_pennylane], ["exact.json", "pennylane.json"])) == 1
    sampled = replace(digits, records=tuple(replace(r, measurement="shots=1000") for r in digits.records))
    assert len(merge([digits, sampled], ["exact.json", "shots.json"])) == 2


def test_noisy_accuracy_with_shots_on_the_exact_backend():
    base = dict(encoders=("angle",), classical=(), seeds=1, train_size=80, test_size=60, noise=(0.05, 0.1),
                training=TrainConfig(max_epochs=15, restarts=1))
    exact = compare(CompareConfig(**base)).records[0]
    sampled = compare(CompareConfig(**base, backend_options={"shots": 50})).records[0]
    assert exact.measurement == "exact" and sampled.measurement == "shots=50"
    assert sampled.engines["evaluate"] == sampled.engines["noise"] == "exact"
    assert exact.noisy_accuracy["depolarizing:0.05"] == exact.accuracy  # noise shrinks <Z>, rarely flips it
    # sampled predictions differ from the exact ones on low-confidence samples, more under stronger noise
    flips = [np.mean(np.array(sampled.samples["noisy"][k]) != np.array(exact.samples["noisy"][k]))
             for k in ("depolarizing:0.05", "depolarizing:0.1")]
    assert 0.0 < flips[0] <= flips[1] + 0.05


def test_an_old_result_migrates_with_a_note_that_it_cannot_be_paired(digits, tmp_path):
    data = digits.to_dict()
    data["schema_version"] = 1
    data.pop("notes"), data.pop("complete")
    for r in data["records"]:
        for key in ("samples", "kind", "measurement", "engines", "backend_info", "training", "requested_sizes",
                    "metrics", "relative_cost"):
            r.pop(key)
    data["records"] = [r for r in data["records"] if r["n_qubits"] > 0]  # version 1 had no classical rows
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    loaded = BenchmarkResult.load(old)
    assert UNPAIRED_NOTE in loaded.notes and all(r.kind == "quantum" and not r.paired for r in loaded.records)
    board = leaderboard_of([loaded], [str(old)])
    assert any("cannot be compared sample by sample" in n for n in board.groups[0].notes)
    ranking = board.groups[0].ranking
    assert not any(c.paired for c in ranking.comparisons)
    for s in ranking.summaries:
        assert 0.0 <= s.accuracy.low <= s.accuracy.mean <= s.accuracy.high <= 1.0
        assert s.accuracy.covers == "seeds and test samples"  # 0/1 outcomes are known up to their order


def test_the_python_example_runs_and_plots_from_the_frame(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("pandas")
    script = Path(__file__).resolve().parents[1] / "docs" / "examples" / "python_api.py"
    out = tmp_path / "acc.png"
    done = subprocess.run([sys.executable, str(script), "--seeds", "1", "--epochs", "3", "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "records; plot written to" in done.stdout and out.stat().st_size > 1000


def test_to_frame_has_a_row_per_record_with_its_numbers(digits):
    pytest.importorskip("pandas")
    frame = digits.to_frame()
    assert len(frame) == len(digits.records)
    assert set(frame["encoder"]) == {"atp", "angle", "pca", "logistic", "svm"}
    assert list(frame["accuracy"]) == [r.accuracy for r in digits.records]
    assert (frame.loc[frame["kind"] == "classical", "n_qubits"] == 0).all()
