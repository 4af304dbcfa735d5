"""Reproduce the ATP paper's comparison (Afane et al., CVPR 2025, Tables 1-4): the grid, run
and resumed pair by pair.

The paper's grid: angle, amplitude, ATP, PCA and SQE on MNIST (0,1) (0,3) (2,4) (5,6) (2,8),
Fashion-MNIST (0,1) (2,8) (3,9) (7,9), CIFAR-10 (0,1) and PneumoniaMNIST (0,1); clean accuracy,
entanglement entropy, accuracy under depolarizing noise and under FGSM at eps 0.3. Each pair
is one :func:`qenc_bench.harness.compare` with the classical reference rows, written to its
own result file as soon as it ends, so an interrupted reproduction resumes where it stopped;
the folder remembers the settings it was made with and refuses to resume with others. A
pair whose dataset is missing is skipped with a note. One more experiment evaluates MNIST 0,1
under depolarizing noise with finite shots (``shots``), to see how much of the paper's drops
of 5-15 points sampling explains. On MNIST every pair also computes the encoding metrics
(expressibility, entangling capability, kernel alignment, trainability), so the report can ask
whether they explain the accuracy ranking.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..attacks import parse_attack
from ..errors import DataError, ResultFileError
from ..harness import CompareConfig, compare
from ..results import BenchmarkResult, write_json_atomic
from ..resume import settings_difference
from ..training import TrainConfig

PAPER_NOISE_LEVEL = 0.05
NOISE_LEVELS = (0.03, 0.05, 0.10)
FGSM = "fgsm:0.3"
SHOTS = (100, 1000)  # the finite-shot experiment's budgets, beside exact values
SHOTS_PAIR = ("mnist", (0, 1))
METRICS_DATASETS = ("mnist",)  # pairs that also compute every encoding metric
SETTINGS_FILE = "reproduction-settings.json"

CHOICES = {
    "grid": "3 x 3 (9 data qubits), as in the paper's figures; the text gives no number",
    "model": "the paper's readout QNN, one XX and one ZZ coupling layer",
    "training": "Adam (lr 0.05, batch 32) on the hinge loss to convergence: early stopping on the validation "
                "loss, patience 10, at most 100 epochs, the best of 3 seeded restarts by validation loss; the same "
                "budget for every encoder",
    "atp": "tau chosen on the validation split (the paper's choice on test data leaks) by the joint search, "
           "which finds the exhaustive breakpoint search's answer",
    "pca": "the full image (784 pixels for MNIST) reduced to 9 components, the qubits angle encoding uses on the "
           "grid (the paper's PCA reduces the whole image; PCA after the 3x3 resize would be a strawman)",
    "classical": "scikit-learn's LogisticRegression and RBF SVM, out of the box, on the same grid features, splits "
                 "and seeds (rows marked classical)",
    "entropy": "von Neumann entropy in bits of the readout qubit, mean over test samples",
    "noise": f"depolarizing after every gate at p = 0.03, 0.05, 0.10, exact expectation values; the paper's one "
             f"number per cell is set beside p = {PAPER_NOISE_LEVEL}; a separate experiment adds finite shots",
    "fgsm": "eps 0.3 on the image's pixels in [0, 1] (the same attacked image for every encoder), margin loss, "
            "gradient through the encoder, no adversarial training",
    "metrics": "on MNIST, every registered encoding metric (docs/metrics.md) per encoder and seed on the "
               "prepared data; intervals over seeds",
    "intervals": "two-level bootstrap over seeds and test samples (95%, percentile); ranks from paired "
                 "per-sample comparisons, Holm-corrected; across pairs: mean rank, Friedman test, Nemenyi CD",
}


@dataclass(frozen=True)
class Size:
    seeds: int
    train_size: int
    test_size: int


SIZES = {"quick": Size(seeds=2, train_size=200, test_size=100), "full": Size(seeds=5, train_size=400, test_size=200)}


def paper_tables() -> dict[str, Any]:
    """The paper's Tables 1-4, shipped with qenc-bench."""
    return json.loads(resources.files("qenc_bench.reference").joinpath("atp_paper_tables.json").read_text())


def paper_grid(tables: dict[str, Any]) -> list[tuple[str, tuple[int, ...]]]:
    grid = []
    for key in tables["accuracy"]:
        dataset, pair = key.split(" ")
        grid.append((dataset, tuple(int(c) for c in pair.split(","))))
    return grid


