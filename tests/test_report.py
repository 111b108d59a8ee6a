"""`boneabm report`'s runs: every arm planned up front, identical arms run once, in parallel; a report
directory resumed (complete runs kept) or refused when its runs were planned differently; several seeds, each
check passed only if it passes on every one."""

import json
import re
import shutil

import pytest
import yaml

from boneabm.cli import main
from boneabm.errors import UserError
from boneabm.report import SeedSpread, parse_seeds
from boneabm.validation import (PANEL_NAMES, VALIDATION_MANIFEST, Check, Validation, check_no_rankl_no_mcsf,
                                check_resorption_rates, check_timing)

from conftest import SMALL, merged

# 20 x 20 sites for 2 h with RANKL: a run takes about a second
TINY = merged(SMALL, {"time": {"duration_h": 2}, "medium": {"rankl_ng_ml": 50, "opg_ng_ml": 0}})
ARMS = {  # the shipped panels' shape in small: wild type = RANKL 50 = OPG 0, no RANKL = RANKL 0
    "perturbations": {"wild_type": [], "no_rankl": ["medium.rankl_ng_ml=0"]},
    "rankl_dose_response": {"rankl_0": ["medium.rankl_ng_ml=0"], "rankl_50": ["medium.rankl_ng_ml=50"]},
    "opg_titration": {"opg_0": ["medium.opg_ng_ml=0"], "opg_100": ["medium.opg_ng_ml=100"]},
}


@pytest.fixture(scope="module")
def panels(tmp_path_factory):
    folder = tmp_path_factory.mktemp("panels")
    (folder / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    for name, arms in ARMS.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump({"panel": name, "base": "tiny.yaml", "arms": arms}))
    return folder


@pytest.fixture(scope="module")
def tiny(panels, tmp_path_factory):
    """The small panels' validation, 2 replicates, run once on 2 workers; tests copy its directory."""
    validation = Validation(tmp_path_factory.mktemp("tiny") / "runs", replicates=2, panels=panels, workers=2)
    validation.run_all()
    return validation


def _run_dirs(out):
    return sorted(str(p.parent.relative_to(out)) for p in out.rglob("metadata.json"))


def test_the_shipped_panels_plan_each_distinct_experiment_once():
    """29 arms, but wild type = RANKL 50 ng/mL = OPG 0 and no RANKL = RANKL 0: 26 distinct runs per replicate."""
    validation = Validation("unused", replicates=2)
    assert len(validation.plan) == 29 and set(p for p, _ in validation.plan) == set(PANEL_NAMES)
    assert len(validation.experiments) == 26 * 2
    assert validation.plan[("rankl_dose_response", "rankl_50")] == validation.plan[("perturbations", "wild_type")] \
        == validation.plan[("opg_titration", "opg_0")] == ["perturbations/wild_type/seed1", "perturbations/wild_type/seed2"]
    assert validation.plan[("rankl_dose_response", "rankl_0")] == validation.plan[("perturbations", "no_rankl")]
    assert validation.shared() == {"rankl_dose_response/rankl_0": "perturbations/no_rankl",
                                   "rankl_dose_response/rankl_50": "perturbations/wild_type",
                                   "opg_titration/opg_0": "perturbations/wild_type"}
    # replicates are not identical to each other, and a real difference is never merged away
    assert len(set(validation.plan[("rankl_dose_response", "rankl_100")])) == 2
    assert validation.plan[("rankl_dose_response", "rankl_100")] != validation.plan[("perturbations", "wild_type")]


