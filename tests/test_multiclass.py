"""One-vs-rest over the binary model, and ATP's rule on k class-average maps."""

from __future__ import annotations

import numpy as np
import pytest

from qenc_bench.errors import ConfigError
from qenc_bench.harness import CompareConfig, compare, predict_accuracy
from qenc_bench.prepare import Split
from qenc_bench.training import TrainConfig
from qenc_encoders.atp import class_average_maps, prune_mask


def test_k_class_average_maps_and_the_generalised_prune_rule():
    x = np.array([[0.9, 0.0, 0.1], [0.7, 0.0, 0.1], [0.0, 0.8, 0.1], [0.0, 0.6, 0.1], [0.2, 0.0, 0.5], [0.0, 0.0, 0.7]])
    y = np.array([0, 0, 1, 1, 2, 2])
    maps = class_average_maps(Split(x, y))
    assert len(maps) == 3
    np.testing.assert_allclose(maps[2], [0.1, 0.0, 0.6])
    # pixel 2 is bright only in class 2: kept at tau 0.5, although dim in classes 0 and 1
    np.testing.assert_array_equal(prune_mask(maps, 0.5), [False, False, False])
    np.testing.assert_array_equal(prune_mask(maps, 0.65), [False, False, True])


def test_predict_accuracy_takes_the_argmax_of_one_vs_rest_outputs():
    outputs = np.array([[0.9, -0.2, 0.1], [-0.5, -0.1, -0.9], [0.0, 0.2, 0.3]])
    assert predict_accuracy(outputs, np.array([0, 1, 2])) == 1.0
    assert predict_accuracy(outputs, np.array([1, 1, 2])) == pytest.approx(2 / 3)


def test_three_digit_classes_train_one_vs_rest_well_above_chance():
    config = CompareConfig(encoders=("atp", "angle"), dataset="digits", classes=(0, 1, 4), seeds=1,
                           train_size=150, test_size=60, backend="exact", training=TrainConfig(max_epochs=40))
    result = compare(config)
    for record in result.records:
        assert record.classes == (0, 1, 4)
        assert record.accuracy > 0.6, record  # chance is 1/3
        assert record.is_classical or 0.0 <= record.entropy <= 1.0
    atp = next(r for r in result.records if r.encoder == "atp")
    assert len(atp.encoder_info["class_average_maps"]) == 3


def test_attacks_are_refused_for_more_than_two_classes():
    from qenc_bench.attacks import parse_attack

    with pytest.raises(ConfigError, match="two classes"):
        CompareConfig(classes=(0, 1, 2), attacks=(parse_attack("fgsm:0.1"),))
