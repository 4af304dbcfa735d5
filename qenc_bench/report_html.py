"""A leaderboard as Markdown and as one self-contained HTML page (inline CSS, plots as
base64 PNG, no external URL), from ranked groups (:func:`qenc_bench.report.rank_group`).

matplotlib is imported only when a plot is drawn, through its object-oriented API (a
``Figure`` rendered by Agg: no pyplot, no global backend switch), so Markdown and the CLI's
start stay light.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from .errors import ConfigError, MissingDependencyError, ResultFileError
from .report import RankedGroup, label_level
from .tables import format_interval, format_stat, rank_label, summary_notes

LEGEND: tuple[tuple[str, str], ...] = (
    ("rank", "position by the ranking metric. '=' marks a shared rank: the encoder's 95% confidence interval "
             "overlaps the one ranked just above it, so the data cannot order them. '?' marks a provisional rank: "
             "some encoder has a single seed, hence no interval."),
    ("test accuracy", "accuracy of the sign of the readout qubit's ⟨Z⟩ (one-vs-rest: of the class whose model "
                      "outputs the most) on the held-out test split; mean ± sample standard deviation over seeds."),
    ("95% CI", "95% confidence interval of the mean test accuracy (Student's t, n - 1 degrees of freedom)."),
    ("entropy", "von Neumann entropy in bits of the readout qubit's reduced state after the trained circuit, "
                "mean over test samples; mean ± standard deviation over seeds. Lower is ranked better."),
    ("qubits, 2q gates, depth", "of the whole circuit (encoder and model), mean over seeds (ATP prunes "
                                "a different number of qubits per seed)."),
    ("acc @ p=P", "test accuracy with depolarizing noise of Pauli-error probability P after every gate, "
                  "mean over seeds."),
    ("acc @ ATTACK eps=E", "test accuracy on adversarial examples (L-inf radius E on pixels in [0, 1]), "
                           "mean over seeds."),
    ("robustness", "mean of every noisy and adversarial accuracy a run measured; mean ± standard deviation "
                   "over seeds."),
    ("overall", "ranking by the mean of an encoder's ranks on the metrics every encoder has."),
    ("runs", "seeds merged for the encoder (each seed: its own subsample, split and initial weights)."),
    ("notes", "tau: ATP's chosen threshold (mean over seeds); 'k/n not converged': runs that hit the epoch "
              "cap before early stopping."),
)


# --- the table shared by both formats --------------------------------------------------------

def leaderboard_table(ranked: RankedGroup) -> tuple[list[str], list[list[str]]]:
    """Headers and rows (text cells) of one group's leaderboard, best first."""
    summaries = ranked.summaries
    robust = any(s.metrics["robustness"] is not None for s in summaries)
    headers = ["rank", "encoder", "test accuracy", "95% CI", "entropy", "qubits", "2q gates", "depth",
               *(["robustness"] if robust else []), "runs", "notes"]
    rows = []
    for s in summaries:
        rows.append([
            rank_label(s),
            s.encoder,
            format_stat(s.accuracy),
            format_interval(s.accuracy),
            format_stat(s.entropy),
            f"{s.n_qubits:.3g}",
            f"{s.two_qubit_gates:.3g}",
            f"{s.depth:.3g}",
            *([format_stat(s.metrics["robustness"])] if robust else []),
            str(s.runs),
            ", ".join(summary_notes(s, markup=False)),
        ])
    return headers, rows


def robustness_levels_table(ranked: RankedGroup) -> tuple[list[str], list[list[str]]] | None:
    """Clean, noisy and adversarial test accuracy per level (means over seeds), in rank order;
    None when the group measured none."""
    summaries = ranked.summaries
    noise = sorted({k for s in summaries for k in s.noisy_accuracy}, key=label_level)
    attacks = sorted({k for s in summaries for k in s.adversarial_accuracy}, key=label_level)
    if not noise and not attacks:
        return None
    headers = ["encoder", "clean", *(f"acc @ p={k.partition(':')[2]}" for k in noise),
               *(f"acc @ {k.partition(':')[0]} eps={k.partition(':')[2]}" for k in attacks)]
    rows = [[s.encoder, f"{s.accuracy.mean:.3f}",
             *(f"{s.noisy_accuracy[k]:.3f}" if k in s.noisy_accuracy else "-" for k in noise),
             *(f"{s.adversarial_accuracy[k]:.3f}" if k in s.adversarial_accuracy else "-" for k in attacks)]
            for s in summaries]
    return headers, rows


