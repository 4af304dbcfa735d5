"""Machine-readable tables: CSV and JSON of a :class:`~.table.Table` (one row per model, an
``encoder`` column with its name) for ``show --format csv|json`` and ``report --csv``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from .table import Table


def _fields(tables: Sequence[tuple[dict[str, Any], Table]]) -> list[str]:
    fields: list[str] = []
    for context, table in tables:
        for name in [*context, *(k for row in table.rows for k in row.values)]:
            if name not in fields:
                fields.append(name)
    return fields


def to_csv(tables: Sequence[tuple[dict[str, Any], Table]]) -> str:
    """One CSV of every table's rows; ``context`` (the group's label, dataset, ...) leads each row."""
    fields = _fields(tables)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for context, table in tables:
        for row in table.rows:
            writer.writerow({**context, **{k: "" if v is None else v for k, v in row.values.items()}})
    return out.getvalue()


def to_json(tables: Sequence[tuple[dict[str, Any], Table]], extra: Sequence[dict[str, Any]] = ()) -> str:
    """A JSON list of groups: each its context, its rows (raw values) and its footer lines."""
    groups = []
    for i, (context, table) in enumerate(tables):
        group = {**context, "rows": [row.values for row in table.rows], "footer": list(table.footer)}
        if i < len(extra):
            group.update(extra[i])
        groups.append(group)
    return json.dumps(groups, indent=2, allow_nan=False, default=str) + "\n"
