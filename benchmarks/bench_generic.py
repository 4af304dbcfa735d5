"""Circuits outside the exact family, engine by engine: time per sample of a forward pass and
of a forward pass plus the weight VJP, the jax/lightning crossover, a 16-qubit training epoch
on the jax backend and the jax backend's peak memory at 17 qubits.

Circuits: the ``hea`` and ``reuploading`` models (2 layers) with angle and amplitude encoding
on 8, 10, 12 and 16 data qubits (the models add no qubit). Angle encoding of q qubits reads q
features; amplitude encoding reads 2^q features (any count in (2^(q-1), 2^q] gives q qubits;
2^q is the widest). Both encoders are fit on uniform [0, 1] data of that width, except
amplitude at 16 qubits: ``AmplitudeEncoder.fit`` builds dense 2^l x 2^l mixing matrices per
level, 8 GiB at level 15, so there the feature map is built without fit and the circuit gets
uniform random angles (the cost of a simulation does not depend on them).

Paths: ``jax`` (this repository's jax backend), ``pl+jax`` (PennyLane default.qubit with the
JAX interface and ``jax.jit``, written directly: no qenc-bench code in the loop, chunked like
the jax backend), ``lightning`` (lightning.qubit, adjoint, through the pennylane backend),
``default.qubit`` (autograd backprop, the pennylane backend's default), ``aer`` (parameter
shift; its VJP is skipped above 12 qubits: 2P + 1 circuits per sample) and ``auto`` (the engine
:class:`qenc_bench.harness.Engines` picks for the circuit: training for the VJP column,
clean evaluation for the forward column).

Batches: 500 rows forward, 200 forward+VJP. A path whose per-sample time, probed on 2 rows,
predicts more than ``--budget`` seconds runs fewer rows (marked ``*``); a path that would
need hours (gates x 2^n beyond ``SKIP_WORK``) is skipped (``-``). Timings are the best of
up to three runs after one warm-up (compilation, translation), wall time per sample in ms.

On a machine with a GPU the paths ``jax-gpu`` (``--device gpu``) and ``lightning.gpu`` are
added where JAX finds a GPU and where lightning.gpu is installed.

Run: ``python benchmarks/bench_generic.py [--quick] [--json out.json]``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from qenc_bench import Split, TrainConfig  # noqa: E402
from qenc_bench.plugins import load_registry  # noqa: E402
from qenc_bench.training import train  # noqa: E402
from qenc_encoders.amplitude import AmplitudeEncoder  # noqa: E402
from qenc_encoders.angle import AngleEncoder  # noqa: E402
from qenc_models import HardwareEfficientModel, ReuploadingModel  # noqa: E402

PATHS = ("jax", "pl+jax", "lightning", "default.qubit", "aer")
#: added where present: JAX's CUDA backend, PennyLane's lightning.gpu; then the auto slot
GPU_PATHS = ("jax-gpu", "lightning.gpu")
AUTO = "auto"
#: gates x 2^n above which a gate-by-gate path is not run (hours per batch)
SKIP_WORK = 2.0**29
#: the direct PennyLane+JAX program is not compiled above this many gates (minutes to hours)
REFERENCE_MAX_GATES = 1200
AER_VJP_MAX_QUBITS = 12
CHUNK_AMPLITUDES = 2**15
REPEAT_BUDGET = 20.0
CROSSOVER_BACKPROP_MAX_QUBITS = 16


# -- circuits ---------------------------------------------------------------------------------


def build_case(model: str, encoding: str, n_data: int, rows: int, rng: np.random.Generator):
    """(circuit, feature matrix (rows, F), weights, note)."""
    layered = {"hea": HardwareEfficientModel, "reuploading": ReuploadingModel}[model](layers=2)
    width = n_data if encoding == "angle" else 2**n_data
    encoder = AngleEncoder() if encoding == "angle" else AmplitudeEncoder()
    note = ""
    if encoding == "amplitude" and n_data > 14:  # fit's dense mixers: 2^(2(q-1)) entries
        encoder.n_qubits, encoder.n_features_in_ = n_data, width
        circuit = layered.build(encoder)
        features = rng.uniform(-np.pi, np.pi, size=(rows, circuit.n_features))
        note = "feature map without fit, random angles"
    else:
        x = rng.uniform(0.0, 1.0, size=(16, width))
        encoder.fit(Split(x, np.arange(16) % 2), Split(x, np.arange(16) % 2))
        circuit = layered.build(encoder)
        features = encoder.transform(rng.uniform(0.0, 1.0, size=(rows, width)))
    return circuit, features, layered.init_weights(circuit, rng), note


# -- the direct PennyLane + JAX reference -------------------------------------------------------


def reference_programs(circuit):
    """``forward(x, w)`` and ``values_and_vjp(x, w, c)``: PennyLane default.qubit, JAX
    interface, backprop, each under ``jax.jit``; the ops are plain tuples."""
    import jax
    import pennylane as qml

    gates = {"X": qml.PauliX, "H": qml.Hadamard, "RX": qml.RX, "RY": qml.RY, "RZ": qml.RZ, "CNOT": qml.CNOT,
             "CZ": qml.CZ, "IsingXX": qml.IsingXX, "IsingZZ": qml.IsingZZ}
    ops = [(gates[op.gate], op.wires, op.source, op.index) for op in circuit.ops]
    readout = circuit.readout

    @qml.qnode(qml.device("default.qubit", wires=circuit.n_qubits), interface="jax", diff_method="backprop")
    def f(x, w):
        for gate, wires, source, index in ops:
            if source is None:
                gate(wires=wires)
            else:
                gate(x[:, index] if source == "feature" else w[index], wires=wires)
        return qml.expval(qml.PauliZ(readout))

    def values_and_vjp(x, w, c):
        values, pull = jax.vjp(lambda v: f(x, v), w)
        return values, pull(c)[0]

    return jax.jit(f), jax.jit(values_and_vjp)


class Reference:
    """The reference programs run in fixed-size chunks (the last one padded), like the jax backend."""

    name = "pl+jax"

    def __init__(self, circuit):
        self.forward, self.vjp = reference_programs(circuit)
        self.chunk = max(1, CHUNK_AMPLITUDES >> circuit.n_qubits)

    def _blocks(self, features):
        for start in range(0, len(features), self.chunk):
            block = features[start : start + self.chunk]
            yield len(block), np.concatenate([block, np.zeros((self.chunk - len(block), block.shape[1]))])

    def expval(self, features, weights):
        return np.concatenate([np.asarray(self.forward(b, weights))[:m] for m, b in self._blocks(features)])

    def expval_vjp(self, features, weights, cotangent):
        grad, values = np.zeros(len(weights)), []
        for (m, b), start in zip(self._blocks(features), range(0, len(features), self.chunk), strict=True):
            c = np.zeros(self.chunk)
            c[:m] = cotangent[start : start + m]
            v, g = self.vjp(b, weights, c)
            values.append(np.asarray(v)[:m])
            grad += np.asarray(g)
        return np.concatenate(values), grad


# -- timing ---------------------------------------------------------------------------------


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measure(make_run, rows: int, budget: float) -> dict:
    """Per-sample seconds of ``make_run(k)()`` on ``k`` rows: probe 2 rows (after a warm-up),
    then as many of ``rows`` as the budget allows, best of up to 3 runs after a warm-up."""
    probe = min(2, rows)
    first = timed(make_run(probe))  # compiles / translates
    per_sample = timed(make_run(probe)) / probe
    k = rows if per_sample * rows <= budget else max(probe, int(budget / per_sample))
    run = make_run(k)
    times = [timed(run)]
    compiled = times[0] > 2 * per_sample * k + 0.5  # a new batch shape compiled in this run
    while len(times) < 3 and (sum(times) < REPEAT_BUDGET or (compiled and len(times) < 2)):
        times.append(timed(run))
    best = min(times[1:]) if len(times) > 1 else times[0]
    return {"ms": 1e3 * best / k, "rows": k, "asked": rows, "first_s": first}


def runners(path: str, backend, circuit, features, weights, cotangent):
    """(forward(k), forward_vjp(k)) factories for one path."""
    if path == "pl+jax":
        return (lambda k: lambda: backend.expval(features[:k], weights),
                lambda k: lambda: backend.expval_vjp(features[:k], weights, cotangent[:k]))

    def forward_vjp(k):
        def run():
            _, vjp = backend.expval_vjp(circuit, features[:k], weights)
            vjp(cotangent[:k])
        return run

    return (lambda k: lambda: backend.expval(circuit, features[:k], weights)), forward_vjp


# -- backends and the auto slot ---------------------------------------------------------------


def build_backend(path: str, circuit):
    if path in ("jax", "jax-gpu"):
        from qenc_jax.backend import JaxBackend
        return JaxBackend(device="gpu" if path == "jax-gpu" else "cpu")
    if path == "pl+jax":
        return Reference(circuit)
    if path in ("lightning", "default.qubit", "lightning.gpu"):
        from qenc_pennylane.backend import PennyLaneBackend
        return PennyLaneBackend(device={"lightning": "lightning.qubit"}.get(path, path))
    from qenc_aer.backend import AerBackend
    return AerBackend()


SPEC_TO_PATH = {"jax": "jax", "lightning": "lightning", "pennylane": "default.qubit", "aer": "aer"}


def auto_choice(registry, circuit, *, gradients: bool) -> str | None:
    """The harness's own ``--backend auto`` choice for this circuit: the engine
    :class:`qenc_bench.harness.Engines` picks for training (``gradients``) or for clean
    evaluation, from the backends' declared auto policies and capabilities."""
    from qenc_bench.errors import IncompatibleComponentsError
    from qenc_bench.harness import CompareConfig, Engines

    specs = {e.spec.name: e.spec for e in registry.entries("backend")}
    engines = Engines(specs, CompareConfig())
    try:
        return (engines.training(circuit) if gradients else engines.evaluation(circuit)).name
    except IncompatibleComponentsError:
        return None