def seed_ranges(seeds: Sequence[int]) -> str:
    """``0-2, 10-12`` for [0, 1, 2, 10, 11, 12]."""
    if not seeds:
        return "none"
    out, seeds = [], sorted(seeds)
    start = prev = seeds[0]
    for s in [*seeds[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = s
    return ", ".join(out)


def _setting_line(ranked: RankedGroup) -> str:
    """The parts of the setting the group's label does not show, the seeds and the metric."""
    g = ranked.group
    label = g.label.split(" · ")
    rest = [text for text in g.setting.parts().values() if text not in label]
    return " · ".join([*rest, f"seeds {seed_ranges(g.seeds)}", f"ranked by {ranked.rank_by}"])


def _header_facts(groups: Sequence[RankedGroup], sources: Sequence[str], rank_by: str) -> str:
    runs = sum(len(r.group.records) for r in groups)
    try:
        version = metadata.version("qenc-bench")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        version = "?"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{len(sources)} result file{'s' if len(sources) != 1 else ''} · {runs} runs · "
            f"{len(groups)} group{'s' if len(groups) != 1 else ''} · ranked by {rank_by} · "
            f"generated {when} by qenc-bench {version}")


# --- Markdown ----------------------------------------------------------------------------------

def _md_cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def _md_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |",
            "|" + "|".join("---" if h in ("encoder", "notes") else "---:" for h in headers) + "|",
            *("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows), ""]


def markdown_leaderboard(groups: Sequence[RankedGroup], sources: Sequence[str], rank_by: str) -> str:
    """The leaderboard as GitHub-flavoured Markdown: a table per group and a legend."""
    lines = ["# qenc-bench leaderboard", "", _header_facts(groups, sources, rank_by) + ".", "",
             "Sources: " + ", ".join(f"`{s}`" for s in sources) + ".", ""]
    for ranked in groups:
        lines += [f"## {ranked.group.label}", "", f"Setting: {_setting_line(ranked)}.", "",
                  "From " + ", ".join(f"`{s}`" for s in ranked.group.sources) + ".", ""]
        lines += [f"> **Warning:** {note}" for note in ranked.notes]
        if ranked.notes:
            lines.append("")
        lines += _md_table(*leaderboard_table(ranked))
        levels = robustness_levels_table(ranked)
        if levels is not None:
            lines += ["Test accuracy under noise and attack (mean over seeds):", "", *_md_table(*levels)]
    lines += ["## Legend", ""]
    lines += [f"- **{term}**: {text}" for term, text in LEGEND]
    lines.append("")
    return "\n".join(lines)


# --- plots -------------------------------------------------------------------------------------

def _figure():
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("matplotlib", "the HTML report", "pip install 'matplotlib>=3.8,<4'") from None
    fig = Figure(figsize=(5.6, 3.7), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(True, color="#e3e6ea", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})  # no tool URL in the file
    return base64.b64encode(buffer.getvalue()).decode("ascii")


ENCODER_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                  "#7f7f7f", "#bcbd22")
SEED_COLORS = ("#3b0f70", "#8c2981", "#de4968", "#fe9f6d", "#1b7e8a", "#5ec962", "#7a7a7a", "#c0a000")


def _colors(ranked: RankedGroup) -> dict[str, str]:
    """One colour per encoder, by rank, the same in every plot of the group."""
    return {s.encoder: ENCODER_COLORS[i % len(ENCODER_COLORS)] for i, s in enumerate(ranked.summaries)}


def _by_encoder(ranked: RankedGroup) -> dict[str, list]:
    runs = defaultdict(list)
    for r in ranked.group.records:
        runs[r.encoder].append(r)
    return {s.encoder: runs[s.encoder] for s in ranked.summaries}


def _accuracy_entropy_plot(ranked: RankedGroup) -> tuple[str, str] | None:
    if any(s.entropy is None for s in ranked.summaries):
        return None
    fig, ax = _figure()
    colors = _colors(ranked)
    for name, runs in _by_encoder(ranked).items():
        s = next(x for x in ranked.summaries if x.encoder == name)
        ax.scatter([r.entropy for r in runs], [r.accuracy for r in runs], s=14, color=colors[name], alpha=0.3,
                   linewidths=0)
        ax.errorbar(s.entropy.mean, s.accuracy.mean, xerr=s.entropy.std, yerr=s.accuracy.std, fmt="o", ms=7,
                    capsize=3, color=colors[name], label=name)
    ax.set_xlabel("readout entanglement entropy (bits)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy vs entanglement", fontsize=11)
    ax.legend(fontsize=8, frameon=False, loc="best")
    return _png(fig), ("Mean over seeds with ±1 standard deviation bars in both directions; faint dots are single "
                       "seeds. Up and to the left is better.")


def _level_plot(ranked: RankedGroup, field: str, prefix: str | None, xlabel: str, title: str) -> tuple[str, str] | None:
    """Mean accuracy (±1 sd over seeds) against a level: noise p, or an attack's eps; level 0 is clean."""
    colors = _colors(ranked)
    fig, ax, drawn = *_figure(), False
    for name, runs in _by_encoder(ranked).items():
        labels = sorted({k for r in runs for k in getattr(r, field)
                         if prefix is None or k.partition(":")[0] == prefix}, key=label_level)
        if not labels:
            continue
        levels = [0.0] + [label_level(k)[1] for k in labels]
        values = [[r.accuracy for r in runs]] + [[getattr(r, field)[k] for r in runs if k in getattr(r, field)]
                                                 for k in labels]
        means = [float(np.mean(v)) for v in values]
        sds = [float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for v in values]
        ax.errorbar(levels, means, yerr=sds, marker="o", ms=5, capsize=3, color=colors[name], label=name)
        drawn = True
    if not drawn:
        return None
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, frameon=False, loc="best")
    return _png(fig), "Mean over seeds, ±1 standard deviation; the point at 0 is the clean test accuracy."


