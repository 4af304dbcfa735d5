"""Reproduce the ATP paper's comparison (Afane et al., CVPR 2025, Tables 1-4) side by side.

The paper's grid: angle, amplitude, ATP, PCA and SQE on MNIST (0,1) (0,3) (2,4) (5,6) (2,8),
Fashion-MNIST (0,1) (2,8) (3,9) (7,9), CIFAR-10 (0,1) and PneumoniaMNIST (0,1); clean accuracy,
entanglement entropy, accuracy under depolarizing noise and under FGSM at eps 0.3. Each pair
is one :func:`qenc_bench.harness.compare`, written to its own result file as soon as it ends,
so an interrupted reproduction resumes where it stopped. A pair whose dataset is missing is
skipped with a note.

Choices where the paper is silent (stated in every report, see :data:`CHOICES`): grid 3 (9
data qubits, the paper's figures); the readout model with one layer; training to convergence
under the same budget for every encoder (Adam, early stopping); ATP's tau chosen on the
validation split by the exhaustive breakpoint search (the paper's L-BFGS-B stalls on a
piecewise-constant objective, see docs/benchmarks.md); entropy of the readout qubit in bits;
the paper's single depolarizing number is set beside our p = 0.05 (its levels were 3%, 5%,
10%); FGSM at eps 0.3 with the margin loss, no adversarial training.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .attacks import parse_attack
from .errors import DataError
from .harness import CompareConfig, compare
from .ranking import Stat
from .records import BenchmarkResult
from .training import TrainConfig

PAPER_NOISE_LEVEL = 0.05
NOISE_LEVELS = (0.03, 0.05, 0.10)
FGSM = "fgsm:0.3"

CHOICES = {
    "grid": "3 x 3 (9 data qubits), as in the paper's figures; the text gives no number",
    "model": "the paper's readout QNN, one XX and one ZZ coupling layer",
    "training": "Adam (lr 0.05, batch 32) on the hinge loss to convergence: early stopping on the validation "
                "loss, patience 10, at most 100 epochs; the same budget for every encoder",
    "atp": "tau chosen on the validation split (the paper's choice on test data leaks) by the exhaustive "
           "breakpoint search",
    "entropy": "von Neumann entropy in bits of the readout qubit, mean over test samples",
    "noise": f"depolarizing after every gate at p = 0.03, 0.05, 0.10; the paper's one number per cell is set "
             f"beside p = {PAPER_NOISE_LEVEL}",
    "fgsm": "eps 0.3 on pixels in [0, 1], margin loss, gradient through the encoder, no adversarial training",
    "backends": "trained on the exact backend (amplitude: PennyLane); evaluated on exact where the circuit "
                "allows, else Aer (noise in closed form or on density matrices)",
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


def paper_grid(tables: dict[str, Any]) -> list[tuple[str, tuple[int, int]]]:
    grid = []
    for key in tables["accuracy"]:
        dataset, pair = key.split(" ")
        grid.append((dataset, tuple(int(c) for c in pair.split(","))))
    return grid


@dataclass
class Reproduction:
    results: dict[str, BenchmarkResult] = field(default_factory=dict)  # "mnist 0,1" -> result
    skipped: dict[str, str] = field(default_factory=dict)  # "cifar10 0,1" -> why


def reproduce(
    out_dir: str | Path,
    *,
    quick: bool = True,
    data_dir: str | None = None,
    datasets: tuple[str, ...] | None = None,
    rerun: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Reproduction:
    """Run (or resume) the paper's grid; one result file per pair in ``out_dir``."""
    out_dir = Path(out_dir)
    size = SIZES["quick" if quick else "full"]
    tables = paper_tables()
    outcome = Reproduction()
    for dataset, pair in paper_grid(tables):
        key = f"{dataset} {pair[0]},{pair[1]}"
        if datasets is not None and dataset not in datasets:
            continue
        path = out_dir / f"{dataset}-{pair[0]}-{pair[1]}.json"
        if path.exists() and not rerun:
            outcome.results[key] = BenchmarkResult.load(path)
            if progress:
                progress(f"{key}: already done ({path.name})")
            continue
        config = CompareConfig(
            encoders=tuple(tables["columns"]), dataset=dataset, classes=pair, seeds=size.seeds,
            train_size=size.train_size, test_size=size.test_size, backend="auto",
            noise=NOISE_LEVELS, attacks=(parse_attack(FGSM),), training=TrainConfig(), data_dir=data_dir,
        )
        try:
            result = compare(config)
        except DataError as exc:
            outcome.skipped[key] = str(exc)
            if progress:
                progress(f"{key}: skipped, {exc}")
            continue
        result.save(path, force=True)
        outcome.results[key] = result
        if progress:
            progress(f"{key}: done")
    return outcome


METRICS = (
    # (paper table, our statistic, label, scale from ours to the paper's unit)
    ("accuracy", lambda r: r.accuracy, "accuracy (%)", 100.0),
    ("entanglement_entropy", lambda r: r.entropy, "entropy (bits)", 1.0),
    ("accuracy_depolarizing", lambda r: r.noisy_accuracy.get(f"depolarizing:{PAPER_NOISE_LEVEL:g}"),
     f"accuracy, depolarizing p={PAPER_NOISE_LEVEL} (%)", 100.0),
    ("accuracy_fgsm_eps_0.3", lambda r: r.adversarial_accuracy.get(FGSM), "accuracy, FGSM eps 0.3 (%)", 100.0),
)