@pytest.mark.slow  # the tiny fixture and resumes start local Dask clusters
def test_identical_arms_share_one_run_directory_and_results(tiny):
    out, validation = tiny.out, tiny
    assert _run_dirs(out) == ["opg_titration/opg_100/seed1", "opg_titration/opg_100/seed2",
                              "perturbations/no_rankl/seed1", "perturbations/no_rankl/seed2",
                              "perturbations/wild_type/seed1", "perturbations/wild_type/seed2"]
    wild_type = validation.runs("perturbations", "wild_type")
    for shared_arm in (("rankl_dose_response", "rankl_50"), ("opg_titration", "opg_0")):
        assert [r.path for r in validation.runs(*shared_arm)] == [r.path for r in wild_type]
    assert [r.metadata["seed"] for r in wild_type] == [1, 2]
    # the shared run is what the arm asks for: RANKL 50, OPG 0; the other arms differ as configured
    assert wild_type[0].config["medium"]["rankl_ng_ml"] == 50 and wild_type[0].config["medium"]["opg_ng_ml"] == 0
    assert validation.runs("rankl_dose_response", "rankl_0")[0].config["medium"]["rankl_ng_ml"] == 0
    assert validation.runs("opg_titration", "opg_100")[1].config["medium"]["opg_ng_ml"] == 100
    manifest = json.loads((out / VALIDATION_MANIFEST).read_text())
    assert len(manifest["runs"]) == 6 and manifest["arms"]["opg_titration/opg_0"] == manifest["arms"][
        "perturbations/wild_type"]


@pytest.mark.slow  # the tiny fixture and resumes start local Dask clusters
def test_a_resumed_validation_runs_only_what_is_not_complete(tiny, panels, tmp_path, capsys):
    out = tmp_path / "runs"
    shutil.copytree(tiny.out, out)
    stamps = {path: (out / path / "timeseries.csv").stat().st_mtime_ns for path in _run_dirs(out)}
    before = (out / "perturbations/no_rankl/seed1/timeseries.csv").read_bytes()
    # as if interrupted: one run left unfinished at its .partial directory
    partial = out / "perturbations/no_rankl/seed1.partial"
    (out / "perturbations/no_rankl/seed1").rename(partial)
    metadata = json.loads((partial / "metadata.json").read_text())
    (partial / "metadata.json").write_text(json.dumps({**metadata, "status": "interrupted"}))
    again = Validation(out, replicates=2, panels=panels, workers=1)
    again.run_all()
    assert "12 arm runs, 6 distinct (3 arms share another's runs); 5 already complete" in capsys.readouterr().err
    assert not partial.exists()
    assert (out / "perturbations/no_rankl/seed1/timeseries.csv").read_bytes() == before  # redone identically
    for path, stamp in stamps.items():
        if path != "perturbations/no_rankl/seed1":
            assert (out / path / "timeseries.csv").stat().st_mtime_ns == stamp  # skipped, not redone
    assert again.runs("perturbations", "no_rankl")[0].metadata["status"] == "complete"


@pytest.mark.slow  # the tiny fixture and resumes start local Dask clusters
def test_a_directory_of_differently_planned_runs_is_refused(tiny, panels):
    listing = _run_dirs(tiny.out)
    with pytest.raises(UserError, match=r"started differently \(seed 1, 2 replicate\(s\), overrides none\)"):
        Validation(tiny.out, replicates=2, panels=panels, seed=2).run_all()
    with pytest.raises(UserError, match="run perturbations/wild_type/seed1: its resolved config changed"):
        Validation(tiny.out, replicates=2, panels=panels, overrides=("medium.mcsf_ng_ml=20",)).check_directory()
    with pytest.raises(UserError, match="run perturbations/wild_type/seed2 is gone"):
        Validation(tiny.out, replicates=1, panels=panels).check_directory()
    assert _run_dirs(tiny.out) == listing


