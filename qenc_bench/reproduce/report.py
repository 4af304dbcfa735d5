"""The reproduction's report: each of our cells (mean over seeds and its 95% two-level bootstrap
interval) beside the paper's value, the classical reference rows, the finite-shot experiment
and the ranking across dataset pairs; as Markdown and as one self-contained HTML page."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..leaderboard import Leaderboard, leaderboard_of
from ..results.records import RunRecord
from ..stats import MIN_SEEDS, Estimate, Sample, by_model, estimate, level_sample, sample_of, summarize
from .study import CHOICES, FGSM, NOISE_LEVELS, PAPER_NOISE_LEVEL, SHOTS, Reproduction, paper_tables

Statistic = Callable[[RunRecord], Sample | None]

METRICS: tuple[tuple[str, Statistic, str, float], ...] = (
    # (paper table, our per-sample statistic, label, scale from ours to the paper's unit)
    ("accuracy", lambda r: sample_of(r, "accuracy"), "accuracy (%)", 100.0),
    ("entanglement_entropy", lambda r: sample_of(r, "entropy"), "entropy (bits)", 1.0),
    ("accuracy_depolarizing", lambda r: level_sample(r, "noisy", f"depolarizing:{PAPER_NOISE_LEVEL:g}"),
     f"accuracy, depolarizing p={PAPER_NOISE_LEVEL} (%)", 100.0),
    ("accuracy_fgsm_eps_0.3", lambda r: level_sample(r, "adversarial", FGSM), "accuracy, FGSM eps 0.3 (%)", 100.0),
)


@dataclass(frozen=True)
class Cell:
    pair: str
    encoder: str
    metric: str
    paper: float | None
    ours: Estimate | None
    scale: float

    @property
    def outside(self) -> bool | None:
        """Whether the paper's value lies outside our 95% interval (None without both)."""
        if self.ours is None or self.paper is None:
            return None
        return not (self.ours.low * self.scale <= self.paper <= self.ours.high * self.scale)


def _estimate(runs: list[RunRecord], statistic: Statistic, *names: str) -> Estimate | None:
    samples = [statistic(r) for r in runs]
    if not runs or any(s is None for s in samples):
        return None
    return estimate(samples, *names)  # type: ignore[arg-type]


def side_by_side(outcome: Reproduction, tables: dict[str, Any] | None = None) -> list[Cell]:
    tables = tables or paper_tables()
    cells = []
    for key, result in outcome.results.items():
        runs = by_model(result.records)
        for table, statistic, label, scale in METRICS:
            for i, encoder in enumerate(tables["columns"]):
                ours = _estimate(runs.get(encoder, []), statistic, key, label, encoder)
                cells.append(Cell(key, encoder, label, float(tables[table][key][i]), ours, scale))
            if table == "accuracy":
                for name in [n for n, rs in runs.items() if rs[0].is_classical]:
                    cells.append(Cell(key, name, label, None, _estimate(runs[name], statistic, key, label, name), scale))
    return cells


def ours(cell: Cell) -> str:
    if cell.ours is None:
        return "-"
    digits = 1 if cell.scale == 100.0 else 2
    e, k = cell.ours, cell.scale
    mark = "?" if e.provisional else ""
    return f"{e.mean * k:.{digits}f} [{e.low * k:.{digits}f}, {e.high * k:.{digits}f}]{mark}"


def provisional_note(seeds: int) -> str | None:
    """The warning a report with too few seeds carries."""
    if seeds >= MIN_SEEDS:
        return None
    return (f"Provisional: with {seeds} seed{'s' if seeds != 1 else ''} (fewer than {MIN_SEEDS}) the intervals barely "
            "resample the seed level; every interval is marked '?' and no claim should rest on them.")


def _classical(cells: list[Cell]) -> list[str]:
    return list(dict.fromkeys(c.encoder for c in cells if c.paper is None))