def skip_reason(path: str, circuit, mode: str) -> str | None:
    work = len(circuit.ops) * 2.0**circuit.n_qubits
    if path == "pl+jax" and len(circuit.ops) > REFERENCE_MAX_GATES:
        return f"{len(circuit.ops)} gates: compile infeasible"
    if path in ("lightning", "default.qubit", "aer", "lightning.gpu") and work > SKIP_WORK:
        return f"{len(circuit.ops)} gates x 2^{circuit.n_qubits}: hours per batch"
    if path == "aer" and mode == "vjp" and circuit.n_qubits > AER_VJP_MAX_QUBITS:
        return f"parameter shift: {2 * circuit.n_weights + 1} circuits per sample"
    return None


def bench_case(model, encoding, n_data, args, registry, paths) -> dict:
    rng = np.random.default_rng(n_data)
    circuit, features, weights, note = build_case(model, encoding, n_data, max(args.forward, args.vjp), rng)
    cotangent = rng.normal(size=len(features))
    case = {"model": model, "encoding": encoding, "qubits": n_data, "gates": len(circuit.ops),
            "features": circuit.n_features, "note": note, "paths": {}}
    for path in paths:
        results = {}
        reasons = {mode: skip_reason(path, circuit, mode) for mode in ("forward", "vjp")}
        if all(reasons.values()):
            case["paths"][path] = {"skip": reasons["forward"]}
            continue
        backend = build_backend(path, circuit)
        forward, forward_vjp = runners(path, backend, circuit, features, weights, cotangent)
        for mode, make, rows in (("forward", forward, args.forward), ("vjp", forward_vjp, args.vjp)):
            results[mode] = {"skip": reasons[mode]} if reasons[mode] else measure(make, rows, args.budget)
        case["paths"][path] = results
        print(f"  {model}-{encoding} q={n_data} {path}: {fmt(results.get('forward'))} / {fmt(results.get('vjp'))}",
              flush=True)
    for mode in ("forward", "vjp"):
        chosen = auto_choice(registry, circuit, gradients=mode == "vjp")
        case["paths"].setdefault(AUTO, {})[mode] = {"chosen": chosen}
    return case


