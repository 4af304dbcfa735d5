"""The results layer: records and their schema, atomic files, the sweep store, and leaderboard
groups. Nothing here ranks or renders (see :mod:`qenc_bench.stats` and :mod:`qenc_bench.render`).

Data flow: a run produces :class:`RunRecord` s in a :class:`BenchmarkResult` (``records``),
written by :mod:`.files`; a sweep keeps one file per run in a :mod:`.store`; :mod:`.merge`
reads many of either and groups the records that may be ranked together.
"""

from .files import check_new_file, probe_writable, remove_stale_temporaries, write_json_atomic, write_text_atomic
from .merge import Group, Setting, load_sources, merge
from .records import CLASSICAL, QUANTUM, BenchmarkResult, RunRecord, environment
from .schema import SCHEMA_VERSION, upgrade, validate_result

__all__ = [
    "CLASSICAL",
    "QUANTUM",
    "SCHEMA_VERSION",
    "BenchmarkResult",
    "Group",
    "RunRecord",
    "Setting",
    "check_new_file",
    "environment",
    "load_sources",
    "merge",
    "probe_writable",
    "remove_stale_temporaries",
    "upgrade",
    "validate_result",
    "write_json_atomic",
    "write_text_atomic",
]