def shots_rows(outcome: Reproduction) -> tuple[list[str], list[list[str]]] | None:
    """Test accuracy of MNIST 0,1, clean and at each depolarizing level, with exact values and
    with each finite shot budget (columns budget by budget)."""
    exact = outcome.results.get("mnist 0,1")
    if exact is None or not outcome.shots:
        return None
    budgets = [("exact", exact), *((f"{s} shots", outcome.shots[s]) for s in SHOTS if s in outcome.shots)]
    def noisy(p: float) -> Statistic:
        return lambda r: level_sample(r, "noisy", f"depolarizing:{p:g}")

    statistics: list[tuple[str, Statistic]] = [("clean", lambda r: sample_of(r, "accuracy"))]
    statistics += [(f"p={p:g}", noisy(p)) for p in NOISE_LEVELS]
    headers = ["encoder", *(f"{budget}: {what}" for budget, _ in budgets for what, _ in statistics)]
    rows = []
    for encoder in paper_tables()["columns"]:
        row = [encoder]
        for budget, result in budgets:
            runs = by_model(result.records).get(encoder, [])
            for what, statistic in statistics:
                e = _estimate(runs, statistic, "shots", budget, what, encoder)
                row.append("-" if e is None else f"{100 * e.mean:.1f} [{100 * e.low:.1f}, {100 * e.high:.1f}]"
                           + ("?" if e.provisional else ""))
        rows.append(row)
    return headers, rows


ENCODING_METRICS = ("expressibility", "entangling", "alignment", "trainability")


def metric_rows(outcome: Reproduction) -> tuple[list[str], list[list[str]], list[str]] | None:
    """The encoding metrics of the paper's encoders, per pair that computed them, beside test
    accuracy (mean [95% interval over seeds]), and a reading: the Spearman rank correlation of
    each metric with accuracy over every (pair, encoder) cell and, averaged, within pairs."""
    from scipy import stats

    columns = paper_tables()["columns"]
    headers = ["pair", "encoder", "accuracy (%)", *ENCODING_METRICS]
    rows: list[list[str]] = []
    cells: dict[str, list[tuple[str, float, dict[str, float]]]] = {}
    for key, result in outcome.results.items():
        summaries = {s.name: s for s in summarize(result.records) if s.name in columns}
        if not any(s.encoding for s in summaries.values()):
            continue
        for encoder in columns:
            s = summaries.get(encoder)
            if s is None or s.accuracy is None:
                continue
            values = {m: s.encoding[m].mean for m in ENCODING_METRICS if m in s.encoding}
            cells.setdefault(key, []).append((encoder, s.accuracy.mean, values))
            a = s.accuracy
            row = [key, encoder, f"{100 * a.mean:.1f} [{100 * a.low:.1f}, {100 * a.high:.1f}]"
                   + ("?" if a.provisional else "")]
            for m in ENCODING_METRICS:
                e = s.encoding.get(m)
                row.append("-" if e is None else f"{e.mean:.3g} [{e.low:.3g}, {e.high:.3g}]"
                           + ("?" if e.provisional else ""))
            rows.append(row)
    if not rows:
        return None
    reading = []
    for m in ENCODING_METRICS:
        pairs = [(acc, v[m]) for found in cells.values() for _, acc, v in found if m in v]
        if len(pairs) < 3 or len({v for _, v in pairs}) < 2:
            reading.append(f"{m}: constant or too few cells, no correlation")
            continue
        overall = stats.spearmanr([p[0] for p in pairs], [p[1] for p in pairs])
        within = []
        for found in cells.values():
            x = [(acc, v[m]) for _, acc, v in found if m in v]
            if len(x) >= 3 and len({v for _, v in x}) > 1 and len({a for a, _ in x}) > 1:
                within.append(float(stats.spearmanr([a for a, _ in x], [v for _, v in x]).statistic))
        inside = (f"; within pairs, mean rho {sum(within) / len(within):+.2f} over {len(within)} pairs"
                  if within else "")
        reading.append(f"{m}: Spearman rho {float(overall.statistic):+.2f} with accuracy over {len(pairs)} "
                       f"(pair, encoder) cells (p = {float(overall.pvalue):.2g}){inside}")
    return headers, rows, reading


