"""The example plugin's own tests: qenc_bench.testing's contract checks on its components,
its hooks on a fresh plugin manager, and the installed entry point."""

from __future__ import annotations

import numpy as np
import pytest
import qenc_example_plugin

from qenc_bench import Split
from qenc_bench.plugins import Registry, get_plugin_manager
from qenc_bench.prepare import prepare
from qenc_bench.testing import check_dataset, check_encoder


@pytest.fixture
def own_registry():
    """This plugin alone, registered by hand (no installation needed)."""
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(qenc_example_plugin, name="example-plugin")
    return Registry.from_plugin_manager(pm)


def test_hooks_register_one_encoder_and_one_dataset(own_registry):
    assert own_registry.names("encoder") == ["phase-angle"]
    assert own_registry.names("dataset") == ["iris-pair"]


def test_the_encoder_keeps_the_contract(own_registry):
    encoder = check_encoder(own_registry.get("encoder", "phase-angle"))
    assert encoder.n_qubits == 9  # digits at grid 3


def test_the_encoder_keeps_the_contract_on_iris(own_registry):
    raw = check_dataset(own_registry.get("dataset", "iris-pair"))
    data = prepare(raw, (0, 1), grid=None, train_size=40, test_size=20, seed=0)
    encoder = check_encoder(own_registry.get("encoder", "phase-angle"), data)
    assert encoder.n_qubits == 4


def test_the_dataset_keeps_the_contract(own_registry):
    raw = check_dataset(own_registry.get("dataset", "iris-pair"))
    assert raw.class_names == ("setosa", "versicolor", "virginica")
    assert raw.splits["train"][0].shape == (150, 4)


def test_the_contract_fixture(qenc_contracts, own_registry):
    qenc_contracts.encoder(own_registry.get("encoder", "phase-angle"))


def test_feature_map_is_h_then_rz_per_qubit():
    split = Split(np.full((4, 3), 0.5), np.array([0, 0, 1, 1]))
    encoder = qenc_example_plugin.PhaseAngleEncoder().fit(split, split, None)
    assert [(op.gate, op.wires, op.index) for op in encoder.feature_map()] == [
        ("H", (0,), None), ("RZ", (0,), 0), ("H", (1,), None), ("RZ", (1,), 1), ("H", (2,), None), ("RZ", (2,), 2)
    ]
    np.testing.assert_allclose(encoder.transform(split.x), np.pi / 2)


def test_installed_entry_point(qenc_registry):
    """Runs when the package is installed (pip install -e .); skipped from a plain checkout."""
    entries = {e.spec.name: e for e in qenc_registry.entries("encoder")}
    if "phase-angle" not in entries:
        pytest.skip("qenc-example-plugin is not installed")
    assert (entries["phase-angle"].plugin, entries["phase-angle"].distribution) == ("example-plugin", "qenc-example-plugin")
    assert "iris-pair" in qenc_registry.names("dataset")
