"""Run the timing benchmarks and write their Markdown output into docs/benchmarks.md.

Each benchmark's output replaces what stands between its markers ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->`` in docs/benchmarks.md (a missing pair is appended at the end, under
the benchmark's heading); the rest of the file is kept. The raw output of each run is also
saved to ``--save-dir``.

    python benchmarks/run_all.py [--data-dir ../shared/data] [--only training,compare]
    python benchmarks/run_all.py --from-dir /tmp/bench   # write outputs saved by an earlier run

Expect about 30 minutes on 2 cores (training and compare dominate).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOC = HERE.parent / "docs" / "benchmarks.md"
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

#: name -> (heading, script, extra arguments; DATA is replaced by --data-dir)
BENCHMARKS = {
    "training": ("Training cost: qenc-bench against EstimatorQNN and a per-sample PennyLane loop",
                 "bench_training.py", ["--data-dir", "DATA"]),
    "memory": ("Peak memory at 17 qubits, batch 1000", "bench_memory.py", []),
    "compare": ("A full five-encoder comparison through the CLI", "bench_compare.py", ["--data-dir", "DATA"]),
    "backends": ("Backends: time per sample", "bench_backends.py", ["--data-qubits", "9", "12", "16"]),
}


def command(name: str) -> str:
    _, script, extra = BENCHMARKS[name]
    shown = ["../shared/data" if a == "DATA" else a for a in extra]
    return " ".join(["python", f"benchmarks/{script}", *shown])


def run(name: str, data_dir: str) -> str:
    _, script, extra = BENCHMARKS[name]
    argv = [sys.executable, str(HERE / script)] + [data_dir if a == "DATA" else a for a in extra]
    start = time.perf_counter()
    proc = subprocess.run(argv, env=os.environ | ONE_THREAD, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{script} failed:\n{proc.stderr[-3000:]}")
    print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    # bench_backends prints progress lines ("  done: ...") on stdout: keep the table only
    return "\n".join(ln for ln in proc.stdout.splitlines() if not ln.startswith("  done:")).strip()


def section(name: str, body: str) -> str:
    return f"<!-- bench:{name} -->\n```bash\n{command(name)}\n```\n\n{body.strip()}\n<!-- /bench:{name} -->"


def write(doc: Path, outputs: dict[str, str]) -> None:
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    for name, body in outputs.items():
        block = section(name, body)
        pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _, block=block: block, text)
        else:
            text = text.rstrip("\n") + f"\n\n## {BENCHMARKS[name][0]}\n\n{block}\n"
    doc.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(HERE.parents[1] / "shared" / "data"))
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: " + ",".join(BENCHMARKS))
    parser.add_argument("--from-dir", help="write the saved outputs NAME.md from this directory instead of running")
    parser.add_argument("--save-dir", default=str(HERE / "out"), help="where to save each run's raw output")
    parser.add_argument("--doc", default=str(DOC))
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    outputs = {}
    for name in names:
        if args.from_dir:
            raw = (Path(args.from_dir) / f"{name}.md").read_text()
            outputs[name] = "\n".join(ln for ln in raw.splitlines() if not ln.startswith("  done:")).strip()
        else:
            outputs[name] = run(name, args.data_dir)
            save = Path(args.save_dir)
            save.mkdir(parents=True, exist_ok=True)
            (save / f"{name}.md").write_text(outputs[name] + "\n")
    write(Path(args.doc), outputs)
    print(f"wrote {', '.join(outputs)} into {args.doc}")


if __name__ == "__main__":
    main()
