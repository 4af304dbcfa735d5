"""Adaptive Threshold Pruning: class-average maps, the prune rule, the candidate thresholds,
the three threshold optimisers (with a scorer whose answer is known), the fitted encoder's
transform and input gradient, and ATP in a real comparison on scikit-learn's digits."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qenc_bench import FitContext, Split
from qenc_bench.harness import CompareConfig, compare
from qenc_bench.prepare import prepare
from qenc_bench.training import TrainConfig
from qenc_datasets.digits import DigitsDataset
from qenc_encoders.atp import ATPEncoder, candidate_thresholds, class_average_maps, prune_mask

# --- a tiny hand-made training split --------------------------------------------------------
#
# Class-average maps (pixels 0..4):
#   xbar0 = 0.10 0.60 0.05 0.40 0.20
#   xbar1 = 0.40 0.10 0.05 0.20 0.70
# breakpoints max = 0.40 0.60 0.05 0.40 0.70: four distinct levels 0.05 < 0.40 < 0.60 < 0.70, so
# four non-empty masks: keep all | keep {0,1,3,4} | keep {1,4} | keep {4}.

XBAR0 = np.array([0.10, 0.60, 0.05, 0.40, 0.20])
XBAR1 = np.array([0.40, 0.10, 0.05, 0.20, 0.70])
DELTA = np.array([0.05, 0.10, 0.02, 0.05, 0.10])
MASKS = {  # kept columns -> which interval of tau gives them
    (0, 1, 2, 3, 4): (0.0, 0.05),
    (0, 1, 3, 4): (0.05, 0.40),
    (1, 4): (0.40, 0.60),
    (4,): (0.60, 0.70),
}


def tiny_split() -> Split:
    x = np.stack([XBAR0 + DELTA, XBAR0 - DELTA, XBAR1 + DELTA, XBAR1 - DELTA, XBAR0, XBAR1])
    return Split(x, np.array([0, 0, 1, 1, 0, 1]))


class FakeContext(FitContext):
    """A FitContext whose score is a lookup of the candidate's kept columns."""

    def __init__(self, table: dict[tuple[int, ...], float]):
        self.calls: list[tuple[int, ...]] = []

        def score(encoder) -> float:
            kept = tuple(int(c) for c in encoder.columns)
            assert encoder.n_qubits == len(kept)  # the candidate was fitted before scoring
            self.calls.append(kept)
            return table[kept]

        super().__init__(seed=0, score=score)


def refusing_context() -> FitContext:
    def score(encoder):
        raise AssertionError("score must not be called")

    return FitContext(seed=0, score=score)


# --- maps, prune rule, candidates ---------------------------------------------------------


def test_class_average_maps_by_hand():
    x = np.array([[0.0, 1.0, 0.2], [1.0, 1.0, 0.4], [0.5, 0.0, 0.9], [0.5, 0.5, 0.3], [0.2, 0.1, 0.0]])
    y = np.array([0, 0, 1, 1, 1])
    xbar0, xbar1 = class_average_maps(Split(x, y))
    np.testing.assert_allclose(xbar0, [0.5, 1.0, 0.3], atol=1e-15)
    np.testing.assert_allclose(xbar1, [1.2 / 3, 0.6 / 3, 1.2 / 3], atol=1e-15)
    xbar0, xbar1 = class_average_maps(tiny_split())
    np.testing.assert_allclose(xbar0, XBAR0, atol=1e-15)
    np.testing.assert_allclose(xbar1, XBAR1, atol=1e-15)


def test_prune_mask_needs_both_maps_below_tau():
    xbar0 = np.array([0.1, 0.5, 0.1, 0.5, 0.3])
    xbar1 = np.array([0.1, 0.1, 0.5, 0.5, 0.3])
    np.testing.assert_array_equal(prune_mask((xbar0, xbar1), 0.3), [True, False, False, False, False])
    # a pixel exactly at tau is not below it: kept
    np.testing.assert_array_equal(prune_mask((xbar0, xbar1), 0.5), [True, False, False, False, True])
    np.testing.assert_array_equal(prune_mask((xbar0, xbar1), 0.51), [True] * 5)
    np.testing.assert_array_equal(prune_mask((xbar0, xbar1), 0.0), [False] * 5)
    # pruned iff max(xbar0, xbar1) < tau, for any tau
    rng = np.random.default_rng(0)
    a, b = rng.uniform(size=50), rng.uniform(size=50)
    for tau in rng.uniform(size=20):
        np.testing.assert_array_equal(prune_mask((a, b), tau), np.maximum(a, b) < tau)