def board_of(outcome: Reproduction) -> Leaderboard:
    keys = list(outcome.results)
    return leaderboard_of([outcome.results[k] for k in keys], keys, "accuracy")


def markdown_report(outcome: Reproduction, quick: bool) -> str:
    from ..render.markdown import study_table, study_verdict

    tables = paper_tables()
    cells = side_by_side(outcome, tables)
    size = outcome.size
    classical = _classical(cells)
    lines = [
        "# The ATP paper, side by side", "",
        f"Paper: {tables['source']}. Ours: qenc-bench, real runs ({'--quick' if quick else '--full'}: "
        f"{size.seeds} seeds, {size.train_size} training and {size.test_size} test samples per seed). "
        "Each of our cells is the mean over seeds with its 95% two-level bootstrap interval (seeds and test "
        "samples); **bold** marks a paper value outside our interval.", "",
        *([f"**{provisional_note(size.seeds)}**", ""] if provisional_note(size.seeds) else []),
        "## Choices where the paper is silent", "", *(f"- **{k}**: {v}" for k, v in CHOICES.items()), "",
    ]
    if outcome.skipped:
        lines += ["## Skipped", "", *(f"- {k}: {why}" for k, why in outcome.skipped.items()), ""]
    for label in [m[2] for m in METRICS]:
        extra = classical if label == METRICS[0][2] else []
        lines += [f"## {label}", "", "| pair | " + " | ".join([*tables["columns"], *(f"{c} (classical)" for c in extra)])
                  + " |", "|---|" + "---|" * (len(tables["columns"]) + len(extra))]
        for key in outcome.results:
            row = []
            for encoder in [*tables["columns"], *extra]:
                cell = next((c for c in cells if c.pair == key and c.encoder == encoder and c.metric == label), None)
                if cell is None:
                    row.append("-")
                elif cell.paper is None:
                    row.append(f"ours {ours(cell)}")
                else:
                    paper = f"**{cell.paper:g}**" if cell.outside else f"{cell.paper:g}"
                    row.append(f"ours {ours(cell)} · paper {paper}")
            lines.append(f"| {key} | " + " | ".join(row) + " |")
        lines.append("")
    judged = [c for c in cells if c.outside is not None]
    lines += [f"Paper values outside our 95% interval: {sum(bool(c.outside) for c in judged)} of {len(judged)} "
              f"cells.", ""]
    shots = shots_rows(outcome)
    if shots is not None:
        headers, rows = shots
        lines += ["## Depolarizing noise with finite shots (MNIST 0,1)", "",
                  "Test accuracy (%) with exact expectation values and with each value estimated from a finite "
                  "number of shots (binomial samples of the closed-form probability), at each noise level.", "",
                  "| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1),
                  *("| " + " | ".join(r) + " |" for r in rows), ""]
    found = metric_rows(outcome)
    if found is not None:
        headers, rows, reading = found
        lines += ["## Encoding metrics", "",
                  "Per encoder and seed on the prepared data (definitions, pair and bin counts: docs/metrics.md); "
                  "mean [95% interval over seeds]. Expressibility is a KL divergence from Haar (lower: more "
                  "expressive); entangling is Meyer-Wallach Q of the feature-map state (0 for product maps); "
                  "alignment is the kernel-target alignment of the fidelity kernel on the training split; "
                  "trainability is the variance of the loss gradient over random initialisations.", "",
                  "| " + " | ".join(headers) + " |", "|---|---|" + "---:|" * (len(headers) - 2),
                  *("| " + " | ".join(r) + " |" for r in rows), "",
                  "Do they explain the accuracy ranking?", "", *(f"- {line}" for line in reading), ""]
    for study in board_of(outcome).studies:
        headers, rows = study_table(study)
        lines += ["## Ranking across dataset pairs (accuracy)", "", study_verdict(study), "",
                  "| " + " | ".join(headers) + " |", "|---:|---|" + "---:|" * (len(headers) - 2),
                  *("| " + " | ".join(r) + " |" for r in rows), ""]
    return "\n".join(lines)


