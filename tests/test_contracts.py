"""qenc_bench.testing's contract checks on every built-in component, and on broken ones.

Every registered built-in encoder, every dataset that needs no file, every backend and every
attack passes its check; deliberately broken components fail with a message that names them.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from qenc_bench import AttackSpec, BackendSpec, DatasetSpec, Encoder, EncoderSpec, Op, RawDataset
from qenc_bench.attacks import Attack, project
from qenc_bench.plugins import load_registry
from qenc_bench.testing import check_attack, check_backend, check_dataset, check_encoder

REGISTRY = load_registry()
BUILT_IN = {"datasets", "encoders", "pennylane", "exact", "models", "attacks", "aer", "jax"}


def built_in(kind: str) -> list[str]:
    return [e.spec.name for e in REGISTRY.entries(kind) if e.plugin in BUILT_IN]


NO_FILE_DATASETS = ["digits", "breast-cancer"]


def test_the_parametrisation_covers_the_built_ins():
    assert {"amplitude", "angle", "atp", "dense-angle", "iqp", "pca", "sqe"} <= set(built_in("encoder"))
    assert set(built_in("backend")) == {"aer", "exact", "jax", "lightning", "pennylane"}
    assert set(built_in("attack")) == {"fgsm", "pgd"}
    assert set(NO_FILE_DATASETS) <= set(built_in("dataset"))


@pytest.mark.parametrize("name", built_in("encoder"))
def test_built_in_encoder_keeps_the_contract(name):
    encoder = check_encoder(REGISTRY.get("encoder", name))
    assert encoder.name == name


@pytest.mark.parametrize("name", NO_FILE_DATASETS)
def test_built_in_dataset_keeps_the_contract(name):
    raw = check_dataset(REGISTRY.get("dataset", name))
    assert raw.modality == REGISTRY.get("dataset", name).modality


@pytest.mark.parametrize("name", built_in("backend"))
def test_built_in_backend_keeps_the_contract(name):
    check_backend(REGISTRY.get("backend", name))


def test_a_sampling_backend_is_compared_within_its_shot_noise():
    backend = check_backend(REGISTRY.get("backend", "aer"), shots=20000, seed=1)
    assert backend.shots == 20000


@pytest.mark.parametrize("name", built_in("attack"))
def test_built_in_attack_keeps_the_contract(name):
    check_attack(REGISTRY.get("attack", name))


def test_pgd_without_random_start_keeps_the_contract():
    check_attack(REGISTRY.get("attack", "pgd"), steps=3, random_start=False)


@pytest.mark.parametrize("conftest", [None, 'pytest_plugins = ["qenc_bench.testing"]\n'],
                         ids=["entry point", "pytest_plugins"])
def test_the_pytest_plugin_gives_the_fixtures(tmp_path, conftest):
    """The fixtures come with the installed package (its ``pytest11`` entry point); naming the
    module in a conftest.py, as older instructions said, still works."""
    if conftest is not None:
        (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_fixtures.py").write_text(
        "from qenc_bench.testing import check_encoder\n"
        "def test_fixtures(qenc_contracts, qenc_registry, qenc_digits):\n"
        "    assert qenc_contracts.encoder is check_encoder\n"
        "    assert 'angle' in qenc_registry.names('encoder')\n"
        "    assert qenc_digits.n_features == 9\n"
    )
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error",
                           str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


# -- broken components fail, naming themselves ---------------------------------------------


class WrongWidth(Encoder):
    def fit(self, train, validation, context):
        self.n_qubits = train.x.shape[1]
        return self

    def feature_map(self):
        return tuple(Op("RX", (j,), "feature", j) for j in range(self.n_qubits))

    def transform(self, x):
        return np.pi * x[:, :-1]  # one column short


class BadVjp(WrongWidth):
    def transform(self, x):
        return np.pi * x

    def input_vjp(self, x, grad_parameters):
        return grad_parameters  # forgot the factor pi


def test_an_encoder_with_the_wrong_feature_width_fails():
    with pytest.raises(AssertionError, match=r"encoder 'wrong-width': transform\(train\) has shape \(\d+, 8\)"):
        check_encoder(EncoderSpec(name="wrong-width", factory=WrongWidth))


def test_an_encoder_with_a_wrong_input_vjp_fails():
    with pytest.raises(AssertionError, match="encoder 'bad-vjp': input_vjp differs from central finite differences"):
        check_encoder(EncoderSpec(name="bad-vjp", factory=BadVjp))


class ShiftedLabels:
    def load(self, data_dir):
        from sklearn.datasets import load_iris

        bunch = load_iris()
        return RawDataset("shifted", {"train": (bunch.data, bunch.target + 1)}, ("a", "b", "c"),
                          max_value=None, modality="tabular")


def test_a_dataset_with_labels_out_of_range_or_the_wrong_modality_fails():
    from qenc_bench import Dataset

    class Shifted(ShiftedLabels, Dataset):
        pass

    with pytest.raises(AssertionError, match=r"dataset 'shifted' split 'train': labels span 1\.\.3, outside 0\.\.2"):
        check_dataset(DatasetSpec(name="shifted", factory=Shifted, modality="tabular"))
    with pytest.raises(AssertionError, match="dataset 'shifted': load gave modality 'tabular' but the spec declares 'image'"):
        check_dataset(DatasetSpec(name="shifted", factory=Shifted))


def test_a_backend_whose_spec_overstates_its_capabilities_fails():
    exact = REGISTRY.get("backend", "exact")
    lying = BackendSpec(name="lying", factory=exact.factory, capabilities=replace(exact.capabilities, entropy=False))
    with pytest.raises(AssertionError, match="backend 'lying': the spec's capabilities differ .*entropy: spec False"):
        check_backend(lying)


class GradientFree(Attack):
    def perturb(self, x, gradient, eps, rng):
        return project(x + eps * rng.choice([-1.0, 1.0], size=x.shape), x, eps)


class Overshoot(Attack):
    def perturb(self, x, gradient, eps, rng):
        return np.clip(x + 2 * eps * np.sign(gradient(x)), 0, 1)


def test_an_attack_that_ignores_the_gradient_or_leaves_the_ball_fails():
    with pytest.raises(AssertionError, match="attack 'random' at eps=0.05: .*does not follow the gradient"):
        check_attack(AttackSpec(name="random", factory=GradientFree))
    with pytest.raises(AssertionError, match="attack 'overshoot' at eps=0.05: moved a pixel by 0.1, outside the eps ball"):
        check_attack(AttackSpec(name="overshoot", factory=Overshoot))