def _reachable_masks(breakpoints: np.ndarray, tau_max: float) -> set[tuple[bool, ...]]:
    """Every non-empty keep-mask some tau in [0, tau_max] gives, found by brute force: the
    mask can only change at a breakpoint, so tau_max, 0 and the points just above every
    breakpoint below tau_max cover all of them."""
    taus = [0.0, tau_max] + [np.nextafter(b, np.inf) for b in breakpoints if b < tau_max]
    out = set()
    for t in taus:
        keep = ~(breakpoints < t)
        if keep.any():
            out.add(tuple(keep))
    return out


def test_candidate_thresholds_one_per_distinct_mask():
    xbar0, xbar1 = class_average_maps(tiny_split())
    bp = np.maximum(xbar0, xbar1)
    taus = candidate_thresholds(bp, bp.max())
    assert len(taus) == len(np.unique(bp)) == 4
    masks = [tuple(np.flatnonzero(~prune_mask((xbar0, xbar1), t))) for t in taus]
    assert len(set(masks)) == len(taus)  # each tau a different mask
    assert set(masks) == set(MASKS)  # and together every non-empty one
    assert np.all(np.diff(taus) > 0) and taus[0] == 0.0 and taus[-1] <= bp.max()


def test_candidate_thresholds_on_real_class_maps():
    raw = DigitsDataset().load(None)
    for classes in ((0, 1), (3, 8)):
        for grid in (3, 4, 8):
            data = prepare(raw, classes, grid=grid, train_size=100, test_size=40, seed=1)
            xbar0, xbar1 = class_average_maps(data.train)
            bp = np.maximum(xbar0, xbar1)
            taus = candidate_thresholds(bp, bp.max())
            assert len(taus) == len(np.unique(bp))
            masks = {tuple(~prune_mask((xbar0, xbar1), t)) for t in taus}
            assert len(masks) == len(taus)
            assert masks == _reachable_masks(bp, bp.max())
            if grid == 8:  # the 8x8 digits have border pixels that are 0 in both classes
                assert np.sum(bp == 0) >= 1 and len(np.unique(bp)) < 64


def test_candidate_thresholds_with_a_smaller_tau_max_cover_every_reachable_mask():
    """tau_max between a breakpoint and the midpoint to the next: tau in (0.5, 0.6] prunes
    the pixels at 0.1 and 0.5 and keeps 0.9, a third mask the candidates must include."""
    bp = np.array([0.1, 0.5, 0.9])
    taus = candidate_thresholds(bp, 0.6)
    assert np.all(taus <= 0.6)
    masks = {tuple(~(bp < t)) for t in taus}
    assert masks == _reachable_masks(bp, 0.6) == {(True, True, True), (False, True, True), (False, False, True)}


# --- the optimisers with a known score ----------------------------------------------------

SCORES = {(0, 1, 2, 3, 4): 0.7, (0, 1, 3, 4): 0.9, (1, 4): 0.8, (4,): 0.6}


def _fit(table=SCORES, **options) -> tuple[ATPEncoder, FakeContext]:
    split = tiny_split()
    context = FakeContext(table)
    options.setdefault("optimizer", "exact")  # the exhaustive search; the default (joint) needs a harness
    encoder = ATPEncoder(**options).fit(split, split, context)
    return encoder, context


def _assert_consistent(encoder: ATPEncoder, context: FakeContext) -> None:
    kept = tuple(encoder.kept_.tolist())
    lo, hi = MASKS[kept]
    assert lo < encoder.tau_ <= hi or (lo == 0.0 and encoder.tau_ == 0.0)
    np.testing.assert_array_equal(encoder.pruned_, prune_mask((XBAR0, XBAR1), encoder.tau_))
    assert encoder.n_qubits == len(kept) and list(encoder.columns) == list(kept)
    # each mask trained once, and counted
    assert len(context.calls) == len(set(context.calls)) == encoder.trainings_ == context.trainings
    info = encoder.info()
    assert info["tau"] == encoder.tau_ and info["kept_pixels"] == list(kept)
    assert sorted(info["kept_pixels"] + info["pruned_pixels"]) == [0, 1, 2, 3, 4]
    assert {c["qubits"] for c in info["candidates"]} == {len(k) for k in context.calls}


