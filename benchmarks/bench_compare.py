"""Wall time of a full ``qenc-bench compare`` of five encoders, run as a user would run it.

For each grid, runs (in a subprocess, BLAS limited to one thread through the environment)::

    qenc-bench compare --encoders angle,amplitude,atp,pca,sqe --dataset mnist --classes 0,1 \
        --data-dir DATA --seeds 3 [--grid 4] --out TMP.json

and reads the result JSON: the share of each phase (``fit_encoder``, ``train``, ``evaluate``
summed over the records), and per encoder its time summed over the three seeds, the backend
it trained on and its epochs. Prints Markdown.

    python benchmarks/bench_compare.py [--grids 3 4] [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ENCODERS = "angle,amplitude,atp,pca,sqe"
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}
TARGET_SECONDS = 120.0


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores"


def load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def run_grid(grid: int, data_dir: str) -> tuple[float, dict, str, str]:
    exe = Path(sys.executable).with_name("qenc-bench")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [str(exe), "compare", "--encoders", ENCODERS, "--dataset", "mnist", "--classes", "0,1",
               "--data-dir", data_dir, "--seeds", "3"]
        if grid != 3:
            cmd += ["--grid", str(grid)]
        shown = " ".join(["qenc-bench"] + cmd[1:])
        cmd += ["--out", str(out)]
        before = load()
        start = time.perf_counter()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, env=os.environ | ONE_THREAD, capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"compare failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return wall, json.loads(out.read_text()), shown, f"{before} before, {load()} after; CPU time of the command {cpu:.1f} s"


def report(grid: int, wall: float, result: dict, shown: str, loads: str) -> None:
    records = result["records"]
    phases = defaultdict(float)
    per = defaultdict(lambda: {"seconds": 0.0, "phases": defaultdict(float), "train_backend": set(),
                               "epochs": [], "acc": [], "qubits": set()})
    for r in records:
        e = per[r["encoder"]]
        for k, v in r["timings"].items():
            phases[k] += v
            e["phases"][k] += v
            e["seconds"] += v
        e["train_backend"].add(r["train_backend"])
        e["epochs"].append(r["epochs"])
        e["acc"].append(r["accuracy"])
        e["qubits"].add(r["n_qubits"])
    total = sum(phases.values())
    print(f"\n### Grid {grid} ({grid * grid} pixels)\n")
    print(f"```\n{shown}\n```\n")
    print(f"Wall time of the whole command (process start to exit, data loading included): "
          f"**{wall:.1f} s**; sum of recorded phases {total:.1f} s. Load average (1/5/15 min): {loads}.\n")
    print("| phase | seconds | share |")
    print("|---|---:|---:|")
    for k in ("fit_encoder", "train", "evaluate"):
        print(f"| {k} | {phases[k]:.1f} | {100 * phases[k] / total:.1f}% |")
    print()
    print("| encoder | qubits | trained on | epochs (3 seeds) | fit_encoder s | train s | evaluate s | "
          "total s (3 seeds) | under 2 min | test acc. (mean) |")
    print("|---|---:|---|---|---:|---:|---:|---:|---|---:|")
    for name, e in per.items():
        p = e["phases"]
        ok = "yes" if e["seconds"] < TARGET_SECONDS else "**no**"
        acc = sum(e["acc"]) / len(e["acc"])
        print(f"| {name} | {','.join(map(str, sorted(e['qubits'])))} | {','.join(sorted(e['train_backend']))} | "
              f"{','.join(map(str, e['epochs']))} | {p['fit_encoder']:.1f} | {p['train']:.1f} | {p['evaluate']:.1f} | "
              f"{e['seconds']:.1f} | {ok} | {acc:.3f} |")
    slowest = max(per.items(), key=lambda kv: kv[1]["seconds"])
    print(f"\nSlowest: {slowest[0]} ({slowest[1]['seconds']:.1f} s, "
          f"{100 * slowest[1]['seconds'] / total:.0f}% of the recorded time).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, nargs="+", default=[3, 4])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = parser.parse_args()
    env = {}
    print(f"Machine: {machine()}; Python {sys.version.split()[0]}; BLAS threads 1 (environment).")
    for grid in args.grids:
        wall, result, shown, loads = run_grid(grid, args.data_dir)
        env = result.get("environment", {})
        report(grid, wall, result, shown, loads)
    versions = {k: v for k, v in env.get("versions", {}).items() if v}
    if versions:
        print("\nVersions (from the result file): " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))


if __name__ == "__main__":
    main()
