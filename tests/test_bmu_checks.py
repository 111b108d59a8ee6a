"""The BMU checks' readouts (boneabm/bmu_checks.py) against tables whose answers are known, and `boneabm report
--remodeling` writing them from real runs of the `bmu_cycle` panel."""

import numpy as np
import pandas as pd
import pytest
import yaml

from boneabm.bmu_checks import (CHECKS, cavity_floor, figures, nuclei_dying_with_their_cell,
                                 nuclei_joining_osteoclasts, within)


def test_the_nuclei_joining_osteoclasts_are_read_from_the_fusion_events():
    """A cell holds one nucleus until its first fusion, then what its last fusion or extrusion left it; a fusion
    that leaves three or more nuclei brings into osteoclasts the nuclei of each partner that had never been one
    (Parfitt 1994 counted new nuclei: two osteoclasts that fuse renew none, and an osteoclast that shed nuclei below
    three and took a partner again renews only the partner's)."""
    events = [  # time_h, event, cell, partner, nuclei of the fused cell
        (24.0, "fusion", 1, 2, 2),    # 1 + 1: not yet an osteoclast
        (48.0, "fusion", 1, 3, 3),    # 2 + 1 = 3: all three are new to osteoclasts
        (50.0, "division", 7, None, 1),
        (60.0, "fusion", 4, 5, 2),
        (72.0, "fusion", 1, 4, 5),    # 3 + 2: the binuclear cell's two join
        (80.0, "fusion", 6, 8, 2),
        (81.0, "fusion", 6, 10, 3),
        (90.0, "fusion", 1, 6, 8),    # 5 + 3: two osteoclasts, nothing new
    ]
    joined = nuclei_joining_osteoclasts(*zip(*events), min_nuclei=3)
    np.testing.assert_array_equal(joined, [[2.0, 3.0], [3.0, 2.0], [81 / 24, 3.0], [90 / 24, 0.0]])
    # an extrusion leaves the cell the nuclei it keeps: 8 - 6 = 2, so the next fusion makes it an osteoclast anew,
    # but with one new nucleus only
    shed = [*events, (92.0, "extrusion", 1, None, 2), (96.0, "fusion", 1, 9, 3)]
    joined = nuclei_joining_osteoclasts(*zip(*shed), min_nuclei=3)
    np.testing.assert_array_equal(joined[-1], [4.0, 1.0])
    # an osteoclast shed to one nucleus takes two partners one at a time: two new nuclei, when it is one again
    regrown = [(0.0, "fusion", 1, 2, 2), (1.0, "fusion", 1, 3, 3), (2.0, "extrusion", 1, None, 1),
               (3.0, "fusion", 1, 4, 2), (4.0, "fusion", 1, 5, 3)]
    np.testing.assert_array_equal(nuclei_joining_osteoclasts(*zip(*regrown), min_nuclei=3)[-1], [4 / 24, 2.0])
    # ... or is absorbed by a new cell: its old nucleus stays old in the cell that took it
    absorbed = [*regrown[:3], (3.0, "fusion", 9, 1, 2), (4.0, "fusion", 9, 5, 3)]
    np.testing.assert_array_equal(nuclei_joining_osteoclasts(*zip(*absorbed), min_nuclei=3)[-1], [4 / 24, 2.0])


def test_nuclei_dying_with_their_cell_are_those_of_multinucleated_osteoclast_lineage_deaths():
    events = [  # time_h, event, cell, partner, nuclei, generation, age_h, lineage
        (1.0, "death", 1, None, 4, 0, 10.0, "osteoclast"),
        (2.0, "death", 2, None, 1, 0, 10.0, "osteoclast"),   # mononuclear: not a fused cell's nuclei
        (3.0, "extrusion", 3, None, 5, 0, np.nan, "osteoclast"),
        (4.0, "death", 4, None, 2, 0, 10.0, "osteoblast"),
        (5.0, "death", 3, None, 5, 0, 10.0, "osteoclast"),
    ]
    assert nuclei_dying_with_their_cell(events) == 9


def test_the_figures_of_a_bmu_read_its_tables():
    day = np.arange(1, 101, dtype=float)
    resorbing = day <= 30
    formed = np.clip(day - 20, 0, 60) * 1000.0  # laid from day 21 to day 80
    timeseries = pd.DataFrame({
        "time_h": day * 24, "n_osteoclasts": np.where(resorbing, 10, 0),
        "nuclei_in_osteoclasts": np.where(resorbing, 50, 0),
        "mar_um_per_d": np.where(day > 30, 0.8, np.nan), "o_th_um": np.where(formed > 0, 8.0, np.nan),
        "matrix_formed_um3": formed, "osteoblast_apoptoses_total": 60 * (day / 100),
        "osteocytes_embedded_total": 15 * (day / 100), "osteoblasts_flattened_total": 25 * (day / 100)})
    bmu = {"activated_h": 2.0, "resorption_end_h": 30 * 24 + 2, "erosion_depth_um": 45.0, "wall_thickness_um": 55.0,
           "formed_um3": 60_000.0, "resorbed_um3": 62_000.0, "reversal_h": 240.0}
    joined = np.array([[4.0, 7.0], [10.0, 20.0], [31.0, 5.0]])  # only the 20 inside days 5-30 count
    f = figures(timeseries, bmu, joined)
    assert f["resorption_days"] == pytest.approx(30.0) and f["reversal_days"] == 10.0
    assert f["formation_days"] == pytest.approx(74 - 21)  # first matrix on day 21, 90 % (54,000) on day 74
    assert f["mar_um_per_d"] == pytest.approx(0.8) and f["osteoid_seam_um"] == 8.0
    assert f["osteoclasts_at_once"] == 10
    assert f["nuclear_renewal_per_d"] == pytest.approx(20 / (50 * 26))  # days 5-30: 26 days of 50 nuclei
    assert (f["fate_apoptosis"], f["fate_osteocyte"], f["fate_lining"]) == pytest.approx((0.6, 0.15, 0.25))
    assert f["refilled"] == pytest.approx(60 / 62)
    assert within(f, "resorption_days", "reversal_days", "erosion_depth_um", "wall_thickness_um", "fate_apoptosis",
                  "fate_osteocyte")
    assert not within(f, "nuclear_renewal_per_d")  # 1.5 %/d, below Parfitt's 4-12 %


