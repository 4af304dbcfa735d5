"""The leaderboard as one self-contained HTML page: inline CSS, plots as base64 PNG, no script,
font, stylesheet or image from anywhere else."""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..leaderboard import Leaderboard
from ..reporters import Reporter
from .legend import LEGEND, header_facts
from .markdown import setting_line, study_table, study_verdict
from .plots import critical_difference, group_plots
from .table import Table, comparisons_table, ranking_table, robustness_table

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
tr.classical td { color: var(--muted); font-style: italic; }
td.rank { font-weight: 700; }
td.encoder { font-weight: 600; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(500px, 1fr)); gap: 18px; margin-top: 18px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: #fff; }
figure img { display: block; width: 100%; height: auto; }
figcaption { margin-top: 4px; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; font-size: 13.5px; margin: 0; }
dl.legend dt { font-weight: 600; }
dl.legend dd { margin: 0; color: var(--muted); }
ul.footer { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; padding-left: 18px; }
"""



def _group_of(key: str, header: str) -> tuple[str, str]:
    """(spanning header, sub-header) for the columns of one noise model or attack."""
    if key.startswith("noisy:"):
        return "accuracy under depolarizing noise", header.replace("depol ", "")
    if key.startswith("adversarial:"):
        name, _, rest = header.partition(" ")
        return f"accuracy under {name.upper()}", rest.replace("eps=", "ε=")
    return "", header


def html_table(table: Table, css_class: str = "") -> str:
    """A table; noise and attack columns get a spanning header per noise model or attack."""
    text_class = {"encoder": "text encoder", "notes": "text notes", "rank": "rank"}
    groups = [_group_of(c.key, c.header) for c in table.columns]
    esc = html.escape
    if any(g for g, _ in groups):
        top, sub, i = [], [], 0
        while i < len(table.columns):
            group, label = groups[i]
            if not group:
                cls = text_class.get(table.columns[i].key, "text" if table.columns[i].text else "")
                top.append(f'<th rowspan="2" class="{cls}">{esc(label)}</th>')
                i += 1
                continue
            span = 1
            while i + span < len(table.columns) and groups[i + span][0] == group:
                span += 1
            top.append(f'<th colspan="{span}" class="span">{esc(group)}</th>')
            sub += [f"<th>{esc(groups[j][1])}</th>" for j in range(i, i + span)]
            i += span
        head = "".join(top) + "</tr><tr>" + "".join(sub)
    else:
        head = "".join(f'<th class="{text_class.get(c.key, "text" if c.text else "")}">{esc(c.header)}</th>'
                       for c in table.columns)
    body = []
    for row in table.rows:
        cells = "".join(f'<td class="{text_class.get(c.key, "text" if c.text else "")}">'
                        f'{esc(row.cells.get(c.key, "-"))}</td>' for c in table.columns)
        classes = " ".join(n for n, on in (("first", row.first), ("classical", row.classical)) if on)
        body.append(f'<tr class="{classes}">{cells}</tr>')
    return (f'<div class="scroll"><table class="{css_class}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _figures(plots: Sequence[tuple[str, str]]) -> str:
    esc = html.escape
    return ('<div class="plots">' + "".join(
        f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>" for data, caption in plots) + "</div>")


def html_page(board: Leaderboard, reporters: Sequence[Reporter] = (), title: str = "qenc-bench leaderboard") -> str:
    esc = html.escape
    runs = sum(len(g.group.records) for g in board.groups)
    parts: list[str] = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>",
        f"<header><h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(header_facts(len(board.groups), runs, board.sources, board.rank_by))}</p></header>',
    ]
    sections = [(f"group-{i + 1}", g.group.label) for i, g in enumerate(board.groups)]
    sections += [(f"study-{i + 1}", f"across dataset pairs: {s.label}") for i, s in enumerate(board.studies)]
    if len(sections) > 1:
        parts.append("<nav><ul>" + "".join(f'<li><a href="#{anchor}">{esc(text)}</a></li>'
                                           for anchor, text in sections) + "</ul></nav>")
    for i, ranked in enumerate(board.groups):
        records = ranked.group.records
        parts.append(f'<section class="group" id="group-{i + 1}"><h2>{esc(ranked.group.label)}</h2>')
        parts.append(f'<p class="setting">{esc(setting_line(ranked))}<br>from '
                     f'{esc(", ".join(ranked.group.sources))}</p>')
        parts += [f'<div class="warn"><strong>Warning:</strong> {esc(note)}</div>' for note in ranked.notes]
        table = ranking_table(ranked.ranking, records, reporters)
        parts.append(html_table(table))
        parts.append('<ul class="footer">' + "".join(f"<li>{esc(line)}</li>" for line in table.footer) + "</ul>")
        comparisons = comparisons_table(ranked.ranking)
        if comparisons.rows:
            parts.append("<h3>Paired comparisons, each row against the next</h3>")
            parts.append(html_table(comparisons, css_class="levels"))
        levels = robustness_table(ranked.ranking)
        if levels is not None:
            parts.append("<h3>Test accuracy under noise and attack</h3>")
            parts.append(html_table(levels, css_class="levels"))
        plots = group_plots(ranked.ranking, records, reporters)
        if plots:
            parts.append(_figures(plots))
        parts.append("</section>")
    for i, study in enumerate(board.studies):
        headers, rows = study_table(study)
        parts.append(f'<section class="group" id="study-{i + 1}"><h2>Across dataset pairs: {esc(study.label)}</h2>')
        parts.append(f'<p class="setting">{esc(study_verdict(study))}</p>')
        head = "".join(f'<th class="{"text" if h == "model" else ""}">{esc(h)}</th>' for h in headers)
        body = "".join("<tr>" + "".join(f'<td class="{"text" if j == 1 else ""}">{esc(c)}</td>'
                                        for j, c in enumerate(row)) + "</tr>" for row in rows)
        parts.append(f'<div class="scroll"><table class="levels"><thead><tr>{head}</tr></thead>'
                     f"<tbody>{body}</tbody></table></div>")
        diagram = critical_difference(study.cross)
        if diagram is not None:
            parts.append(_figures([diagram]))
        parts.append("</section>")
    parts.append('<section class="group"><h2>Legend</h2><dl class="legend">')
    parts += [f"<dt>{esc(term)}</dt><dd>{esc(text)}</dd>" for term, text in LEGEND]
    parts.append("</dl></section>")
    parts.append(f'<p class="sources">Sources: {esc(", ".join(board.sources))}</p></main></body></html>')
    return "\n".join(parts)
