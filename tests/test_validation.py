"""Biology validation of the in vitro assay: every check of docs/validation.md that the model's scope covers.

Each check (boneabm/validation.py) names its phenotype and sources in its title and ``source``; its tolerance
is the published criterion in ``expected``. CI runs them on a reduced domain (1.5 x 1.5 mm, about 700
precursors plated): every arm with seed 1 (what ``boneabm report --quick --seed 1`` plans), and a second
replicate (seed 2) of the arms whose check compares non-zero counts against a tolerance (SECOND_REPLICATE
below); `boneabm report` runs them at full size.
"""

import pytest
import yaml

from boneabm import validation
from boneabm.validation import PANEL_NAMES, PANELS, REDUCED, Validation

pytestmark = pytest.mark.slow  # 33 week-long cultures: about 6 min on 2 cores

# Which arms get a second replicate, from the spread of two full replicate sets (seeds 1 and 2, 1.5 mm domain,
# the model of commit 1770f4e); counts are day-5 osteoclasts unless said otherwise.
#
# Two replicates (seeds 1 and 2), because one run's counting noise is of the order of the tolerance:
#   wild type (= RANKL 50 = OPG 0)  30 / 20 osteoclasts (Poisson-like, sd ≈ √25 = 5, 20 %): the denominator of
#                                    every ratio; timing's day-7 decline is 51 % / 89 % of the peak alone against
#                                    ≤ 80 % (69 % averaged); resorption rates pool its osteoclasts.
#   FcRγ KO, cathepsin K KO          ≈ WT: 67 % / 150 % and 67 % / 120 % with one seed each; a ratio of 2-run
#                                    means has sd ≈ √2 · 5 / √2 / 25 ≈ 20 %, so a ±30 % band alone is ≈ 1.5 sd
#                                    and the check takes the wider of it and 3 sd of counting noise
#                                    (validation.like_wild_type); two replicates narrow that band.
#   DC-STAMP KO, OC-STAMP KO         TRAP⁺ nuclei ±30 % of WT: measured 111-116 %; replicate sd of ≈ 330 nuclei is
#                                    ≈ 8 % (pooled over six arm pairs), so one KO run against two WT runs (sd of
#                                    the ratio ≈ 10 %) would leave under 2 sd.
#   RANKL 100, RANKL 200             saturation: 200 ≤ 1.25 × 100 ng/mL, osteoclasts formed 74.5 vs 1.25 × 64.5
#                                    = 80.6, well inside one run's Poisson sd (≈ 8).
#
# One replicate (seed 1), because the check asserts an absence or an effect many sd outside noise:
#   no RANKL, no M-CSF, RANK, TRAF6, c-Fos, p50/p52, NFATc1, DAP12, DAP12+FcRγ, Btk/Tec, PLCγ2 KO, U73122, FK506,
#   RANKL 10, OPG 250, OPG 500: 0 osteoclasts in both seeds, and the checks ask for 0 (or ≤ 5 % / ≤ 50 % / < 20 %
#   of WT, i.e. ≤ 1-12 osteoclasts): any osteoclast a bug lets form fails in one run as in two. Their NF-κB at 6 h
#   (±25 % of WT) is a mean over ≈ 700 cells, 98-109 % of WT; the two seeds differ by ≤ 11 %.
#   RANKL 25: ≤ 0.9 × RANKL 100 = 58 formed; 29 / 35 (Poisson sd ≈ 6): ≥ 4 sd inside, and still fails if RANKL 25
#             saturates (≈ 60).
#   OPG 50, OPG 100: non-increasing within the check's noise (2·√(57/2) ≈ 11) and 100 ng/mL < 0.8 × none = 45
#             formed: 38 / 45 and 4 / 2; OPG that no longer bites at 100 ng/mL (≈ 57 ± 8) still fails.
SECOND_REPLICATE = {
    "perturbations": ["wild_type", "fcrg_ko", "ctsk_ko", "dcstamp_ko", "ocstamp_ko"],
    "rankl_dose_response": ["rankl_50", "rankl_100", "rankl_200"],  # rankl_50 is wild type: no extra run
    "opg_titration": ["opg_0"],  # wild type again
}


