"""Writing reports: every target is checked before anything is rendered or written."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError
from ..leaderboard import Leaderboard
from ..reporters import Reporter
from ..results.files import check_new_file, write_text_atomic


def check_report_targets(targets: dict[str, str | os.PathLike | None], *, force: bool,
                         inputs: Sequence[str | os.PathLike] = ()) -> None:
    """Refuse, before any work, a target that exists (without ``force``), is an input, or is
    named twice."""
    given = {option: Path(p) for option, p in targets.items() if p is not None}
    for option, path in given.items():
        check_new_file(path, force=force, inputs=inputs, option=option)
    resolved = [p.resolve() for p in given.values()]
    if len(set(resolved)) != len(resolved):
        raise ConfigError(f"{' and '.join(given)} name the same file")


def write_leaderboard(board: Leaderboard, reporters: Sequence[Reporter] = (), *,
                      markdown: str | os.PathLike | None = None, html_file: str | os.PathLike | None = None,
                      csv_file: str | os.PathLike | None = None, force: bool = False,
                      title: str = "qenc-bench leaderboard") -> list[Path]:
    """Write the Markdown, HTML and/or CSV leaderboard (the HTML is rendered first: a missing
    matplotlib stops before any file is written)."""
    check_report_targets({"--markdown": markdown, "--html": html_file, "--csv": csv_file}, force=force,
                         inputs=board.sources)
    pages: list[tuple[str | os.PathLike, str]] = []
    if html_file is not None:
        from .html import html_page

        pages.append((html_file, html_page(board, reporters, title)))
    if markdown is not None:
        from .markdown import markdown_leaderboard

        pages.append((markdown, markdown_leaderboard(board, reporters)))
    if csv_file is not None:
        pages.append((csv_file, leaderboard_csv(board, reporters)))
    return [write_text_atomic(p, text) for p, text in pages]


def leaderboard_csv(board: Leaderboard, reporters: Sequence[Reporter] = ()) -> str:
    from .export import to_csv
    from .table import ranking_table

    return to_csv([({"group": g.group.label, "dataset": g.group.setting.dataset,
                     "classes": ",".join(map(str, g.group.setting.classes))},
                    ranking_table(g.ranking, g.group.records, reporters)) for g in board.groups])
