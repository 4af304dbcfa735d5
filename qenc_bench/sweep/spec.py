"""Sweep files: a TOML grid (datasets x class sets x models x seeds) read into a
:class:`SweepSpec` of independent :class:`SweepRun` s, every mistake a one-line error naming
the key. The file format: ``docs/sweeps.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MissingDependencyError
from ..harness import CompareConfig
from ..noise import Depolarizing, parse_noise
from ..results.store import run_id
from ..training import TrainConfig

# keys of [compare] that the sweep sets itself, and where they go instead
SET_ELSEWHERE = {"encoders": "[sweep] encoders", "dataset": "[sweep] datasets", "classes": "[sweep] classes",
                 "seeds": "[sweep] seeds", "seed": "[sweep] seeds", "noise": "[sweep] noise",
                 "attacks": "[sweep] attacks", "data_dir": "[sweep] data_dir", "training": "the [training] table"}
SWEEP_KEYS = ("datasets", "classes", "encoders", "seeds", "noise", "attacks", "data_dir")
COMPARE_KEYS = tuple(f.name for f in fields(CompareConfig) if f.name not in SET_ELSEWHERE)
TRAINING_KEYS = tuple(f.name for f in fields(TrainConfig))
BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
            "NUMEXPR_NUM_THREADS")
DASK_INSTALL = 'pip install "qenc-bench[dask]"'
#: what a run of the sweep sets itself; the rest of the configuration is the sweep's settings
AXES = ("encoders", "classical", "dataset", "classes", "seed", "seeds", "encoder_options")
_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string", tuple: "a list"}


@dataclass(frozen=True)
class SweepRun:
    """One independent run: a :class:`CompareConfig` with one model (an encoder, or a classical
    reference with no encoder) and one seed."""

    run_id: str
    config: CompareConfig

    @classmethod
    def of(cls, config: CompareConfig) -> SweepRun:
        return cls(run_id(config.to_dict()), config)

    @property
    def model(self) -> str:
        return (self.config.encoders or self.config.classical)[0]

    @property
    def label(self) -> str:
        c = self.config
        return f"{c.dataset} {','.join(map(str, c.classes))} {self.model} seed {c.seed}"


@dataclass(frozen=True)
class SweepSpec:
    """The grid (datasets x class pairs x encoders x seeds) and the options every run shares
    (``base``; its encoder, dataset, classes and seed are replaced per run)."""

    datasets: tuple[str, ...]
    classes: tuple[tuple[int, ...], ...]
    encoders: tuple[str, ...]
    seeds: tuple[int, ...]
    base: CompareConfig
    name: str = "sweep"

    def settings(self) -> dict[str, Any]:
        """What every run of the sweep shares (all options but the grid's axes and the data
        folder): a store remembers them and refuses a resume with others."""
        return {k: v for k, v in self.base.to_dict().items() if k not in AXES}

    def runs(self) -> list[SweepRun]:
        """Per dataset, class set and seed: a run per encoder, then one per classical model."""
        options = self.base.encoder_options
        out = []
        for dataset in self.datasets:
            for pair in self.classes:
                for seed in self.seeds:
                    common = replace(self.base, dataset=dataset, classes=pair, seeds=1, seed=seed)
                    out += [SweepRun.of(replace(common, encoders=(encoder,), classical=(),
                                                encoder_options={encoder: options[encoder]} if encoder in options
                                                else {}))
                            for encoder in self.encoders]
                    out += [SweepRun.of(replace(common, encoders=(), classical=(name,), encoder_options={}))
                            for name in self.base.classical]
        return out


def load_spec(path: str | os.PathLike, *, data_dir: str | os.PathLike | None = None) -> SweepSpec:
    """Read a sweep TOML file; ``data_dir`` (the ``--data-dir`` option) overrides its own."""
    path = Path(path)
    toml = _toml_module()
    try:
        data = toml.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"sweep file {path} does not exist") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        what = "is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else f"cannot be read ({exc.strerror})"
        raise ConfigError(f"sweep file {path} {what}; a sweep file is TOML in UTF-8") from None
    except toml.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        spec = parse_spec(data, base_dir=path.parent, name=path.stem)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return replace(spec, base=replace(spec.base, data_dir=str(data_dir))) if data_dir is not None else spec


def _toml_module():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise MissingDependencyError("tomli", "reading a sweep file on Python 3.10", "pip install tomli") from None
    return tomllib


def parse_spec(data: dict[str, Any], *, base_dir: Path = Path("."), name: str = "sweep") -> SweepSpec:
    """Check a parsed sweep file and build its spec; every mistake is a :class:`ConfigError`
    naming the key."""
    _known_keys("the sweep file", data, ("sweep", "compare", "training"), "tables")
    for table in data:
        if not isinstance(data[table], dict):
            raise ConfigError(f"{table} must be a table ([{table}]), got {data[table]!r}")
    sweep, options, training = data.get("sweep"), dict(data.get("compare", {})), data.get("training", {})
    if sweep is None:
        raise ConfigError("a sweep file needs a [sweep] table with datasets, classes, encoders and seeds")
    _known_keys("[sweep]", sweep, SWEEP_KEYS)
    for key in ("datasets", "classes", "encoders", "seeds"):
        if key not in sweep:
            raise ConfigError(f"[sweep] lacks {key!r} (it needs datasets, classes, encoders and seeds)")
    for key in options:
        if key in SET_ELSEWHERE:
            raise ConfigError(f"[compare] {key!r} is set by {SET_ELSEWHERE[key]}, not in [compare]")
    _known_keys("[compare]", options, COMPARE_KEYS)
    _known_keys("[training]", training, TRAINING_KEYS)

    encoders = _names(sweep["encoders"], "encoders")
    compare_defaults = {f.name: f.default for f in fields(CompareConfig)}
    for key, value in options.items():
        options[key] = _compare_option(key, value, compare_defaults[key], encoders)
    train_defaults = {f.name: f.default for f in fields(TrainConfig)}
    train_config = TrainConfig(**{k: _typed(f"[training] {k}", v, train_defaults[k]) for k, v in training.items()})
    if "noise" in sweep:
        options["noise"] = _noise(sweep["noise"])
    if sweep.get("attacks"):
        if "attacks" not in compare_defaults:
            raise ConfigError("[sweep] attacks: this qenc-bench's harness does not run attacks yet; remove the key")
        options["attacks"] = _attacks(sweep["attacks"])
    if "data_dir" in sweep:
        if not isinstance(sweep["data_dir"], str) or not sweep["data_dir"]:
            raise ConfigError(f"[sweep] data_dir must be a path, got {sweep['data_dir']!r}")
        options["data_dir"] = str(base_dir / sweep["data_dir"])  # absolute stays absolute
    datasets, pairs, seeds = _names(sweep["datasets"], "datasets"), _class_sets(sweep["classes"]), _seeds(sweep["seeds"])
    base = CompareConfig(encoders=encoders, dataset=datasets[0], classes=pairs[0], seeds=1, seed=seeds[0],
                         training=train_config, **options)
    return SweepSpec(datasets=datasets, classes=pairs, encoders=encoders, seeds=seeds, base=base, name=name)


def _known_keys(where: str, table: dict[str, Any], known: Iterable[str], what: str = "keys") -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in {where}; known {what}: {', '.join(known)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _unique(values: list, key: str) -> None:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ConfigError(f"[sweep] {key} lists {seen[0]!r} twice")


def _names(value: Any, key: str) -> tuple[str, ...]:
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"[sweep] {key} must be a non-empty list of names, got {value!r}")
    _unique(value, key)
    return tuple(value)


def _class_sets(value: Any) -> tuple[tuple[int, ...], ...]:
    good = isinstance(value, list) and value and all(
        isinstance(p, list) and len(p) >= 2 and all(_is_int(c) and c >= 0 for c in p) and len(set(p)) == len(p)
        for p in value)
    if not good:
        raise ConfigError(f"[sweep] classes must be a list of class pairs (or of larger sets, trained one-vs-rest) "
                          f"of different class indices, like [[0, 1], [2, 8]]; got {value!r}")
    _unique(value, "classes")
    return tuple(tuple(p) for p in value)


def _seeds(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or not all(_is_int(s) and s >= 0 for s in value):
        raise ConfigError(f"[sweep] seeds must be a non-empty list of non-negative integers, like [0, 1]; got {value!r}")
    _unique(value, "seeds")
    return tuple(value)


def _attacks(value: Any) -> tuple:
    from ..attacks import parse_attack

    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ConfigError(f"[sweep] attacks must be a list like [\"fgsm:0.1,0.3\", \"pgd:0.1:steps=20\"]; got {value!r}")
    return tuple(parse_attack(a) for a in value)


def _noise(value: Any) -> tuple[float, ...]:
    if isinstance(value, str):
        levels = parse_noise(value)
        if not all(isinstance(level, Depolarizing) for level in levels):
            raise ConfigError(f"[sweep] noise takes depolarizing levels; got {value!r}")
        return tuple(level.p for level in levels if isinstance(level, Depolarizing))
    if not isinstance(value, list) or not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in value):
        raise ConfigError(f"[sweep] noise must be a list of depolarizing levels like [0.03, 0.05]; got {value!r}")
    return tuple(Depolarizing(float(p)).p for p in value)


def _typed(where: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the field's default (ints stay ints, numbers become floats)."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = _is_int(value)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, tuple):
        ok = isinstance(value, list)
        value = tuple(value) if ok else value
    else:
        return tuple(value) if isinstance(value, list) else value
    if not ok:
        raise ConfigError(f"{where} must be {_TYPE_NAMES.get(type(default), type(default).__name__)}, got {value!r}")
    return value


def _compare_option(key: str, value: Any, default: Any, encoders: tuple[str, ...]) -> Any:
    where = f"[compare] {key}"
    if key == "grid":
        if _is_int(value) and value >= 1:
            return value
        if isinstance(value, str) and value.lower() in ("auto", "none"):
            return None if value.lower() == "none" else "auto"
        raise ConfigError(f"{where} must be a positive integer, 'auto' or 'none', got {value!r}")
    if key == "validation_size":
        if not (_is_int(value) and value >= 1):
            raise ConfigError(f"{where} must be a positive integer, got {value!r}")
        return value
    if key == "adversarial_training":
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be an attack with one eps, like \"fgsm:0.1\"; got {value!r}")
        from ..attacks import parse_attack

        return parse_attack(value)
    if key == "encoder_options":
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise ConfigError(f"{where} must hold one table per encoder, like [compare.encoder_options.atp]")
        stray = sorted(set(value) - set(encoders))
        if stray:
            raise ConfigError(f"{where} names encoder {stray[0]!r}, which [sweep] encoders does not list")
        return value
    return _typed(where, value, default)


