"""`--noise device:NAME`: the trained model evaluated under a device's noise model (ibm backend)."""

from __future__ import annotations

import pytest

from qenc_bench.errors import ConfigError
from qenc_bench.harness import CompareConfig, compare
from qenc_bench.noise import Depolarizing, DeviceNoise, parse_noise
from qenc_bench.training import TrainConfig


def test_parse_noise_knows_devices_and_depolarizing_levels():
    assert parse_noise("device:FakeFez") == [DeviceNoise("FakeFez")]
    assert parse_noise("depolarizing:0.03,0.1") == [Depolarizing(0.03), Depolarizing(0.1)]
    with pytest.raises(ConfigError, match="device:NAME"):
        parse_noise("device:")


@pytest.mark.slow
def test_device_noise_is_stored_beside_depolarizing_levels():
    pytest.importorskip("qiskit_ibm_runtime")
    config = CompareConfig(encoders=("atp",), dataset="digits", classes=(0, 1), seeds=1, train_size=60,
                           test_size=40, backend="exact", noise=(0.05,), device_noise=("FakeFez",),
                           training=TrainConfig(max_epochs=20), classical=())
    record = compare(config).records[0]
    assert set(record.noisy_accuracy) == {"depolarizing:0.05", "device:FakeFez"}
    assert 0.5 < record.noisy_accuracy["device:FakeFez"] <= 1.0  # device noise with shots, well above chance
    assert set(record.samples["noisy"]) == {"depolarizing:0.05", "device:FakeFez"}
