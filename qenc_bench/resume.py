"""Resuming cannot mix settings: what a resumed run finds must have been made with the same
settings, or the resume is refused naming what differs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

#: settings that do not change the numbers, so they may differ between a run and its resume
IGNORED = frozenset({"disable_plugins"})


def _flat(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and key != "encoder_options":
            out.update(_flat(value, f"{name}."))
        else:
            out[name] = value
    return out


def _shown(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 30 else text[:27] + "..."


def settings_difference(stored: Mapping[str, Any], wanted: Mapping[str, Any], ignore: Iterable[str] = IGNORED) -> str:
    """``""`` when equal; else ``"train_size 400 (stored) vs 200 (now), ..."``."""
    a, b = _flat(stored), _flat(wanted)
    ignored = set(ignore)
    keys = [k for k in dict.fromkeys([*a, *b]) if k.split(".")[0] not in ignored and a.get(k) != b.get(k)]
    return ", ".join(f"{k} {_shown(a.get(k))} (stored) vs {_shown(b.get(k))} (now)" for k in keys[:4]) + \
        (f" and {len(keys) - 4} more" if len(keys) > 4 else "")


def settings_digest(settings: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]