@dataclass
class Reproduction:
    results: dict[str, BenchmarkResult] = field(default_factory=dict)  # "mnist 0,1" -> result
    skipped: dict[str, str] = field(default_factory=dict)  # "cifar10 0,1" -> why
    shots: dict[int, BenchmarkResult] = field(default_factory=dict)  # shots -> MNIST 0,1 noisy result
    size: Size = SIZES["quick"]


def pair_config(dataset: str, pair: tuple[int, ...], size: Size, data_dir: str | None, tables: dict[str, Any],
                **extra: Any) -> CompareConfig:
    metrics = ("all",) if dataset in METRICS_DATASETS else ()
    return CompareConfig(encoders=tuple(tables["columns"]), dataset=dataset, classes=pair, seeds=size.seeds,
                         train_size=size.train_size, test_size=size.test_size, backend="auto", noise=NOISE_LEVELS,
                         attacks=(parse_attack(FGSM),), training=TrainConfig(), data_dir=data_dir, metrics=metrics,
                         **extra)


def shots_config(shots: int, size: Size, data_dir: str | None, tables: dict[str, Any]) -> CompareConfig:
    dataset, pair = SHOTS_PAIR
    return CompareConfig(encoders=tuple(tables["columns"]), dataset=dataset, classes=pair, seeds=size.seeds,
                         train_size=size.train_size, test_size=size.test_size, backend="auto",
                         backend_options={"shots": shots}, noise=NOISE_LEVELS, classical=(),
                         training=TrainConfig(), data_dir=data_dir)


def check_settings(out_dir: Path, settings: dict[str, Any], rerun: bool) -> None:
    """Refuse to resume into a folder made with other settings; record them in a new one."""
    path = out_dir / SETTINGS_FILE
    if path.exists() and not rerun:
        stored = json.loads(path.read_text(encoding="utf-8"))
        difference = settings_difference(stored, settings)
        if difference:
            raise ResultFileError(f"{out_dir} holds a reproduction made with other settings ({difference}); "
                                  f"pass --rerun to replace it, or choose a new --out")
    write_json_atomic(path, settings)


def reproduce(out_dir: str | Path, *, quick: bool = True, data_dir: str | None = None,
              datasets: tuple[str, ...] | None = None, rerun: bool = False,
              progress: Callable[[str], None] | None = None, shots: bool = True) -> Reproduction:
    """Run (or resume) the paper's grid; one result file per pair in ``out_dir``."""
    out_dir = Path(out_dir)
    size = SIZES["quick" if quick else "full"]
    tables = paper_tables()
    check_settings(out_dir, {"study": "atp-paper", "size": asdict(size),
                             "example": pair_config("mnist", (0, 1), size, None, tables).to_dict()}, rerun)
    outcome = Reproduction(size=size)
    say = progress or (lambda line: None)
    for dataset, pair in paper_grid(tables):
        key = f"{dataset} {pair[0]},{pair[1]}"
        if datasets is not None and dataset not in datasets:
            continue
        result = _run_or_load(out_dir / f"{dataset}-{pair[0]}-{pair[1]}.json",
                              pair_config(dataset, pair, size, data_dir, tables), rerun, key, say, outcome)
        if result is not None:
            outcome.results[key] = result
    if shots and (datasets is None or SHOTS_PAIR[0] in datasets):
        for budget in SHOTS:
            result = _run_or_load(out_dir / f"shots-{budget}.json", shots_config(budget, size, data_dir, tables),
                                  rerun, f"{SHOTS_PAIR[0]} 0,1 with {budget} shots", say, outcome)
            if result is not None:
                outcome.shots[budget] = result
    return outcome


def _run_or_load(path: Path, config: CompareConfig, rerun: bool, key: str, say, outcome: Reproduction
                 ) -> BenchmarkResult | None:
    if path.exists() and not rerun:
        say(f"{key}: already done ({path.name})")
        return BenchmarkResult.load(path)
    try:
        result = compare(config)
    except DataError as exc:
        outcome.skipped[key] = str(exc)
        say(f"{key}: skipped, {exc}")
        return None
    result.save(path, force=True)
    say(f"{key}: done")
    return result
