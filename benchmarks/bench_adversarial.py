"""Adversarial robustness of angle and ATP encoding on MNIST 0 vs 1, with and without
adversarial training.

Each condition is one :func:`qenc_bench.harness.compare` over the default sizes (train 400,
test 200, grid 3) and ``--seeds`` seeds: clean test accuracy, FGSM at eps 0.1 and 0.3 and
PGD (10 steps, random start) at eps 0.1, and the gradient-free baseline ``random-sign`` at
0.1 and 0.3 when the example plugin (docs/examples/qenc-example-attack) is installed; first
with clean training, then with ``--adversarial-training fgsm:0.1`` (ratio 0.5). Training runs on the ``exact`` backend;
evaluation and the attacks' gradients too (``--backend exact``, to keep it quick: the
``exact`` and ``pennylane`` backends agree to 1e-10 on this model, tests/test_attacks.py).

Run: ``python benchmarks/bench_adversarial.py [--data-dir DIR] [--seeds 3]``; the data
directory defaults to the project's shared data (``../shared/data`` beside the repository).
Prints a Markdown table: mean +- sample standard deviation over seeds, and the range.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from qenc_bench.attacks import AttackSetting, parse_attack
from qenc_bench.harness import CompareConfig, compare
from qenc_bench.plugins import load_registry

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ATTACKS = ("fgsm:0.1,0.3", "pgd:0.1")
BASELINE = "random-sign:0.1,0.3"  # from docs/examples/qenc-example-attack, when installed
ENCODERS = ("angle", "atp")


def attack_settings() -> tuple[AttackSetting, ...]:
    """FGSM and PGD; and the random-sign baseline when its plugin is installed."""
    names = [*ATTACKS, *([BASELINE] if "random-sign" in load_registry().names("attack") else [])]
    return tuple(parse_attack(a) for a in names)


def run_condition(data_dir: Path, seeds: int, backend: str, attacks, adversarial_training: str | None):
    config = CompareConfig(
        encoders=ENCODERS,
        dataset="mnist",
        classes=(0, 1),
        seeds=seeds,
        backend=backend,
        train_backend="exact",
        attacks=attacks,
        adversarial_training=parse_attack(adversarial_training) if adversarial_training else None,
        data_dir=str(data_dir),
    )
    start = time.perf_counter()
    result = compare(config)
    return result, time.perf_counter() - start


def cell(values: list[float], sign: str = "") -> str:
    """mean ± sample std (min–max); ``sign="+"`` for differences."""
    arr = np.asarray(values, dtype=float)
    std = arr.std(ddof=1) if len(arr) > 1 else 0.0
    return f"{arr.mean():{sign}.3f} ± {std:.3f} ({arr.min():{sign}.3f} to {arr.max():{sign}.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA, help="folder with mnist/ (IDX files)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--backend", default="exact", help="evaluation backend (default exact, for speed)")
    args = parser.parse_args()
    if not (args.data_dir / "mnist").is_dir():
        sys.exit(f"no MNIST files under {args.data_dir / 'mnist'}; pass --data-dir")

    attacks = attack_settings()
    labels = [label for setting in attacks for label in setting.labels()]
    header = " | ".join(label.replace("fgsm", "FGSM").replace("pgd", "PGD").replace(":", " eps ") for label in labels)
    rows, by_condition, gradient = [], {}, None
    for training in (None, "fgsm:0.1"):
        result, seconds = run_condition(args.data_dir, args.seeds, args.backend, attacks, training)
        name = "clean" if training is None else f"adversarial {training}, ratio 0.5"
        print(f"  done: {name} training in {seconds:.0f} s", flush=True)
        by_condition[training] = {(r.encoder, r.seed): r for r in result.records}
        for encoder in ENCODERS:
            records = [r for r in result.records if r.encoder == encoder]
            qubits = sorted({r.n_qubits - 1 for r in records})
            rows.append((name, encoder, "/".join(map(str, qubits)), cell([r.accuracy for r in records]),
                         *(cell([r.adversarial_accuracy[label] for r in records]) for label in labels)))
        gradient = result.records[0].attack_gradient

    print(f"\nMNIST 0 vs 1, grid 3, train 400 / validation 100 / test 200, seeds {args.seeds}; readout model,")
    print(f"trained on exact, evaluated on {args.backend}; attack gradient: {gradient}.")
    print("Test accuracy: mean ± sample std over seeds (min to max).\n")
    print(f"| training | encoder | data qubits | clean | {header} |")
    print("|---|---|---:|---:|" + "---:|" * len(labels))
    for row in rows:
        print("| " + " | ".join(row) + " |")

    print("\nAdversarial minus clean training, paired by seed (same data and initial weights):\n")
    print(f"| encoder | clean | {header} |")
    print("|---|---:|" + "---:|" * len(labels))
    plain, adversarial = by_condition[None], by_condition["fgsm:0.1"]
    for encoder in ENCODERS:
        keys = sorted(k for k in plain if k[0] == encoder)

        def delta(metric, keys=keys):
            return cell([metric(adversarial[k]) - metric(plain[k]) for k in keys], sign="+")

        cells = [delta(lambda r: r.accuracy)]
        cells += [delta(lambda r, label=label: r.adversarial_accuracy[label]) for label in labels]
        print(f"| {encoder} | " + " | ".join(cells) + " |")
    print(f"\nmachine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.platform()}")


if __name__ == "__main__":
    main()
