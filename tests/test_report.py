"""`boneabm report`'s runs: every arm planned up front, identical arms run once, in parallel; a report
directory resumed (complete runs kept) or refused when its runs were planned differently."""

import json
import shutil

import pytest
import yaml

from boneabm.cli import main
from boneabm.errors import UserError
from boneabm.validation import PANEL_NAMES, VALIDATION_MANIFEST, Validation

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