def test_exact_search_finds_the_best_mask():
    encoder, context = _fit()
    assert tuple(encoder.kept_) == (0, 1, 3, 4)
    assert set(context.calls) == set(MASKS)  # every distinct mask trained exactly once
    _assert_consistent(encoder, context)
    assert encoder.info()["optimizer"] == "exact"


@pytest.mark.parametrize("best", sorted(SCORES))
def test_exact_search_finds_any_best_mask(best):
    table = {k: (1.0 if k == best else 0.5 - 0.01 * len(k)) for k in SCORES}
    encoder, context = _fit(table)
    assert tuple(encoder.kept_) == best
    _assert_consistent(encoder, context)


def test_ties_go_to_fewer_qubits():
    table = {(0, 1, 2, 3, 4): 0.9, (0, 1, 3, 4): 0.9, (1, 4): 0.9, (4,): 0.6}
    encoder, context = _fit(table)
    assert tuple(encoder.kept_) == (1, 4)
    _assert_consistent(encoder, context)
    table = {k: 0.75 for k in SCORES}  # all equal: the single pixel
    encoder, _ = _fit(table)
    assert tuple(encoder.kept_) == (4,) and encoder.n_qubits == 1


def test_grid_search_runs_and_records():
    encoder, context = _fit(optimizer="grid", grid_points=11)
    # taus 0, 0.07, ..., 0.7 meet all four masks
    assert set(context.calls) == set(MASKS)
    assert len(encoder.info()["candidates"]) == 11
    assert tuple(encoder.kept_) == (0, 1, 3, 4)
    _assert_consistent(encoder, context)
    assert encoder.info()["optimizer"] == "grid"
    coarse, context = _fit(optimizer="grid", grid_points=2)  # taus 0 and 0.7 only
    assert set(context.calls) == {(0, 1, 2, 3, 4), (4,)}
    assert tuple(coarse.kept_) == (0, 1, 2, 3, 4)


def test_lbfgsb_runs_and_records():
    encoder, context = _fit(optimizer="lbfgsb")
    assert encoder.trainings_ >= 2  # the finite-difference step is wide enough to see another mask
    best = max(SCORES[k] for k in context.calls)
    assert SCORES[tuple(encoder.kept_)] == best
    _assert_consistent(encoder, context)
    assert encoder.info()["optimizer"] == "lbfgsb"
    # a step too small to leave the starting mask's interval sees one mask only
    encoder, context = _fit(optimizer="lbfgsb", fd_step=1e-6)
    assert encoder.trainings_ == 1 and context.calls == [(0, 1, 3, 4)]


def test_fixed_tau_skips_the_search():
    split = tiny_split()
    context = refusing_context()
    encoder = ATPEncoder(tau=0.5).fit(split, split, context)
    assert tuple(encoder.kept_) == (1, 4) and encoder.tau_ == 0.5
    assert encoder.trainings_ == 0 and context.trainings == 0
    assert encoder.info()["optimizer"] == "fixed" and encoder.info()["candidates"] == []
    encoder = ATPEncoder(tau=0.0).fit(split, split, context)
    assert tuple(encoder.kept_) == (0, 1, 2, 3, 4)


def test_fixed_tau_that_prunes_everything_is_an_error():
    split = tiny_split()
    with pytest.raises(Exception, match="prunes every pixel"):
        ATPEncoder(tau=0.71).fit(split, split, refusing_context())


def test_unknown_optimizer_is_refused():
    from qenc_bench.errors import ConfigError

    with pytest.raises(ConfigError, match="bfgs"):
        ATPEncoder(optimizer="bfgs")


def test_transform_feature_map_and_input_vjp_drop_pruned_pixels():
    split = tiny_split()
    encoder = ATPEncoder(tau=0.3).fit(split, split, refusing_context())
    kept = [0, 1, 3, 4]
    assert list(encoder.kept_) == kept and list(np.flatnonzero(encoder.pruned_)) == [2]
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(7, 5))
    params = encoder.transform(x)
    assert params.shape == (7, 4)
    np.testing.assert_allclose(params, np.pi * x[:, kept], rtol=0, atol=0)
    # the pruned pixel does not influence the parameters at all
    x2 = x.copy()
    x2[:, 2] = rng.uniform(size=7)
    np.testing.assert_array_equal(encoder.transform(x2), params)
    ops = encoder.feature_map()
    assert [(op.gate, op.wires, op.source, op.index) for op in ops] == [
        ("RX", (j,), "feature", j) for j in range(4)
    ]
    g = rng.normal(size=(7, 4))
    grad = encoder.input_vjp(x, g)
    assert grad.shape == (7, 5)
    np.testing.assert_array_equal(grad[:, 2], 0.0)
    np.testing.assert_allclose(grad[:, kept], np.pi * g, rtol=0, atol=0)
    # the vjp is the transpose of the (linear) transform: <g, J dx> == <J^T g, dx>
    dx = rng.normal(size=(7, 5))
    assert np.sum(g * (encoder.transform(x + dx) - params)) == pytest.approx(np.sum(grad * dx), rel=1e-12)


