"""Hook specifications, plugin loading from entry points, and the component registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import pytest

from qenc_bench import DatasetSpec, EncoderSpec, hookimpl, hookspecs
from qenc_bench import plugins as plugins_module
from qenc_bench.errors import DuplicateComponentError, PluginLoadError, UnknownComponentError
from qenc_bench.plugins import DISABLE_ENV, KINDS, Registry, get_plugin_manager
from qenc_bench.specs import SPEC_TYPES, AttackSpec, BackendSpec, Capabilities

pytestmark = pytest.mark.usefixtures("clean_env")

BUILTIN_PLUGINS = {"datasets", "encoders", "pennylane", "exact", "models", "attacks", "aer", "ibm"}
BUILTIN_COMPONENTS = {
    ("dataset", "digits"): "datasets",
    ("dataset", "mnist"): "datasets",
    ("encoder", "angle"): "encoders",
    ("encoder", "atp"): "encoders",
    ("backend", "pennylane"): "pennylane",
    ("backend", "exact"): "exact",
    ("backend", "aer"): "aer",
    ("backend", "ibm"): "ibm",
    ("model", "readout"): "models",
    ("model", "hea"): "models",
    ("model", "reuploading"): "models",
    ("attack", "fgsm"): "attacks",
    ("attack", "pgd"): "attacks",
}
QUANTUM_SDKS = ("qiskit", "qiskit_aer", "pennylane", "qiskit_ibm_runtime")


class _Encoder:
    """A stand-in component; the registry never builds it."""


def encoder_plugin(*names: str):
    """A plugin object that registers one encoder per name."""

    class Plugin:
        @hookimpl
        def qenc_bench_register_encoders(self, register):
            for name in names:
                register(EncoderSpec(name=name, factory=_Encoder, description=f"test encoder {name}"))

    return Plugin()


# --- hook specifications -----------------------------------------------------------------


def test_every_component_kind_has_one_register_hook(pm):
    spec_names = {n for n in dir(hookspecs) if n.startswith("qenc_bench_")}
    assert spec_names == set(plugins_module._HOOKS.values())
    assert set(plugins_module._HOOKS) == set(KINDS)
    assert set(KINDS) == set(SPEC_TYPES)
    for name in spec_names:
        caller = getattr(pm.hook, name)
        assert caller.spec is not None, name
        assert caller.spec.argnames[:1] == ("register",), name
        assert not caller.spec.opts["firstresult"], f"{name}: every implementation must be called"
        assert ":param register:" in (caller.spec.function.__doc__ or ""), name


def test_each_call_builds_a_fresh_manager(pm, register_plugin):
    register_plugin(encoder_plugin("only-here"), "local")
    other = get_plugin_manager(load_entrypoints=False)
    assert other is not pm
    assert other.get_plugin("local") is None
    assert Registry.from_plugin_manager(other).names("encoder") == []


# --- the built-in plugins, loaded from their entry points --------------------------------


def test_builtin_plugins_load_from_entry_points_of_the_qenc_bench_distribution():
    pm = get_plugin_manager()
    for name in BUILTIN_PLUGINS:
        assert pm.get_plugin(name) is not None, name
        dist, version = pm.distribution_of(name)
        assert dist == "qenc-bench", name
        assert version and version != "-", name


def test_builtin_registry_has_every_builtin_component_from_its_plugin():
    registry = Registry.from_plugin_manager(get_plugin_manager())
    for (kind, name), plugin in BUILTIN_COMPONENTS.items():
        entry = registry.components[kind][name]
        assert entry.plugin == plugin, (kind, name)
        assert entry.distribution == "qenc-bench", (kind, name)
        assert isinstance(registry.get(kind, name), SPEC_TYPES[kind])
        assert registry.get(kind, name).description, f"{kind} {name} has no description for 'list'"


def test_hand_registered_plugin_has_no_distribution(pm, register_plugin):
    register_plugin(encoder_plugin("mine"), "by-hand")
    registry = Registry.from_plugin_manager(pm)
    assert pm.distribution_of("by-hand") == ("-", "-")
    assert [(e.spec.name, e.plugin, e.distribution) for e in registry.entries("encoder")] == [
        ("mine", "by-hand", "-")
    ]


# --- the registry ------------------------------------------------------------------------


def test_same_encoder_name_from_two_plugins_names_both_plugins(pm, register_plugin):
    register_plugin(encoder_plugin("twin"), "first-plugin")
    register_plugin(encoder_plugin("twin"), "second-plugin")
    with pytest.raises(DuplicateComponentError) as info:
        Registry.from_plugin_manager(pm)
    message = str(info.value)
    assert "first-plugin" in message and "second-plugin" in message
    assert "'twin'" in message


def test_same_name_in_two_kinds_is_not_a_duplicate(pm, register_plugin):
    class Plugin:
        @hookimpl
        def qenc_bench_register_encoders(self, register):
            register(EncoderSpec(name="shared", factory=_Encoder))

        @hookimpl
        def qenc_bench_register_attacks(self, register):
            register(AttackSpec(name="shared", factory=_Encoder))

    register_plugin(Plugin(), "both")
    registry = Registry.from_plugin_manager(pm)
    assert registry.names("encoder") == ["shared"] and registry.names("attack") == ["shared"]


def test_unknown_name_lists_the_known_ones(pm, register_plugin):
    register_plugin(encoder_plugin("beta", "alpha"), "two")
    registry = Registry.from_plugin_manager(pm)
    with pytest.raises(UnknownComponentError) as info:
        registry.get("encoder", "nope")
    assert info.value.known == ["alpha", "beta"]
    assert "'nope'" in str(info.value) and "alpha, beta" in str(info.value)


def test_unknown_name_of_an_empty_kind_says_none_are_known(pm):
    with pytest.raises(UnknownComponentError, match="known attacks: none"):
        Registry.from_plugin_manager(pm).get("attack", "fgsm")


def test_wrong_spec_type_for_the_hook_is_a_plugin_load_error(pm, register_plugin):
    class Confused:
        @hookimpl
        def qenc_bench_register_datasets(self, register):
            register(EncoderSpec(name="angle2", factory=_Encoder))

    register_plugin(Confused(), "confused")
    with pytest.raises(PluginLoadError) as info:
        Registry.from_plugin_manager(pm)
    message = str(info.value)
    assert "confused" in message and "EncoderSpec" in message and "DatasetSpec" in message


def test_implementation_with_fewer_arguments_than_its_spec_is_called(pm, register_plugin):
    calls = []

    class NoArguments:
        @hookimpl
        def qenc_bench_register_encoders(self):
            calls.append("registry")

    register_plugin(NoArguments(), "no-arguments")
    register_plugin(encoder_plugin("kept"), "with-register")
    registry = Registry.from_plugin_manager(pm)
    assert calls == ["registry"]
    assert registry.names("encoder") == ["kept"]

    pm.hook.qenc_bench_register_encoders(register=lambda spec: calls.append(spec.name))
    assert sorted(calls) == ["kept", "registry", "registry"]


# --- plugins that fail to load -----------------------------------------------------------


def _misspelt_plugin():
    @hookimpl
    def qenc_bench_register_encoderz(register):
        register(EncoderSpec(name="lost", factory=_Encoder))

    return types.SimpleNamespace(qenc_bench_register_encoderz=qenc_bench_register_encoderz)


def test_hook_that_matches_no_spec_is_a_plugin_load_error(fake_entry_points):
    fake_entry_points("misspelt", _misspelt_plugin())
    with pytest.raises(PluginLoadError) as info:
        get_plugin_manager()
    message = str(info.value)
    assert "'misspelt'" in message
    assert "qenc_bench_register_encoderz" in message
    assert "--disable-plugin misspelt" in message
    assert "\n" not in message, "the CLI prints plugin errors as one line"


def test_plugin_that_cannot_be_imported_names_plugin_and_distribution(fake_entry_points):
    missing = ImportError("No module named 'acme_sdk'")
    fake_entry_points("broken", missing, dist=("acme-qenc", "2.0"))
    with pytest.raises(PluginLoadError) as info:
        get_plugin_manager()
    message = str(info.value)
    assert "'broken'" in message
    assert "acme-qenc 2.0" in message
    assert "acme_sdk" in message
    assert info.value.__cause__ is missing


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_disabled_plugin_is_not_loaded(fake_entry_points, monkeypatch, how):
    fake_entry_points("broken", ImportError("No module named 'acme_sdk'"))
    fake_entry_points("misspelt", _misspelt_plugin())
    if how == "argument":
        pm = get_plugin_manager(disable=["broken", "misspelt"])
    else:
        monkeypatch.setenv(DISABLE_ENV, " broken , misspelt ")
        pm = get_plugin_manager()
    for name in ("broken", "misspelt"):
        assert pm.get_plugin(name) is None and pm.is_blocked(name), name
    assert all(pm.get_plugin(name) is not None for name in BUILTIN_PLUGINS)


def test_disabling_a_builtin_plugin_removes_its_components(monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "encoders")
    registry = Registry.from_plugin_manager(get_plugin_manager(disable=["exact"]))
    plugins = {e.plugin for kind in KINDS for e in registry.entries(kind)}
    assert "encoders" not in plugins and "exact" not in plugins
    assert "angle" not in registry.names("encoder") and "atp" not in registry.names("encoder")
    assert "exact" not in registry.names("backend") and "pennylane" in registry.names("backend")
    assert {"digits", "mnist"} <= set(registry.names("dataset"))


def test_third_party_plugin_from_an_entry_point_is_registered_with_its_distribution(fake_entry_points):
    fake_entry_points("acme", encoder_plugin("acme-encoder"))
    pm = get_plugin_manager()
    registry = Registry.from_plugin_manager(pm)
    assert pm.distribution_of("acme") == ("acme-qenc", "2.0")
    entry = registry.components["encoder"]["acme-encoder"]
    assert (entry.plugin, entry.distribution) == ("acme", "acme-qenc")


def test_plugin_reusing_a_builtin_name_clashes_with_the_builtin(fake_entry_points):
    fake_entry_points("acme", encoder_plugin("angle"))
    with pytest.raises(DuplicateComponentError) as info:
        Registry.from_plugin_manager(get_plugin_manager())
    assert "'encoders'" in str(info.value) and "'acme'" in str(info.value)


def test_hookimpl_with_an_argument_its_spec_lacks_is_a_plugin_load_error(fake_entry_points):
    """pluggy checks the arguments in ``register()``; that must become a PluginLoadError
    naming the plugin, like every other plugin failure, not a pluggy traceback."""

    @hookimpl
    def qenc_bench_register_encoders(register, device):
        pass

    plugin = types.SimpleNamespace(qenc_bench_register_encoders=qenc_bench_register_encoders)
    fake_entry_points("greedy", plugin)
    with pytest.raises(PluginLoadError) as info:
        get_plugin_manager()
    message = str(info.value)
    assert "'greedy'" in message and "device" in message
    assert "\n" not in message, "the CLI prints plugin errors as one line"


# --- spec validation ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Angle", "my encoder", "", "1angle", "angle-", "a--b", "ångle"])
def test_invalid_names_are_refused(name):
    with pytest.raises(ValueError, match="invalid encoder name"):
        EncoderSpec(name=name, factory=_Encoder)


@pytest.mark.parametrize("name", ["angle", "atp", "iqp-2", "zz_feature_map", "a1"])
def test_valid_names_are_accepted(name):
    assert EncoderSpec(name=name, factory=_Encoder).name == name


@pytest.mark.parametrize("spec_type", [DatasetSpec, EncoderSpec, BackendSpec, AttackSpec])
def test_non_callable_factory_is_refused(spec_type):
    with pytest.raises(TypeError, match="factory must be callable"):
        spec_type(name="fine", factory="not a function")


def test_dataset_modality_must_be_image_or_tabular():
    assert DatasetSpec(name="t", factory=_Encoder, modality="tabular").modality == "tabular"
    with pytest.raises(ValueError, match="modality"):
        DatasetSpec(name="t", factory=_Encoder, modality="audio")


def test_backend_spec_declares_its_capabilities_without_building():
    built = []
    spec = BackendSpec(name="sim", factory=lambda: built.append(1), capabilities=Capabilities(gradients=True))
    assert spec.capabilities.gradients and not spec.capabilities.noise
    assert built == []


# --- loading plugins stays light ---------------------------------------------------------

_PROBE = """
import json, sys
from qenc_bench.cli import main
args = json.loads(sys.argv[1])
if args is not None:
    status = main(args, standalone_mode=False)
    assert status in (None, 0), status
if sys.argv[2] == "build-pennylane":
    from qenc_bench.plugins import load_registry
    load_registry().get("backend", "pennylane").factory()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[3])))))
"""


def _heavy_modules_after(args, then: str = "") -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != DISABLE_ENV}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args), then, json.dumps(QUANTUM_SDKS)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [None, ["--help"], ["plugins"], ["list", "encoders"], ["list", "backends"]],
    ids=["import", "help", "plugins", "list-encoders", "list-backends"],
)
def test_cli_does_not_import_quantum_sdks(args):
    assert _heavy_modules_after(args) == []


def test_the_import_probe_sees_a_quantum_sdk_once_a_backend_is_built():
    assert "pennylane" in _heavy_modules_after(["list", "backends"], then="build-pennylane")