def _threshold_plots(ranked: RankedGroup) -> list[tuple[str, str]]:
    """ATP-like encoders: validation accuracy of each threshold candidate, one line per seed."""
    plots = []
    for name, runs in _by_encoder(ranked).items():
        curves = []
        for r in sorted(runs, key=lambda r: r.seed):
            points = {}
            for c in r.encoder_info.get("candidates", []) if isinstance(r.encoder_info, dict) else []:
                if isinstance(c, dict) and "tau" in c and "validation_accuracy" in c:
                    points[float(c["tau"])] = float(c["validation_accuracy"])
            if points:
                curves.append((r, sorted(points.items())))
        if not curves:
            continue
        fig, ax = _figure()
        for i, (r, points) in enumerate(curves):
            taus, accs = zip(*points)
            color = SEED_COLORS[i % len(SEED_COLORS)]
            ax.plot(taus, accs, marker="o", ms=4, lw=1.2, color=color, alpha=0.85, label=f"seed {r.seed}")
            tau = r.encoder_info.get("tau")
            if isinstance(tau, (int, float)):
                chosen = dict(points).get(float(tau), r.validation_accuracy)
                ax.plot([tau], [chosen], marker="*", ms=14, color=color, markeredgecolor="black", markeredgewidth=0.6,
                        linestyle="none")
        ax.set_xlabel("threshold τ")
        ax.set_ylabel("validation accuracy")
        ax.set_title(f"{name}: validation accuracy vs threshold", fontsize=11)
        ax.legend(fontsize=8, frameon=False, loc="lower left", ncol=2 if len(curves) > 4 else 1)
        plots.append((_png(fig), "Each point is a threshold candidate the optimiser trained and scored on the "
                                 "validation split (never the test split); ★ marks the chosen τ of each seed."))
    return plots