def fmt(cell) -> str:
    """A cell: ms per sample, ``*`` when fewer rows than asked ran, ``-`` when skipped."""
    if not cell or "skip" in cell or "ms" not in cell:
        return "-"
    return f"{cell['ms']:.3g}" + ("*" if cell["rows"] < cell["asked"] else "")


def auto_cell(case, mode) -> str:
    chosen = case["paths"][AUTO][mode]["chosen"]
    path = SPEC_TO_PATH.get(chosen)
    if path is None:
        return f"({chosen or 'none'})"
    return f"{fmt(case['paths'].get(path, {}).get(mode))} ({chosen})"


# -- crossover, training epoch, memory ----------------------------------------------------------


def crossover(qubits, args) -> list[dict]:
    """Forward+VJP per sample of hea(2) with angle encoding on jax, lightning and default.qubit."""
    rows = []
    for n in qubits:
        rng = np.random.default_rng(n)
        circuit, features, weights, _ = build_case("hea", "angle", n, args.vjp, rng)
        cotangent = rng.normal(size=len(features))
        row = {"qubits": n}
        for path in ("jax", "lightning", "default.qubit"):
            if path == "default.qubit" and n > CROSSOVER_BACKPROP_MAX_QUBITS:
                row[path] = {"skip": "backprop beyond 16 qubits: minutes per sample"}
                continue
            backend = build_backend(path, circuit)
            _, forward_vjp = runners(path, backend, circuit, features, weights, cotangent)
            row[path] = measure(forward_vjp, args.vjp, args.budget)
        print(f"  crossover q={n}: " + ", ".join(f"{p} {fmt(row[p])}" for p in ("jax", "lightning", "default.qubit")),
              flush=True)
        rows.append(row)
    return rows