@dataclass(frozen=True)
class Cell:
    pair: str
    encoder: str
    metric: str
    paper: float
    ours: Stat | None
    scale: float

    @property
    def outside(self) -> bool | None:
        """Whether the paper's value lies outside our 95% interval (None without an interval)."""
        if self.ours is None or self.ours.interval is None:
            return None
        lo, hi = self.ours.interval
        return not (lo * self.scale <= self.paper <= hi * self.scale)


def side_by_side(outcome: Reproduction, tables: dict[str, Any] | None = None) -> list[Cell]:
    tables = tables or paper_tables()
    cells = []
    for key, result in outcome.results.items():
        for table, statistic, label, scale in METRICS:
            for i, encoder in enumerate(tables["columns"]):
                runs = [r for r in result.records if r.encoder == encoder]
                values = [statistic(r) for r in runs]
                ours = Stat.of([v for v in values if v is not None]) if runs else None
                cells.append(Cell(key, encoder, label, float(tables[table][key][i]), ours, scale))
    return cells


def _ours(cell: Cell) -> str:
    if cell.ours is None:
        return "-"
    digits = 1 if cell.scale == 100.0 else 2
    text = f"{cell.ours.mean * cell.scale:.{digits}f}"
    if cell.ours.interval is not None:
        lo, hi = cell.ours.interval
        text += f" [{lo * cell.scale:.{digits}f}, {hi * cell.scale:.{digits}f}]"
    return text


def markdown_report(outcome: Reproduction, quick: bool) -> str:
    tables = paper_tables()
    cells = side_by_side(outcome, tables)
    size = SIZES["quick" if quick else "full"]
    lines = [
        "# The ATP paper, side by side",
        "",
        f"Paper: {tables['source']}. Ours: qenc-bench, real runs ({'--quick' if quick else 'full'}: "
        f"{size.seeds} seeds, {size.train_size} training and {size.test_size} test samples per seed). "
        "Each of our cells is the mean over seeds with its 95% confidence interval; **bold** marks a "
        "paper value outside our interval.",
        "",
        "## Choices where the paper is silent",
        "",
        *(f"- **{k}**: {v}" for k, v in CHOICES.items()),
        "",
    ]
    if outcome.skipped:
        lines += ["## Skipped", ""] + [f"- {k}: {why}" for k, why in outcome.skipped.items()] + [""]
    for label in [m[2] for m in METRICS]:
        lines += [f"## {label}", "", "| pair | " + " | ".join(tables["columns"]) + " |",
                  "|---|" + "---|" * len(tables["columns"])]
        for key in outcome.results:
            row = []
            for encoder in tables["columns"]:
                cell = next(c for c in cells if c.pair == key and c.encoder == encoder and c.metric == label)
                paper = f"**{cell.paper:g}**" if cell.outside else f"{cell.paper:g}"
                row.append(f"ours {_ours(cell)} · paper {paper}")
            lines.append(f"| {key} | " + " | ".join(row) + " |")
        lines.append("")
    outside = [c for c in cells if c.outside]
    judged = [c for c in cells if c.outside is not None]
    lines += [f"Paper values outside our 95% interval: {len(outside)} of {len(judged)} cells.", ""]
    return "\n".join(lines)


def html_report(outcome: Reproduction, quick: bool) -> str:
    """The side-by-side tables as one self-contained HTML page (the leaderboard's style)."""
    import html

    from .report_html import CSS, _html_table

    tables = paper_tables()
    cells = side_by_side(outcome, tables)
    esc = html.escape
    size = SIZES["quick" if quick else "full"]
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>ATP paper, side by side</title><style>{CSS} td.outside {{ font-weight: bold; color: #b00020; }}"
        "</style></head><body><main>",
        "<header><h1>The ATP paper, side by side</h1>",
        f'<p class="meta">{esc(tables["source"])} · ours: real runs, {size.seeds} seeds, {size.train_size} '
        f"training / {size.test_size} test samples per seed; mean [95% confidence interval]; a paper value outside "
        "our interval is marked.</p></header>",
        '<section class="group"><h2>Choices where the paper is silent</h2><dl class="legend">',
        *(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in CHOICES.items()),
        "</dl></section>",
    ]
    if outcome.skipped:
        parts.append('<section class="group"><h2>Skipped</h2><ul>'
                     + "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in outcome.skipped.items()) + "</ul></section>")
    for label in [m[2] for m in METRICS]:
        headers = ["pair"] + [f"{e} (ours)" for e in tables["columns"]] + [f"{e} (paper)" for e in tables["columns"]]
        rows = []
        for key in outcome.results:
            mine = [c for c in cells if c.pair == key and c.metric == label]
            rows.append([key] + [_ours(c) for c in mine] + [("outside: " if c.outside else "") + f"{c.paper:g}" for c in mine])
        parts.append(f'<section class="group"><h2>{esc(label)}</h2>{_html_table(headers, rows)}</section>')
    outside = sum(1 for c in cells if c.outside)
    judged = sum(1 for c in cells if c.outside is not None)
    parts.append(f'<p class="sources">Paper values outside our 95% interval: {outside} of {judged} cells.</p>')
    parts.append("</main></body></html>")
    return "\n".join(parts)