@pytest.mark.slow  # the tiny fixture and resumes start local Dask clusters
def test_the_report_command_refuses_a_directory_it_cannot_finish(tiny, tmp_path, capsys):
    report = tmp_path / "report"
    shutil.copytree(tiny.out, report / "runs")  # runs of another plan than --quick's
    contents = sorted(str(p.relative_to(report)) for p in report.rglob("*"))
    assert main(["report", "--out", str(report), "--quick"]) == 2
    assert "already exists; --resume finishes the report there" in capsys.readouterr().err
    assert main(["report", "--out", str(report), "--quick", "--resume"]) == 2
    error = capsys.readouterr().err
    assert "its runs were started differently" in error and "Traceback" not in error
    assert sorted(str(p.relative_to(report)) for p in report.rglob("*")) == contents  # nothing written
    shutil.rmtree(report / "runs")
    (report / "notes.txt").write_text("mine")
    assert main(["report", "--out", str(report), "--quick", "--resume"]) == 2
    assert "not a report directory" in capsys.readouterr().err
    assert (report / "notes.txt").read_text() == "mine" and len(list(report.iterdir())) == 1
    assert main(["report", "--resume", "--quick"]) == 2
    assert "--resume needs the --out DIR" in capsys.readouterr().err
    assert main(["report", "--out", str(tmp_path / "new"), "--workers", "0"]) == 2
    assert not (tmp_path / "new").exists()


# ------------------------------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("text, seeds", [("1-5", (1, 2, 3, 4, 5)), ("1,3,7", (1, 3, 7)), ("7", (7,)),
                                         ("1-3, 7", (1, 2, 3, 7)), ("0-1", (0, 1))])
def test_seeds_are_a_range_a_list_or_both(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text, says", [("5-1", "the range 5-1 runs down; write it from low to high (1-5)"),
                                        ("1,x", "'x' is not a seed or a range"), ("", "'' is not a seed"),
                                        ("-1", "'-1' is not a seed"), ("1-3,2", "seed 2 given twice"),
                                        ("1,,2", "'' is not a seed")])
def test_a_bad_seed_list_is_refused_naming_the_option_and_the_value(text, says):
    with pytest.raises(UserError, match=re.escape(f"--seeds {text}: {says}")):
        parse_seeds(text)


def _check(passed: bool, measured: str) -> Check:
    return Check("timing", "Timing", "a source", "peak day 4-6", measured, passed)


def test_a_check_passes_only_if_it_passes_on_every_seed():
    every = SeedSpread({1: _check(True, "peak day 4"), 2: _check(True, "peak day 5")})
    some = SeedSpread({1: _check(True, "peak day 4"), 7: _check(False, "peak day 7"), 9: _check(True, "day 5")})
    none = SeedSpread({3: _check(False, "peak day 2"), 4: _check(False, "peak day 3")})
    assert (every.passed, every.n_passed, every.verdict) == (True, 2, "PASS (2 of 2 seeds)")
    assert (some.passed, some.n_passed, some.verdict) == (False, 2, "FAIL (2 of 3 seeds)")
    assert (none.passed, none.verdict) == (False, "FAIL (0 of 2 seeds)")
    assert some.measured("; ") == "seed 1 (pass): peak day 4; seed 7 (FAIL): peak day 7; seed 9 (pass): day 5"
    assert some.first.measured == "peak day 4"
    one = SeedSpread({1: _check(False, "peak day 7")})
    assert (one.passed, one.verdict, one.measured("; ")) == (False, "FAIL", "peak day 7")  # as before --seeds


def test_several_seeds_are_planned_together_each_distinct_experiment_once():
    validation = Validation("unused", seed=(1, 2, 3))
    assert validation.seeds == (1, 2, 3) and len(validation.experiments) == 26 * 3
    assert validation.plans[2][("perturbations", "wild_type")] == ["perturbations/wild_type/seed2"]
    assert validation.plans[3][("opg_titration", "opg_0")] == ["perturbations/wild_type/seed3"]
    assert validation.plan == validation.plans[1]  # what runs() reads without a seed
    # two replicates from seeds 1 and 2 share seed 2's runs: 3 distinct seeds, not 4
    overlapping = Validation("unused", replicates=2, seed=(1, 2))
    assert len(overlapping.experiments) == 26 * 3
    assert overlapping.plans[2][("perturbations", "no_rankl")] == ["perturbations/no_rankl/seed2",
                                                                   "perturbations/no_rankl/seed3"]
    with pytest.raises(KeyError, match="no seed 4; seeds 1, 2, 3"):
        validation.for_seed(4)