def training_epoch(n_data: int, samples: int, validation: int) -> dict:
    """One epoch of the harness's training loop (minibatches of 32, Adam, one validation
    evaluation) on the jax backend: the first (compiling) and a second epoch."""
    from qenc_jax.backend import JaxBackend

    rng = np.random.default_rng(0)
    circuit, features, weights, _ = build_case("hea", "angle", n_data, samples + validation, rng)
    labels = rng.integers(0, 2, size=len(features))
    backend, config = JaxBackend(), TrainConfig(max_epochs=1, batch_size=32)
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        train(circuit, backend, features[:samples], labels[:samples], features[samples:], labels[samples:],
              weights, config, np.random.default_rng(1))
        seconds.append(time.perf_counter() - start)
    return {"qubits": n_data, "samples": samples, "validation": validation, "first_s": seconds[0], "warm_s": seconds[1]}


_MEMORY_PROBE = """
import json, sys, time
import numpy as np
from qenc_bench import Split
from qenc_encoders.angle import AngleEncoder
from qenc_models import HardwareEfficientModel
from qenc_jax.backend import JaxBackend
n, rows = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
x = rng.uniform(0, 1, (rows, n))
encoder = AngleEncoder().fit(Split(x, np.arange(rows) % 2), Split(x, np.arange(rows) % 2))
circuit = HardwareEfficientModel(layers=2).build(encoder)
features, weights = encoder.transform(x), rng.uniform(-3, 3, circuit.n_weights)
backend = JaxBackend()
def hwm():  # peak RSS of this process image in KiB (VmHWM resets at exec; ru_maxrss does not)
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
before = hwm()
start = time.perf_counter()
backend.expval(circuit, features, weights)
values, vjp = backend.expval_vjp(circuit, features, weights)
vjp(np.ones(rows))
seconds = time.perf_counter() - start
peak = hwm()
print(json.dumps({"qubits": n, "rows": rows, "rss_before_mib": before / 1024, "peak_rss_mib": peak / 1024,
                  "seconds": seconds}))
"""