# --- on real data, with the real scorer --------------------------------------------------

CFG = dict(encoders=("atp", "angle"), dataset="digits", classes=(3, 8), seeds=1, train_size=120,
           test_size=60, training=TrainConfig(max_epochs=20))


@pytest.fixture(scope="module")
def searched():
    config = CompareConfig(**CFG, encoder_options={"atp": {"optimizer": "exact"}})
    return {r.encoder: r for r in compare(config).records}


def test_atp_on_digits_prunes_by_validation(searched):
    atp, angle = searched["atp"], searched["angle"]
    assert angle.n_qubits == 10  # 3x3 grid + readout
    assert atp.n_qubits <= angle.n_qubits
    info = atp.encoder_info
    assert info["optimizer"] == "exact"
    assert atp.n_qubits == len(info["kept_pixels"]) + 1
    assert sorted(info["kept_pixels"] + info["pruned_pixels"]) == list(range(9))
    # the exact search trained one model per distinct breakpoint of the training maps
    data = prepare(DigitsDataset().load(None), (3, 8), grid=3, train_size=120, test_size=60, seed=0)
    xbar0, xbar1 = class_average_maps(data.train)
    np.testing.assert_allclose(info["class_average_maps"], [xbar0.round(6), xbar1.round(6)], atol=1e-12)
    bp = np.maximum(xbar0, xbar1)
    assert info["trainings"] == len(np.unique(bp)) >= 2
    tau = info["tau"]
    assert 0.0 <= tau <= bp.max()
    assert info["pruned_pixels"] == np.flatnonzero(prune_mask((xbar0, xbar1), tau)).tolist()
    # the chosen mask is the best on VALIDATION, and the final model is the one scored
    best = max(c["validation_accuracy"] for c in info["candidates"])
    assert atp.validation_accuracy == best
    assert min(c["qubits"] for c in info["candidates"] if c["validation_accuracy"] == best) == atp.n_qubits - 1
    angle_candidate = [c for c in info["candidates"] if c["qubits"] == 9]
    assert angle_candidate and angle_candidate[0]["validation_accuracy"] == angle.validation_accuracy
    assert 0.0 <= atp.accuracy <= 1.0 and atp.accuracy >= 0.6  # 3 vs 8 is learnable


def test_atp_at_tau_zero_is_angle_encoding(searched):
    config = CompareConfig(**CFG, encoder_options={"atp": {"tau": 0.0}})
    records = {r.encoder: r for r in compare(config).records}
    atp, angle = records["atp"], records["angle"]
    assert atp.encoder_info["optimizer"] == "fixed" and atp.encoder_info["trainings"] == 0
    assert atp.encoder_info["pruned_pixels"] == []
    assert atp.n_qubits == angle.n_qubits == 10
    assert atp.accuracy == angle.accuracy
    assert atp.validation_accuracy == angle.validation_accuracy
    assert atp.entropy == angle.entropy
    assert atp.epochs == angle.epochs
    # the angle run is the same as in the searched comparison: same seed, same data
    assert angle.accuracy == searched["angle"].accuracy


def test_all_subsets_agree_with_the_candidates_on_real_maps():
    """No mask outside the candidates' is reachable by any tau (brute force over subsets of
    the 9 pixels of the digits 3 vs 8 maps)."""
    data = prepare(DigitsDataset().load(None), (3, 8), grid=3, train_size=120, test_size=60, seed=0)
    xbar0, xbar1 = class_average_maps(data.train)
    bp = np.maximum(xbar0, xbar1)
    candidates = {tuple(~prune_mask((xbar0, xbar1), t)) for t in candidate_thresholds(bp, bp.max())}
    reachable = set()
    for keep in itertools.product([False, True], repeat=9):
        keep = np.array(keep)
        if keep.any() and (not (~keep).any() or bp[~keep].max() < bp[keep].min()):
            reachable.add(tuple(keep))  # prunes exactly the dimmest pixels: some tau gives it
    assert candidates == reachable
