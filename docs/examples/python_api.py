"""A comparison from Python, and a plot from its records as a pandas DataFrame.

    python docs/examples/python_api.py --out accuracy.png          # digits, 3 seeds (about 10 s)
    python docs/examples/python_api.py --dataset mnist --data-dir ../shared/data --out mnist.png

Needs pandas (``pip install "qenc-bench[pandas]"``) and matplotlib (a dependency).
"""

from __future__ import annotations

import argparse

from matplotlib.figure import Figure

from qenc_bench import CompareConfig, TrainConfig, compare, leaderboard_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="accuracy.png")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()

    config = CompareConfig(encoders=("atp", "angle", "pca"), dataset=args.dataset, classes=(0, 1), seeds=args.seeds,
                           training=TrainConfig(max_epochs=args.epochs), data_dir=args.data_dir)
    result = compare(config, on_record=lambda r: print(f"{r.encoder} seed {r.seed}: {r.accuracy:.3f}"))

    # the ranking the command line prints, as objects
    for s in leaderboard_of([result], ["python"]).groups[0].summaries:
        print(f"rank {s.rank}{'=' if s.shared else ''} {s.name}: {s.accuracy.mean:.3f} "
              f"[{s.accuracy.low:.3f}, {s.accuracy.high:.3f}]")

    # one row per record: plot accuracy per seed, by model
    frame = result.to_frame()
    per_model = frame.pivot_table(index="seed", columns="encoder", values="accuracy")
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot()
    for name in per_model.columns:
        ax.plot(per_model.index, per_model[name], marker="o", label=name)
    ax.set_xlabel("seed")
    ax.set_ylabel("test accuracy")
    ax.set_xticks(per_model.index)
    ax.legend(frameon=False, fontsize=8)
    fig.savefig(args.out)
    print(f"{len(frame)} records; plot written to {args.out}")


if __name__ == "__main__":
    main()