def peak_memory(n: int, rows: int) -> dict:
    """Peak RSS of a fresh process: a forward pass and a forward+VJP of ``rows`` rows of the
    hea(2) angle circuit at ``n`` qubits on the jax backend (``VmHWM``: ``ru_maxrss`` survives
    exec and would report the parent's peak)."""
    done = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(n), str(rows)], capture_output=True,
                          text=True, timeout=7200, env=os.environ.copy())
    if done.returncode != 0:
        return {"qubits": n, "rows": rows, "error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report -------------------------------------------------------------------------------------


def gpu_paths(jax_devices: list, pl_devices: list) -> list[str]:
    """The GPU paths this machine has: a JAX GPU device, an installed lightning.gpu."""
    jax_gpu, lightning_gpu = GPU_PATHS
    found = [jax_gpu] if any(k in d.lower() for d in jax_devices for k in ("cuda", "gpu", "rocm")) else []
    return found + ([lightning_gpu] if lightning_gpu in pl_devices else [])


def environment() -> dict:
    import jax
    import pennylane as qml

    pl_devices = sorted(ep.name for ep in metadata.entry_points(group="pennylane.plugins"))
    return {
        "jax": jax.__version__, "jax_devices": [str(d) for d in jax.devices()],
        "pennylane": qml.__version__, "pennylane_devices": pl_devices,
        "threads": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "XLA_FLAGS")},
        "blas": [f"{i['internal_api']}:{i['num_threads']}" for i in threadpool_info()],
        "cpus": os.cpu_count(), "load_before": os.getloadavg(),
        "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }


def table(cases, mode: str, paths) -> list[str]:
    title = "forward, 500 rows" if mode == "forward" else "forward + weight VJP, 200 rows"
    lines = [f"ms per sample, {title} (`*`: fewer rows, `-`: skipped; auto: the engine the harness picks)", "",
             "| circuit | q | gates | " + " | ".join(paths) + f" | {AUTO} |", "|---|---|---|" + "---|" * (len(paths) + 1)]
    for case in cases:
        cells = [fmt(case["paths"].get(p, {}).get(mode)) if "skip" not in case["paths"].get(p, {}) else "-"
                 for p in paths] + [auto_cell(case, mode)]
        lines.append(f"| {case['model']}-{case['encoding']} | {case['qubits']} | {case['gates']} | "
                     + " | ".join(cells) + " |")
    return lines


def ms(case, path, mode):
    cell = case["paths"].get(path, {})
    cell = cell.get(mode) if "skip" not in cell else None
    return cell["ms"] if cell and "ms" in cell else None


def targets(cases) -> list[str]:
    """The issue's targets, forward+VJP: >= 3x default.qubit and <= 1.25x pl+jax at 8-12
    qubits; <= 1.25x the faster of lightning and pl+jax at 16."""
    lines = ["| circuit | q | jax | vs default.qubit (>= 3x) | vs pl+jax (<= 1.25) | vs min(lightning, pl+jax) (<= 1.25) |",
             "|---|---|---|---|---|---|"]
    for case in cases:
        jax_ms = ms(case, "jax", "vjp")
        if jax_ms is None:
            continue
        dq, ref, light = ms(case, "default.qubit", "vjp"), ms(case, "pl+jax", "vjp"), ms(case, "lightning", "vjp")
        faster = min([v for v in (light, ref) if v is not None], default=None)
        lines.append(f"| {case['model']}-{case['encoding']} | {case['qubits']} | {jax_ms:.3g} | "
                     f"{f'{dq / jax_ms:.1f}x' if dq else '-'} | {f'{jax_ms / ref:.2f}' if ref else '-'} | "
                     f"{f'{jax_ms / faster:.2f}' if faster else '-'} |")
    return lines