def test_the_report_command_takes_seed_or_seeds_not_both(tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--seed", "3", "--seeds", "1-5"]) == 2
    err = capsys.readouterr().err
    assert "--seed 3 and --seeds 1-5: give one" in err and "Traceback" not in err
    assert main(["report", "--out", str(out), "--seeds", "5-1"]) == 2
    assert "--seeds 5-1: the range 5-1 runs down" in capsys.readouterr().err
    assert not out.exists()


SEED_CHECKS = [check_no_rankl_no_mcsf, check_timing, check_resorption_rates]
SEED_ARMS = {"perturbations": ["wild_type", "no_rankl", "no_mcsf"], "rankl_dose_response": ["rankl_50"],
             "opg_titration": ["opg_0"]}  # what SEED_CHECKS read: 3 distinct runs per seed


@pytest.mark.slow  # starts a local Dask cluster: 6 week-long cultures of 500 x 500 µm
def test_a_report_over_several_seeds_shows_each_seed_and_passes_a_check_only_on_all(tmp_path, capsys):
    from boneabm.report import run_report
    from boneabm.validation import PANELS

    panels = tmp_path / "panels"  # the shipped panels restricted to the arms the three checks read
    panels.mkdir()
    for name, arms in SEED_ARMS.items():
        spec = yaml.safe_load((PANELS / f"{name}.yaml").read_text())
        spec["arms"] = {arm: spec["arms"][arm] for arm in arms}
        (panels / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    out, shrink = tmp_path / "report", ("domain.width_um=500", "domain.height_um=500")
    path = run_report(out, seed=(1, 2), workers=2, overrides=shrink, panels=panels, checks=SEED_CHECKS)
    text = path.read_text()
    assert "5 arms x 1 replicate(s) x 2 seeds = 10 arm runs, 6 distinct" in capsys.readouterr().err
    assert "from each of seeds 1, 2, every check evaluated on each seed's runs" in text
    assert "figures show seed 1" in text
    validation = Validation(out / "runs", overrides=shrink, seed=(1, 2), panels=panels)
    for check in SEED_CHECKS:
        results = {seed: check(validation.for_seed(seed)) for seed in (1, 2)}
        key = results[1].key
        assert (out / "figures" / f"{key}.png").stat().st_size > 1000
        n_passed = sum(r.passed for r in results.values())
        verdict = f"{'PASS' if n_passed == 2 else 'FAIL'} ({n_passed} of 2 seeds)"
        row = next(line for line in text.splitlines() if line.startswith(f"| [{results[1].title}]"))
        assert verdict in row and all(f"seed {s} ({'pass' if r.passed else 'FAIL'}): {r.measured}" in row
                                      for s, r in results.items())
        for seed, result in results.items():
            assert f"- measured, seed {seed} ({'pass' if result.passed else 'FAIL'}): {result.measured}" in text
    assert results[1].measured != results[2].measured  # the seeds' runs differ
    # the same seeds resume (nothing to run); other seeds are refused, nothing written
    assert run_report(out, seed=(1, 2), resume=True, overrides=shrink, panels=panels, checks=SEED_CHECKS) == path
    assert "6 already complete" in capsys.readouterr().err
    listing = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    with pytest.raises(UserError, match=r"started differently \(seeds 1, 2, 1 replicate\(s\), overrides "):
        run_report(out, seed=(1, 2, 3), resume=True, overrides=shrink, panels=panels, checks=SEED_CHECKS)
    with pytest.raises(UserError, match="started differently"):
        run_report(out, seed=2, resume=True, overrides=shrink, panels=panels, checks=SEED_CHECKS)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == listing
