"""Leaderboards: result files are checked against the schema, merged into groups of
comparable runs, ranked, and written as Markdown and a self-contained HTML page that a real
headless browser renders."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from qenc_bench.attacks import parse_attack
from qenc_bench.cli import QencGroup
from qenc_bench.cli.results import report, show
from qenc_bench.errors import ResultFileError
from qenc_bench.harness import CompareConfig, compare
from qenc_bench.leaderboard import Leaderboard, rank_group
from qenc_bench.render.markdown import markdown_leaderboard
from qenc_bench.render.plots import group_plots
from qenc_bench.reporters import load_reporters
from qenc_bench.results import SCHEMA_VERSION, BenchmarkResult, RunRecord, merge, upgrade, validate_result
from qenc_bench.results.schema import CONFIG_FIELDS, RECORD_FIELDS, RESULT_FIELDS, TRAINING_FIELDS
from qenc_bench.results.store import ResultStore, StoredRun, run_id
from qenc_bench.training import TrainConfig

load_result = BenchmarkResult.load

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SMALL = dict(train_size=60, test_size=40, training=TrainConfig(max_epochs=15))


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Path]:
    """Real comparisons on the bundled digits, saved as result files:
    ``a`` atp+angle seeds 0-1; ``b`` angle+pca seeds 5-6 (same setting as a);
    ``grid2`` atp+angle on a 2x2 grid with FGSM (a different setting)."""
    folder = tmp_path_factory.mktemp("results")
    configs = {
        "a": CompareConfig(encoders=("atp", "angle"), seeds=2, **SMALL),
        "b": CompareConfig(encoders=("angle", "pca"), seeds=2, seed=5, **SMALL),
        "grid2": CompareConfig(encoders=("atp", "angle"), seeds=2, grid=2,
                               attacks=(parse_attack("fgsm:0.1,0.2"),), **SMALL),
    }
    return {name: compare(config).save(folder / f"{name}.json") for name, config in configs.items()}


def cli():
    """The report commands under the ``qenc-bench`` group class, which prints QencBenchError
    as one line (so these tests do not depend on how cli.py registers them)."""
    group = QencGroup("qenc-bench")
    group.add_command(report)
    group.add_command(show)
    return group


def invoke(*args: str):
    return CliRunner().invoke(cli(), [str(a) for a in args])


def group_headings(markdown: str) -> list[str]:
    return [line[3:] for line in markdown.splitlines() if line.startswith("## ") and line != "## Legend"]


# --- merging ----------------------------------------------------------------------------

def test_files_with_the_same_setting_merge_into_one_leaderboard(results, tmp_path):
    md = tmp_path / "board.md"
    run = invoke("report", results["a"], results["b"], "--markdown", md)
    assert run.exit_code == 0, run.output
    text = md.read_text()
    assert group_headings(text) == ["digits 0,1 · grid 3 · readout(layers=1)"]
    for encoder in ("atp", "angle", "pca"):
        assert re.search(rf"^\| \d+=?\?? \| {encoder} \|", text, re.M), f"{encoder} missing from\n{text}"
    header = next(line for line in text.splitlines() if line.startswith("| rank |")).split("|")
    angle_row = next(line for line in text.splitlines() if line.startswith("|") and "| angle |" in line).split("|")
    assert angle_row[header.index(" seeds ")].strip() == "4", "angle's 2 + 2 seeds from both files"
    assert "seeds 0-1, 5-6" in text
    assert "## Legend" in text and "rank shared by rows the data cannot tell apart" in text and "two-level bootstrap" in text


def test_a_different_setting_is_a_separate_labelled_group(results, tmp_path):
    md = tmp_path / "board.md"
    run = invoke("report", results["a"], results["b"], results["grid2"], "--markdown", md)
    assert run.exit_code == 0, run.output
    headings = group_headings(md.read_text())
    assert sorted(headings) == ["digits 0,1 · grid 2 · readout(layers=1)",
                                "digits 0,1 · grid 3 · readout(layers=1)"]
    assert "2 group(s)" in run.output and "ranked by accuracy" in run.output


def test_settings_that_share_dataset_grid_and_model_are_told_apart_in_the_label(results):
    a = BenchmarkResult.load(results["a"])
    slower = replace(a, config={**a.config, "training": {**a.config["training"], "learning_rate": 0.01}})
    labels = [g.label for g in merge([a, slower], ["a.json", "slow.json"])]
    assert sorted(labels) == ["digits 0,1 · grid 3 · readout(layers=1) · lr 0.01",
                              "digits 0,1 · grid 3 · readout(layers=1) · lr 0.05"]


def test_a_run_in_two_files_is_counted_once_and_flagged(results, tmp_path):
    copy_ = tmp_path / "a-again.json"
    shutil.copy(results["a"], copy_)
    a = load_result(results["a"])
    groups = merge([a, load_result(copy_)], [str(results["a"]), str(copy_)])
    assert len(groups) == 1 and len(groups[0].records) == len(a.records)
    assert groups[0].notes() == [f"8 runs of {copy_} also in {results['a']} with the same numbers: counted once"]

    data = json.loads(copy_.read_text())
    data["records"][0]["accuracy"] = 0.5
    copy_.write_text(json.dumps(data))
    note = merge([a, load_result(copy_)], ["a.json", "other.json"])[0].notes()[0]
    assert "1 with different numbers" in note and "accuracy" in note and "from a.json" in note


def test_a_sweep_store_is_read_like_its_result_files(results, tmp_path):
    """A sweep store (one file per encoder x seed) of the runs of ``b`` merges with ``a``."""
    b = load_result(results["b"])
    store = ResultStore.create(tmp_path / "store")
    for record in b.records:
        model = {"encoders": [], "classical": [record.encoder]} if record.is_classical else \
            {"encoders": [record.encoder], "classical": []}
        config = {**b.config, **model, "seed": record.seed, "seeds": 1}
        store.put(StoredRun(run_id=run_id(config), status="ok", config=config,
                            result=BenchmarkResult(config=config, records=(record,)), finished=b.created))
    md = tmp_path / "board.md"
    run = invoke("report", results["a"], tmp_path / "store", "--markdown", md)
    assert run.exit_code == 0, run.output
    text = md.read_text()
    assert group_headings(text) == ["digits 0,1 · grid 3 · readout(layers=1)"] and "seeds 0-1, 5-6" in text
    run = invoke("show", tmp_path / "store")
    assert run.exit_code == 0 and "pca" in run.output and "ranked by accuracy" in run.output
    (tmp_path / "plain").mkdir()
    run = invoke("show", tmp_path / "plain")
    assert run.exit_code == 1 and "is a directory but not a qenc-bench sweep store" in run.output


def test_one_vs_rest_groups_are_labelled_with_every_class(results):
    a = BenchmarkResult.load(results["a"])
    three = [replace(r, classes=(0, 1, 2)) for r in a.records]
    data = replace(a, config={**a.config, "classes": [0, 1, 2]}, records=tuple(three)).to_dict()
    validate_result(data, "three.json")
    labels = [g.label for g in merge([a, BenchmarkResult.from_dict(data)])]
    assert labels == ["digits 0,1 · grid 3 · readout(layers=1)",
                      "digits 0,1,2 (one-vs-rest) · grid 3 · readout(layers=1)"]


def test_encoders_run_with_options_are_ranked_as_variants(results):
    a = BenchmarkResult.load(results["a"])
    warm = replace(a, config={**a.config, "encoder_options": {"atp": {"optimizer": "warm"}}})
    encoders = {r.encoder for g in merge([a, warm]) for r in g.records}
    assert encoders == {"atp", "angle", "atp (optimizer=warm)", "logistic", "svm"}


def test_a_metric_a_group_lacks_falls_back_to_accuracy_with_a_note(results):
    group = merge([load_result(results["a"])])[0]
    ranked = rank_group(group, "robustness")
    assert ranked.rank_by == "accuracy"
    assert "no model here has robustness: ranked by accuracy instead" in ranked.notes


# --- HTML -------------------------------------------------------------------------------

def test_html_is_self_contained_and_has_every_plot(results, tmp_path):
    page = tmp_path / "board.html"
    run = invoke("report", results["a"], results["b"], results["grid2"], "--html", page)
    assert run.exit_code == 0, run.output
    html = page.read_text()
    assert "data:image/png;base64," in html
    for external in ("http://", "https://", 'src="/', "src='/", "url(", "@import", "<script"):
        assert external not in html, f"the page refers to something outside itself: {external}"
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert html.count("<figure>") == len(sources) == 2 + 3  # group 1: entropy, ATP; group 2: the same + FGSM
    assert html.count("Up and to the left is better") == 2 * 2  # the entropy plot's caption, as alt text too
    assert html.count("marks the chosen τ of each seed") == 2 * 2
    assert "Test accuracy under noise and attack" in html and "accuracy under FGSM" in html


def test_noise_levels_get_a_plot(results):
    """No backend with noise is registered in this project yet: the noisy accuracies here
    are made up from the clean ones, to exercise the plot."""
    a = load_result(results["a"])
    noisy = [replace(r, noisy_accuracy={"depolarizing:0.03": r.accuracy * 0.9, "depolarizing:0.1": r.accuracy * 0.7})
             for r in a.records]
    ranked = rank_group(merge([replace(a, records=tuple(noisy))])[0], "robustness")
    assert ranked.rank_by == "robustness" and not any("instead" in n for n in ranked.notes)
    captions = [caption for _, caption in group_plots(ranked.ranking, ranked.group.records, load_reporters())]
    assert len(captions) == 3  # entropy, noise, ATP's thresholds
    md = markdown_leaderboard(Leaderboard((ranked,), (), ("made-up.json",), "robustness"))
    assert "depol p=0.03" in md and "depol p=0.1" in md and "| robustness [95%] |" in md


def test_existing_outputs_are_refused_without_force(results, tmp_path):
    page, md = tmp_path / "board.html", tmp_path / "board.md"
    page.write_text("keep me")
    run = invoke("report", results["a"], "--html", page, "--markdown", md)
    assert run.exit_code == 1
    assert run.output == f"Error: {page} already exists; pass --force to overwrite it or choose another --html\n"
    assert page.read_text() == "keep me" and not md.exists()
    run = invoke("report", results["a"], "--html", page, "--markdown", md, "--force")
    assert run.exit_code == 0, run.output
    assert page.read_text().startswith("<!DOCTYPE html>") and md.read_text().startswith("# qenc-bench leaderboard")
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def test_a_result_file_is_never_a_report_target(results):
    run = invoke("report", results["a"], "--markdown", results["a"], "--force")
    assert run.exit_code == 1 and "is one of the files being read" in run.output


def test_the_page_renders_in_headless_chromium(results, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("headless Chromium is needed to check the HTML report; install it with: "
                    "apt-get update && apt-get install -y chromium")
    from PIL import Image

    page, png = tmp_path / "board.html", tmp_path / "board.png"
    assert invoke("report", results["a"], results["b"], "--html", page).exit_code == 0
    script = ROOT / "docs" / "scripts" / "screenshot_report.py"
    done = subprocess.run([sys.executable, str(script), str(page), str(png), "--height", "2200"],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    image = Image.open(png).convert("RGB")
    assert image.size == (1280, 2200)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 500, "the page rendered nearly blank"
    plot_blue = sum(n for n, (r, g, b) in colours if abs(r - 0x1F) < 12 and abs(g - 0x77) < 12 and abs(b - 0xB4) < 12)
    assert plot_blue > 50, "no plot marker is visible"


# --- show ---------------------------------------------------------------------------------

def test_show_prints_the_compare_table(results):
    run = invoke("show", results["a"])
    assert run.exit_code == 0, run.output
    assert "digits 0,1 · grid 3 · readout(layers=1) · 2 seed(s) · ranked by accuracy" in run.output
    for text in ("accuracy [95% interval]", "entropy", "atp", "angle", "logistic (classical)", "tau="):
        assert text in run.output
    run = invoke("show", results["grid2"], "--rank-by", "robustness")
    assert run.exit_code == 0, run.output
    assert "ranked by robustness" in run.output and "fgsm eps=0.1" in run.output


# --- schema -------------------------------------------------------------------------------

def broken(path: Path, tmp_path: Path, change) -> Path:
    data = json.loads(path.read_text())
    change(data)
    out = tmp_path / "broken.json"
    out.write_text(json.dumps(data))
    return out


@pytest.mark.parametrize("change, message", [
    (lambda d: d["records"][4].pop("accuracy"), "record 4 (atp seed 1): missing field 'accuracy'"),
    (lambda d: d["records"][1].update(n_qubits="ten"),
     "record 1 (angle seed 0): field 'n_qubits' must be a non-negative integer, got 'ten'"),
    (lambda d: d["records"][0].update(converged=1),
     "record 0 (atp seed 0): field 'converged' must be a boolean, got 1"),
    (lambda d: d["records"][3].update(noisy_accuracy={"depolarizing:0.1": 1.5}),
     "field 'noisy_accuracy' must be an object of numbers in [0, 1]"),
    (lambda d: d["config"].pop("training"), "config: missing field 'training'"),
    (lambda d: d["config"].update(classes=[1, 1]),
     "config: field 'classes' must be a list of two or more distinct integers, got [1, 1]"),
    (lambda d: d.update(schema_version=SCHEMA_VERSION + 1),
     f"was written by a newer qenc-bench (result schema version {SCHEMA_VERSION + 1}; this one reads versions up "
     f"to {SCHEMA_VERSION}); upgrade qenc-bench"),
    (lambda d: d.pop("schema_version"), "has no 'schema_version': not a qenc-bench result file"),
    (lambda d: d.update(schema_version="1"), "field 'schema_version' must be a positive integer, got '1'"),
], ids=["missing-field", "wrong-type", "bool-for-int", "out-of-range", "config", "classes", "future-version",
        "no-version", "version-type"])
def test_a_result_off_the_schema_is_one_line_naming_file_record_and_field(results, tmp_path, change, message):
    bad = broken(results["a"], tmp_path, change)
    for args in (("show", bad), ("report", bad)):
        run = invoke(*args)
        assert run.exit_code == 1
        assert run.output.count("\n") == 1 and run.output.startswith(f"Error: result file {bad}"), run.output
        assert message in run.output


@pytest.mark.parametrize("content, message", [
    (b'{"schema_version": 1,', "is not valid JSON"),
    (bytes(range(256)), "is not text"),
    (b"[1, 2]", "is not a qenc-bench result: expected a JSON object, got list"),
])
def test_a_file_that_is_no_result_is_one_line(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    run = invoke("show", bad)
    assert run.exit_code == 1 and run.output.count("\n") == 1 and message in run.output, run.output


def test_migrations_run_in_order_on_a_copy():
    steps = []

    def one_to_two(d):
        steps.append(1)
        d["renamed"] = d.pop("old")
        return d

    def two_to_three(d):
        steps.append(2)
        d["added"] = 0
        return d

    old = {"schema_version": 1, "old": "x"}
    new = upgrade(old, "old.json", migrations={1: one_to_two, 2: two_to_three}, current=3)
    assert new == {"schema_version": 3, "renamed": "x", "added": 0} and steps == [1, 2]
    assert old == {"schema_version": 1, "old": "x"}
    with pytest.raises(ResultFileError, match="no migration from version 1 to 3"):
        upgrade(old, "old.json", migrations={2: two_to_three}, current=3)
    assert upgrade(new, migrations={}, current=3) is new


def test_the_schema_tables_match_the_record_type_and_the_docs(results):
    record_fields = {f.name: f for f in fields(RunRecord)}
    assert set(RECORD_FIELDS) == set(record_fields), "report.RECORD_FIELDS is out of step with RunRecord"
    from dataclasses import MISSING
    required = {n for n, f in record_fields.items() if f.default is MISSING and f.default_factory is MISSING}
    assert {n for n, (_, req) in RECORD_FIELDS.items() if req} == required
    assert set(RESULT_FIELDS) == set(BenchmarkResult.load(results["a"]).to_dict())
    config = json.loads(results["grid2"].read_text())["config"]
    assert set(CONFIG_FIELDS) >= set(config), f"config fields not in the schema: {set(config) - set(CONFIG_FIELDS)}"
    assert set(CONFIG_FIELDS) == {f.name for f in fields(CompareConfig)} - {"data_dir"}
    assert set(TRAINING_FIELDS) == {f.name for f in fields(TrainConfig)}
    doc = (ROOT / "docs" / "results-schema.md").read_text(encoding="utf-8")
    for name in [*RESULT_FIELDS, *CONFIG_FIELDS, *TRAINING_FIELDS, *RECORD_FIELDS]:
        assert f"`{name}`" in doc, f"docs/results-schema.md does not document `{name}`"


def test_every_written_result_validates(results):
    for path in results.values():
        validate_result(json.loads(path.read_text()), path)


def test_report_without_files_is_a_usage_error():
    run = invoke("report")
    assert run.exit_code == 2 and "Missing argument" in run.output


def test_validation_does_not_change_the_data(results):
    data = json.loads(results["a"].read_text())
    before = copy.deepcopy(data)
    validate_result(data, results["a"])
    assert data == before


def test_groups_that_differ_only_in_their_pair_are_ranked_across_pairs(tmp_path):
    """Three digit pairs with the same setting form a study: mean ranks, the Friedman test, the
    Nemenyi critical difference, and the critical-difference diagram in the HTML."""
    paths = []
    for pair in ((0, 1), (3, 8), (1, 7)):
        config = CompareConfig(encoders=("atp", "angle"), classes=pair, seeds=1, classical=("logistic",),
                               train_size=60, test_size=40, training=TrainConfig(max_epochs=5, restarts=1))
        paths.append(compare(config).save(tmp_path / f"{pair[0]}-{pair[1]}.json"))
    md, page = tmp_path / "board.md", tmp_path / "board.html"
    run = invoke("report", *paths, "--markdown", md, "--html", page)
    assert run.exit_code == 0, run.output
    text = md.read_text()
    assert "## Across dataset pairs: grid 3 · readout(layers=1) · exact expectation values" in text
    assert "Friedman chi-square" in text and "Nemenyi critical difference" in text and "over 3 pairs" in text
    table = text[text.index("## Across dataset pairs"):]
    assert "| mean rank | model | digits 0,1 | digits 1,7 | digits 3,8 |" in table
    html = page.read_text()
    assert "Across dataset pairs" in html and "Nemenyi critical difference (alpha = 0.05)" in html
    assert "across dataset pairs" in run.output