def report(out: dict) -> list[str]:
    env = out["environment"]
    lines = ["", f"load average before {env['load_before']}, after {out['load_after']}; {env['cpus']} CPUs, "
             f"pinned to {env['affinity']}; threads {env['threads']}; BLAS {env['blas']}", ""]
    if "cases" in out:
        for mode in ("forward", "vjp"):
            lines += table(out["cases"], mode, out["paths"]) + [""]
        lines += ["targets, forward+VJP (jax / other: below 1 is faster)", ""] + targets(out["cases"]) + [""]
    if "crossover" in out:
        lines += ["crossover, hea(2) angle, forward+VJP ms per sample", "", "| q | jax | lightning | default.qubit |",
                  "|---|---|---|---|"]
        lines += [f"| {r['qubits']} | {fmt(r['jax'])} | {fmt(r['lightning'])} | {fmt(r['default.qubit'])} |"
                  for r in out["crossover"]] + [""]
    if "epoch" in out:
        e = out["epoch"]
        lines += [f"training epoch, hea(2) angle at {e['qubits']} qubits, {e['samples']} samples in batches of 32 "
                  f"and {e['validation']} validation rows, jax backend: first {e['first_s']:.1f} s (compiles), "
                  f"warm {e['warm_s']:.3g} s", ""]
    if "memory" in out:
        m = out["memory"]
        what = (f"{m['peak_rss_mib']:.0f} MiB peak RSS ({m['rss_before_mib']:.0f} MiB after imports), {m['seconds']:.0f} s"
                if "peak_rss_mib" in m else m.get("error", "?"))
        lines += [f"peak memory, jax backend, hea(2) angle, {m.get('qubits')} qubits, {m.get('rows')} rows, "
                  f"forward + VJP: {what}", ""]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 8 qubits, small batches, no memory probe")
    parser.add_argument("--qubits", default=None, help="data qubit counts (default 8,10,12,16; quick: 8)")
    parser.add_argument("--forward", type=int, default=None, help="forward rows (default 500; quick 40)")
    parser.add_argument("--vjp", type=int, default=None, help="forward+VJP rows (default 200; quick 16)")
    parser.add_argument("--budget", type=float, default=None, help="seconds per measurement (default 60; quick 5)")
    parser.add_argument("--crossover", default=None, help="qubit counts of the crossover (default 8..20 step 2)")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: cases, crossover, epoch, memory")
    parser.add_argument("--json", default=None, help="also write every measurement here")
    parser.add_argument("--cores", type=int, default=1,
                        help="pin the process to this many CPUs (default 1: XLA otherwise splits large kernels over "
                             "every core, the other engines run on one; 0: no pinning)")
    args = parser.parse_args(argv)
    if args.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[-args.cores:])
    quick = args.quick
    args.forward = args.forward or (40 if quick else 500)
    args.vjp = args.vjp or (16 if quick else 200)
    args.budget = args.budget or (5.0 if quick else 60.0)
    qubits = [int(q) for q in (args.qubits or ("8" if quick else "8,10,12,16")).split(",")]
    cross = [int(q) for q in (args.crossover or ("6,8" if quick else "8,10,12,14,16,18,20")).split(",")]
    skip = set(filter(None, args.skip.split(",")))
    env = environment()
    print(json.dumps(env, indent=1), flush=True)
    paths = list(PATHS) + gpu_paths(env["jax_devices"], env["pennylane_devices"])
    print(f"paths: {', '.join(paths)}, {AUTO}", flush=True)
    registry = load_registry()
    out: dict = {"environment": env, "paths": paths}
    with threadpool_limits(limits=1, user_api="blas"):
        if "cases" not in skip:
            out["cases"] = [bench_case(m, e, q, args, registry, paths) for q in qubits for m in ("hea", "reuploading")
                            for e in ("angle", "amplitude")]
        if "crossover" not in skip:
            out["crossover"] = crossover(cross, args)
        if "epoch" not in skip:
            out["epoch"] = training_epoch(8 if quick else 16, 100 if quick else 1000, 25 if quick else 250)
        if "memory" not in skip and not quick:
            out["memory"] = peak_memory(17, 1000)
    out["load_after"] = os.getloadavg()
    print("\n".join(report(out)))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(out, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