def group_plots(ranked: RankedGroup) -> list[tuple[str, str]]:
    """(base64 PNG, caption) for every plot that the group's data supports."""
    plots = [_accuracy_entropy_plot(ranked),
             _level_plot(ranked, "noisy_accuracy", None, "depolarizing probability p per gate",
                         "Accuracy under depolarizing noise")]
    attacks = sorted({k.partition(":")[0] for r in ranked.group.records for k in r.adversarial_accuracy})
    plots += [_level_plot(ranked, "adversarial_accuracy", a, f"{a} eps (L-inf, pixels in [0, 1])",
                          f"Accuracy under {a.upper()} attack") for a in attacks]
    return [p for p in plots if p is not None] + _threshold_plots(ranked)


# --- HTML --------------------------------------------------------------------------------------

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #dde1e7; --head: #f3f5f8; --accent: #2456a6;
        --warn-bg: #fff7e0; --warn-line: #e5b400; --first: #f2f7ff; }
* { box-sizing: border-box; }
body { margin: 0; background: #fafbfc; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 6px; }
h3 { font-size: 15px; margin: 18px 0 0; }
.meta, .setting, figcaption, .sources { color: var(--muted); font-size: 13px; }
nav ul { margin: 8px 0 0; padding-left: 20px; font-size: 14px; }
nav a, a { color: var(--accent); text-decoration: none; }
section.group { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px 22px;
                margin: 22px 0; }
.warn { background: var(--warn-bg); border-left: 4px solid var(--warn-line); padding: 6px 10px; margin: 8px 0;
        font-size: 13.5px; border-radius: 3px; }
.scroll { overflow-x: auto; margin-top: 12px; }
table { border-collapse: collapse; font-size: 13.5px; width: 100%; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { background: var(--head); font-weight: 600; text-align: right; border-bottom: 2px solid var(--line);
     vertical-align: bottom; }
th.span { text-align: center; border-bottom: 1px solid var(--line); font-weight: 600; color: var(--muted); }
td { text-align: right; font-variant-numeric: tabular-nums; }
th.text, td.text { text-align: left; }
table.levels { width: auto; min-width: 55%; }
table.levels th, table.levels td { padding: 6px 14px; }
td.notes { white-space: normal; color: var(--muted); }
tr.first td { background: var(--first); }
td.rank { font-weight: 700; }
td.encoder { font-weight: 600; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(500px, 1fr)); gap: 18px; margin-top: 18px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: #fff; }
figure img { display: block; width: 100%; height: auto; }
figcaption { margin-top: 4px; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 13.5px; margin: 0; }
dl.legend dt { font-weight: 600; }
dl.legend dd { margin: 0; color: var(--muted); }
"""


def _column_group(header: str) -> tuple[str, str]:
    """``("depolarizing noise", "p=0.03")`` for ``acc @ p=0.03``; ``("", header)`` for the rest."""
    if not header.startswith("acc @ "):
        return "", header
    what = header.removeprefix("acc @ ")
    if what.startswith("p="):
        return "accuracy under depolarizing noise", what
    attack, _, eps = what.partition(" ")
    return f"accuracy under {attack.upper()}", eps.replace("eps=", "ε=")


def _html_table(headers: list[str], rows: list[list[str]], first: list[bool] | None = None,
                css_class: str = "") -> str:
    """A table; ``acc @ ...`` columns get a spanning header per noise model or attack."""
    text_cols = {"encoder": "text encoder", "notes": "text notes", "rank": "rank"}
    groups = [_column_group(h) for h in headers]
    if any(g for g, _ in groups):
        top, sub, i = [], [], 0
        while i < len(headers):
            group, label = groups[i]
            if not group:
                top.append(f'<th rowspan="2" class="{text_cols.get(label, "")}">{html.escape(label)}</th>')
                i += 1
                continue
            span = 1
            while i + span < len(headers) and groups[i + span][0] == group:
                span += 1
            top.append(f'<th colspan="{span}" class="span">{html.escape(group)}</th>')
            sub += [f"<th>{html.escape(groups[j][1])}</th>" for j in range(i, i + span)]
            i += span
        head = "".join(top) + "</tr><tr>" + "".join(sub)
    else:
        head = "".join(f'<th class="{text_cols.get(h, "")}">{html.escape(h)}</th>' for h in headers)
    body = []
    for k, row in enumerate(rows):
        cells = "".join(f'<td class="{text_cols.get(h, "")}">{html.escape(c)}</td>' for h, c in zip(headers, row))
        body.append(f'<tr class="{"first" if first and first[k] else ""}">{cells}</tr>')
    return (f'<div class="scroll"><table class="{css_class}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def html_page(groups: Sequence[RankedGroup], sources: Sequence[str], rank_by: str) -> str:
    """The leaderboard as one HTML page that needs nothing else: no script, font, stylesheet or
    image from anywhere (plots are embedded PNG data)."""
    esc = html.escape
    parts: list[str] = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>qenc-bench leaderboard</title><style>{CSS}</style></head><body><main>",
        "<header><h1>qenc-bench leaderboard</h1>",
        f'<p class="meta">{esc(_header_facts(groups, sources, rank_by))}</p></header>',
    ]
    if len(groups) > 1:
        parts.append("<nav><ul>" + "".join(f'<li><a href="#group-{i + 1}">{esc(g.group.label)}</a></li>'
                                           for i, g in enumerate(groups)) + "</ul></nav>")
    for i, ranked in enumerate(groups):
        parts.append(f'<section class="group" id="group-{i + 1}"><h2>{esc(ranked.group.label)}</h2>')
        parts.append(f'<p class="setting">{esc(_setting_line(ranked))}<br>from '
                     f'{esc(", ".join(ranked.group.sources))}</p>')
        parts += [f'<div class="warn"><strong>Warning:</strong> {esc(note)}</div>' for note in ranked.notes]
        parts.append(_html_table(*leaderboard_table(ranked), first=[s.rank == 1 for s in ranked.summaries]))
        levels = robustness_levels_table(ranked)
        if levels is not None:
            parts.append('<h3>Test accuracy under noise and attack</h3>')
            parts.append(_html_table(*levels, css_class="levels"))
        plots = group_plots(ranked)
        if plots:
            parts.append('<div class="plots">')
            parts += [f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{png}">'
                      f"<figcaption>{esc(caption)}</figcaption></figure>" for png, caption in plots]
            parts.append("</div>")
        parts.append("</section>")
    parts.append('<section class="group"><h2>Legend</h2><dl class="legend">')
    parts += [f"<dt>{esc(term)}</dt><dd>{esc(text)}</dd>" for term, text in LEGEND]
    parts.append("</dl></section>")
    parts.append(f'<p class="sources">Sources: {esc(", ".join(sources))}</p></main></body></html>')
    return "\n".join(parts)


# --- files -------------------------------------------------------------------------------------

def check_output(path: str | os.PathLike, *, force: bool, inputs: Sequence[str | os.PathLike] = ()) -> Path:
    """Refuse to overwrite an existing file without ``force``, and a result file ever."""
    path = Path(path)
    if any(path.resolve() == Path(p).resolve() for p in inputs):
        raise ConfigError(f"{path} is one of the result files being reported; write the report elsewhere")
    if path.is_dir():
        raise ResultFileError(f"{path} is a directory; give a file name")
    if path.exists() and not force:
        raise ResultFileError(f"{path} already exists; pass --force to overwrite it")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write through a temporary file in the same folder and ``os.replace``: a reader never sees
    a half-written page."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide a page meant to be shared
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_leaderboard(groups: Sequence[RankedGroup], sources: Sequence[str], rank_by: str, *,
                      markdown: str | os.PathLike | None = None, html_file: str | os.PathLike | None = None,
                      force: bool = False) -> list[Path]:
    """Write the Markdown and/or HTML leaderboard; every target is checked before anything is
    rendered or written."""
    targets = [p for p in (markdown, html_file) if p is not None]
    for p in targets:
        check_output(p, force=force, inputs=sources)
    if markdown is not None and html_file is not None and Path(markdown).resolve() == Path(html_file).resolve():
        raise ConfigError("--markdown and --html name the same file")
    pages = []
    if html_file is not None:  # rendered first: a missing matplotlib stops before any file is written
        pages.append((html_file, html_page(groups, sources, rank_by)))
    if markdown is not None:
        pages.append((markdown, markdown_leaderboard(groups, sources, rank_by)))
    return [write_text_atomic(p, text) for p, text in pages]