def html_report(outcome: Reproduction, quick: bool) -> str:
    """The side-by-side tables as one self-contained HTML page (the leaderboard's style)."""
    from ..render.html import CSS, _figures
    from ..render.markdown import study_table, study_verdict
    from ..render.plots import critical_difference

    tables = paper_tables()
    cells = side_by_side(outcome, tables)
    esc = html.escape
    size = outcome.size
    classical = _classical(cells)

    def table(headers: list[str], rows: list[list[str]]) -> str:
        head = "".join(f'<th class="{"text" if i == 0 else ""}">{esc(h)}</th>' for i, h in enumerate(headers))
        body = "".join("<tr>" + "".join(
            f'<td class="{"text" if i == 0 else ("outside" if c.startswith("outside: ") else "")}">{esc(c)}</td>'
            for i, c in enumerate(r)) + "</tr>" for r in rows)
        return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'

    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>ATP paper, side by side</title><style>{CSS} td.outside {{ font-weight: bold; color: #b00020; }}"
        "</style></head><body><main>",
        "<header><h1>The ATP paper, side by side</h1>",
        f'<p class="meta">{esc(tables["source"])} · ours: real runs, {size.seeds} seeds, {size.train_size} '
        f"training / {size.test_size} test samples per seed; mean [95% two-level bootstrap interval over seeds and "
        "test samples]; a paper value outside our interval is marked.</p>",
        *([f'<p class="warning">{esc(provisional_note(size.seeds) or "")}</p>'] if provisional_note(size.seeds) else []),
        "</header>",
        '<section class="group"><h2>Choices where the paper is silent</h2><dl class="legend">',
        *(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in CHOICES.items()), "</dl></section>",
    ]
    if outcome.skipped:
        parts.append('<section class="group"><h2>Skipped</h2><ul>'
                     + "".join(f"<li>{esc(k)}: {esc(v)}</li>" for k, v in outcome.skipped.items()) + "</ul></section>")
    for label in [m[2] for m in METRICS]:
        extra = classical if label == METRICS[0][2] else []
        headers = ["pair", *(f"{e} (ours)" for e in tables["columns"]), *(f"{c} (classical)" for c in extra),
                   *(f"{e} (paper)" for e in tables["columns"])]
        rows = []
        for key in outcome.results:
            mine = [c for c in cells if c.pair == key and c.metric == label]
            quantum = [next(c for c in mine if c.encoder == e) for e in tables["columns"]]
            references = [next(c for c in mine if c.encoder == e) for e in extra if any(c.encoder == e for c in mine)]
            rows.append([key, *(ours(c) for c in quantum), *(ours(c) for c in references),
                         *(("outside: " if c.outside else "") + f"{c.paper:g}" for c in quantum)])
        parts.append(f'<section class="group"><h2>{esc(label)}</h2>{table(headers, rows)}</section>')
    shots = shots_rows(outcome)
    if shots is not None:
        parts.append('<section class="group"><h2>Depolarizing noise with finite shots (MNIST 0,1)</h2>'
                     f"{table(*shots)}</section>")
    found = metric_rows(outcome)
    if found is not None:
        headers, rows, reading = found
        parts.append('<section class="group"><h2>Encoding metrics</h2><p class="setting">Per encoder and seed; '
                     "mean [95% interval over seeds]; definitions in docs/metrics.md.</p>"
                     f"{table(headers, rows)}<ul>" + "".join(f"<li>{esc(line)}</li>" for line in reading)
                     + "</ul></section>")
    for study in board_of(outcome).studies:
        parts.append(f'<section class="group"><h2>Ranking across dataset pairs</h2><p class="setting">'
                     f"{esc(study_verdict(study))}</p>{table(*study_table(study))}")
        diagram = critical_difference(study.cross)
        if diagram is not None:
            parts.append(_figures([diagram]))
        parts.append("</section>")
    judged = [c for c in cells if c.outside is not None]
    parts.append(f'<p class="sources">Paper values outside our 95% interval: {sum(bool(c.outside) for c in judged)} '
                 f"of {len(judged)} cells.</p></main></body></html>")
    return "\n".join(parts)
