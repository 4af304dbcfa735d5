"""The exceptions qenc-bench raises on purpose.

Every error a user can cause derives from :class:`QencBenchError`; the CLI prints those as
one line and exits non-zero. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class QencBenchError(Exception):
    """Base class of every error that is the user's input, data or environment."""


class ConfigError(QencBenchError):
    """An option or a combination of options that cannot work."""


class UnknownComponentError(QencBenchError):
    """A dataset, encoder, backend or attack name that no plugin registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        self.kind, self.name, self.known = kind, name, sorted(known)
        listed = ", ".join(self.known) or "none"
        super().__init__(
            f"unknown {kind} {name!r}; known {kind}s: {listed} "
            f"(run 'qenc-bench plugins' to see which plugin provides what)"
        )


class DuplicateComponentError(QencBenchError):
    """Two plugins registered a component of the same kind under the same name."""


class PluginLoadError(QencBenchError):
    """A plugin could not be imported or declares hooks that match no specification."""


class MissingDependencyError(QencBenchError):
    """An optional library is needed and not installed; the message says what to install."""

    def __init__(self, library: str, needed_for: str, install: str):
        super().__init__(f"{needed_for} needs {library}, which is not installed; run: {install}")


class IncompatibleComponentsError(QencBenchError):
    """A backend is asked for something it cannot do (e.g. a circuit outside its family)."""


class DataError(QencBenchError):
    """A data file is missing, truncated, corrupt or not in the expected format."""


class ResultFileError(QencBenchError):
    """A result file exists (and --force was not given) or cannot be read."""
