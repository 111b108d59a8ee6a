"""Biology validation of the in vitro assay: every check of docs/validation.md that the model's scope covers.

Each check (boneabm/validation.py) names its phenotype and sources in its title and ``source``; its tolerance
is the published criterion in ``expected``. CI runs them on a reduced domain (1.5 x 1.5 mm, about 700
precursors plated) with 2 replicates per arm (seeds 1 and 2); `boneabm report` runs them at full size.
"""

import pytest

from boneabm import validation
from boneabm.validation import REDUCED, Validation


@pytest.fixture(scope="session")
def panel_runs(tmp_path_factory):
    return Validation(tmp_path_factory.mktemp("validation"), overrides=REDUCED, replicates=2)


# Known gaps, kept visible: each fails today and must start passing (strict) once the model is recalibrated.
# None at present (the RANKL dose-response and OPG gaps closed with the graded RANK module, see rank.yaml).
KNOWN_GAPS: dict[str, str] = {}


def _param(check):
    gap = KNOWN_GAPS.get(check.__name__)
    marks = [pytest.mark.xfail(reason=gap, strict=True)] if gap else []
    return pytest.param(check, marks=marks, id=check.__name__.removeprefix("check_"))


@pytest.mark.parametrize("check", [_param(c) for c in validation.CHECKS])
def test_published_phenotype(panel_runs, check):
    result = check(panel_runs)
    assert result.source and result.expected
    assert result.passed, f"{result.title} ({result.source}): expected {result.expected}; measured {result.measured}"


def test_the_report_shows_every_check_with_its_verdict_and_figure(panel_runs, tmp_path):
    """`boneabm report` writes one section, verdict and figure per check (here on the runs the checks made)."""
    from boneabm.report import write_report

    path = write_report(tmp_path / "report", panel_runs, "reduced domain")
    text = path.read_text()
    for check in validation.CHECKS:
        key = check(panel_runs).key  # the runs are cached: this only re-reads them
        assert (tmp_path / "report" / "figures" / f"{key}.png").stat().st_size > 1000
        assert f'<a id="{key}"></a>' in text
    assert text.count("**PASS**") + text.count("**FAIL**") == len(validation.CHECKS)
    assert f"of {len(validation.CHECKS)} checks pass" in text


def test_report_resume_reuses_every_complete_run_and_writes_the_report(panel_runs, tmp_path, capsys):
    """`boneabm report --resume` on a directory whose runs are all complete runs nothing: it only writes the
    report (here on the checks' own runs, which are what --quick --replicates 2 --seed 1 plans)."""
    from boneabm.cli import main

    panel_runs.run_all()
    report = tmp_path / "report"
    report.mkdir()
    (report / "runs").symlink_to(panel_runs.out, target_is_directory=True)
    metadata = sorted(panel_runs.out.rglob("metadata.json"))
    before = {path: path.read_bytes() for path in metadata}
    assert main(["report", "--out", str(report), "--resume", "--quick", "--replicates", "2", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert "58 arm runs, 52 distinct (3 arms share another's runs); 52 already complete" in captured.err
    assert captured.out.strip() == str(report / "report.md")
    assert f"of {len(validation.CHECKS)} checks pass" in (report / "report.md").read_text()
    assert len(metadata) == 52 and {path: path.read_bytes() for path in metadata} == before