@pytest.mark.slow  # a local Dask cluster: 3 in vitro runs and the 3 bmu_cycle arms, 2 days each on 1 x 1 mm
def test_the_report_adds_the_bmu_checks_from_the_bmu_cycle_panel(tmp_path):
    from boneabm.report import run_report
    from boneabm.validation import PANEL_NAMES, PANELS

    panels = tmp_path / "panels"  # the in vitro panels reduced to their wild type
    panels.mkdir()
    for name in PANEL_NAMES:
        spec = yaml.safe_load((PANELS / f"{name}.yaml").read_text())
        spec["arms"] = {arm: spec["arms"][arm] for arm in list(spec["arms"])[:1]}
        (panels / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    out = tmp_path / "report"
    path = run_report(out, workers=2, overrides=("domain.width_um=300", "domain.height_um=300"), panels=panels,
                      checks=[], remodeling=True,
                      bmu_overrides=("domain.width_um=1000", "domain.height_um=1000", "time.duration_h=48"))
    text = path.read_text()
    assert "the BMU checks on the `bmu` experiment" in text
    for arm in ("wild_type", "tbri_blocked", "sost_knockout"):
        assert (out / "bmu_runs" / "bmu_cycle" / arm / "seed1" / "bmus.csv").exists()
    for check in CHECKS:
        key = check.__name__.removeprefix("check_")
        assert (out / "figures" / f"{key}.png").stat().st_size > 1000
        assert f'<a id="{key}"></a>' in text
    # two days hold neither the end of resorption nor any formation: the checks say so, they do not pass
    assert "❌" in text and f"**0 of {len(CHECKS)} checks pass.**" in text


def test_report_remodeling_on_the_command_line_plans_the_bmu_cycle_panel(tmp_path, monkeypatch, capsys):
    """`boneabm report --quick --remodeling` adds a validation of the `bmu_cycle` panel on the reduced BMU domain
    and its checks to the report; without --remodeling there is none."""
    import boneabm.report as report
    from boneabm import bmu_checks
    from boneabm.cli import main

    planned, written = [], []

    class Planned:  # the report's validations, recorded and not run
        def __init__(self, out, **options):
            planned.append((out, options))

        def check_directory(self):
            pass

        def run_all(self):
            pass

    def write(out, validation, scale, checks, more=()):
        written.append((scale, [cs for _, cs in more]))
        return out / "report.md"

    monkeypatch.setattr(report, "Validation", Planned)
    monkeypatch.setattr(report, "write_report", write)
    assert main(["report", "--quick", "--remodeling", "--out", str(tmp_path / "r")]) == 0
    (in_vitro, _), (bmu_out, bmu) = planned
    assert bmu_out == tmp_path / "r" / "bmu_runs"
    assert bmu["panel_names"] == (bmu_checks.PANEL,) and bmu["overrides"] == bmu_checks.REDUCED
    assert written[-1][1] == [bmu_checks.CHECKS] and "the BMU checks on the `bmu` experiment" in written[-1][0]
    planned.clear()
    assert main(["report", "--quick", "--out", str(tmp_path / "s")]) == 0
    assert len(planned) == 1 and written[-1][1] == []
    capsys.readouterr()


def test_the_cavity_floor_reads_depths_and_the_share_of_volume_deeper_than_80_um():
    """A mean erosion depth can hide shafts: eight 10 µm pixels and two 200 µm ones read a median of 10 µm and
    400/(8·10 + 400) of the volume deeper than 80 µm; uneroded pixels do not count."""
    depth = np.zeros((4, 4))
    depth[0, :] = depth[1, :] = 10.0
    depth[2, 0] = depth[2, 1] = 200.0
    floor = cavity_floor(depth)
    assert floor["depth_p50_um"] == 10.0
    assert floor["volume_deeper_share"] == pytest.approx(400 / 480)
    assert np.isnan(cavity_floor(np.zeros((2, 2)))["volume_deeper_share"])


def test_the_fates_readout_shows_a_share_just_under_its_band_as_under_it():
    """96 osteocytes of 963 osteoblasts (9.97 %) fail the 10-20 % band; the readout must not print "10 %"."""
    from boneabm.bmu_checks import fates_text, within

    f = {"fate_apoptosis": 637 / 963, "fate_osteocyte": 96 / 963, "fate_lining": 230 / 963, "osteoblasts_ended": 963}
    assert fates_text(f) == ("637 by apoptosis (66.15%), 96 osteocytes (9.97%), 230 lining cells (23.88%) "
                             "of 963 osteoblasts")
    assert not within(f, "fate_apoptosis", "fate_osteocyte")