class MixedReplicates:
    """What the checks read (``runs``, ``arm``, ``replicates``): seed 1 of every arm, plus seed 2 of the arms in
    SECOND_REPLICATE. The dose checks' counting noise, 2·√(max / replicates), is taken at their largest count,
    which is a two-replicate arm (RANKL 200, OPG 0): replicates = 2 is the right divisor there."""

    replicates = 2

    def __init__(self, first: Validation, second: Validation):
        self.first, self.second, self.seed = first, second, first.seed

    def runs(self, panel, arm):
        extra = self.second.runs(panel, arm) if (panel, arm) in self.second.plan else []
        return self.first.runs(panel, arm) + extra

    def arm(self, arm):
        return self.runs("perturbations", arm)

    def shared(self):
        return self.first.shared()


@pytest.fixture(scope="session")
def seed_one(tmp_path_factory):
    """Every arm with seed 1 on the reduced domain: exactly what `boneabm report --quick --seed 1` plans."""
    return Validation(tmp_path_factory.mktemp("validation"), overrides=REDUCED, replicates=1, seed=1)


@pytest.fixture(scope="session")
def panel_runs(seed_one, tmp_path_factory):
    """seed_one plus seed 2 of SECOND_REPLICATE's arms (panels restricted to those arms, their overrides taken
    from the shipped panels so they cannot drift apart)."""
    panels = tmp_path_factory.mktemp("second_replicate_panels")
    for name in PANEL_NAMES:
        spec = yaml.safe_load((PANELS / f"{name}.yaml").read_text())
        spec["arms"] = {arm: spec["arms"][arm] for arm in SECOND_REPLICATE[name]}
        (panels / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    second = Validation(tmp_path_factory.mktemp("validation_seed2"), overrides=REDUCED, replicates=1, seed=2,
                        panels=panels)
    assert len(second.experiments) == 7  # wild type, FcRγ, CtsK, DC-STAMP, OC-STAMP, RANKL 100 and 200
    second.run_all()
    seed_one.run_all()
    return MixedReplicates(seed_one, second)


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


def test_the_report_shows_every_check_with_its_verdict_and_figure(panel_runs, seed_one, tmp_path):
    """`boneabm report` writes one section, verdict and figure per check (here on the seed-1 runs the checks
    made; a verdict may differ from the two-replicate one above, the layout may not)."""
    from boneabm.report import write_report

    path = write_report(tmp_path / "report", seed_one, "reduced domain")
    text = path.read_text()
    for check in validation.CHECKS:
        key = check(seed_one).key  # the runs are cached: this only re-reads them
        assert (tmp_path / "report" / "figures" / f"{key}.png").stat().st_size > 1000
        assert f'<a id="{key}"></a>' in text
    assert text.count("**PASS**") + text.count("**FAIL**") == len(validation.CHECKS)
    assert f"of {len(validation.CHECKS)} checks pass" in text
    assert "1 replicate(s) per arm from seed 1" in text


def test_report_resume_reuses_every_complete_run_and_writes_the_report(panel_runs, seed_one, tmp_path, capsys):
    """`boneabm report --resume` on a directory whose runs are all complete runs nothing: it only writes the
    report (here on the checks' own seed-1 runs, which are what --quick --seed 1 plans)."""
    from boneabm.cli import main

    report = tmp_path / "report"
    report.mkdir()
    (report / "runs").symlink_to(seed_one.out, target_is_directory=True)
    metadata = sorted(seed_one.out.rglob("metadata.json"))
    before = {path: path.read_bytes() for path in metadata}
    assert main(["report", "--out", str(report), "--resume", "--quick", "--replicates", "1", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert "29 arm runs, 26 distinct (3 arms share another's runs); 26 already complete" in captured.err
    assert captured.out.strip() == str(report / "report.md")
    assert f"of {len(validation.CHECKS)} checks pass" in (report / "report.md").read_text()
    assert len(metadata) == 26 and {path: path.read_bytes() for path in metadata} == before
