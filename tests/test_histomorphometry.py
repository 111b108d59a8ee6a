"""Histomorphometry in the ASBMR nomenclature (Dempster et al. 2013 JBMR 28:2) and the marker proxies
(boneabm/environment/histomorphometry.py), against maps whose answers are known, and from a running model."""

import numpy as np
import pytest

from boneabm.config import MineralisationConfig
from boneabm.environment.formation import Mineralisation, NewBone
from boneabm.environment.histomorphometry import DailyMarks, indices


def test_static_indices_read_the_maps():
    eroded = np.zeros((10, 10))
    eroded[:2, :] = 30.0  # 20 pixels of cavity
    formed = np.zeros((10, 10))
    formed[0, :] = 30.0  # 10 of them refilled to the old surface
    osteoid = np.zeros((10, 10))
    osteoid[1, :5] = 4.0  # 5 carry osteoid (their cavity not yet refilled)
    row = indices(eroded, formed, osteoid, DailyMarks(), pixel_area_um2=100.0, n_osteoclasts=2, n_osteoblasts=5)
    assert row["es_bs"] == pytest.approx(5 / 100)  # cavity, no osteoid
    assert row["os_bs"] == pytest.approx(5 / 100) and row["o_th_um"] == pytest.approx(4.0)
    # bone surface 100 × 100 µm² = 0.01 mm²
    assert row["n_oc_bs_per_mm2"] == pytest.approx(200) and row["n_ob_bs_per_mm2"] == pytest.approx(500)
    assert np.isnan(row["mar_um_per_d"]) and np.isnan(row["ctx_um3_per_d"])  # no daily marks yet


def test_dynamic_indices_and_markers_over_the_last_whole_day():
    marks = DailyMarks()
    mineral = np.zeros((10, 10))
    marks.mark(24.0, collagen_um3=1000.0, matrix_um3=50.0, front_um=mineral)
    mineral = mineral.copy()
    mineral[:4, :] = 0.8  # in 40 pixels the front advanced 0.8 µm in the day
    marks.mark(48.0, collagen_um3=1600.0, matrix_um3=250.0, front_um=mineral)
    row = indices(np.zeros((10, 10)), np.zeros((10, 10)), np.zeros((10, 10)), marks, 100.0, 0, 0)
    assert row["ctx_um3_per_d"] == pytest.approx(600.0) and row["p1np_um3_per_d"] == pytest.approx(200.0)
    assert row["mar_um_per_d"] == pytest.approx(0.8) and row["ms_bs"] == pytest.approx(0.4)
    assert row["bfr_bs_um3_per_um2_per_d"] == pytest.approx(0.8 * 0.4)  # MAR × MS/BS


def test_mineral_apposition_follows_the_matrix_once_the_lag_has_passed():
    """A seam laid down at 1 µm/d mineralises after the lag (Agerbaek et al. 1991: mineralisation lag about 8 d;
    boneabm's default 10 d): a label binds at the mineralisation front, so MAR rises from 0 to the apposition
    rate, 1 µm/d, once the first matrix has passed the lag; when the osteoblasts stop, the front stops too
    lag days later, while the mineral behind it keeps rising (secondary mineralisation moves no label)."""
    kinetics = Mineralisation.of(MineralisationConfig())
    new_bone = NewBone((4, 4), kinetics)
    marks, day = DailyMarks(), 0
    ix, iy = np.nonzero(np.ones((4, 4), bool))
    stop_day = 30
    for hour in range(0, 24 * (stop_day + 20)):
        new_bone.advance(float(hour))
        if hour < 24 * stop_day:
            new_bone.deposit(ix, iy, np.full(ix.size, 1.0 / 24))
        if hour % 24 == 0:
            marks.mark(float(hour), 0.0, float(new_bone.formed_um.sum()), new_bone.front_um)
            day += 1
            row = indices(np.zeros((4, 4)), new_bone.formed_um, new_bone.osteoid_um, marks, 1.0, 0, 0)
            if day == 5:
                assert row["mar_um_per_d"] == 0 and row["os_bs"] == 1.0
            if day == stop_day:
                assert row["p1np_um3_per_d"] == pytest.approx(16.0, rel=1e-6)  # 16 pixels × 1 µm/d
                assert row["mar_um_per_d"] == pytest.approx(1.0, rel=1e-6) and row["ms_bs"] == 1.0
                assert row["bfr_bs_um3_per_um2_per_d"] == pytest.approx(1.0, rel=1e-6)  # MAR × MS/BS
                assert row["o_th_um"] == pytest.approx(kinetics.lag_days, rel=0.1)  # the seam: lag days of matrix
                mineral_at_stop = new_bone.mineral_um.sum()
    assert row["mar_um_per_d"] == 0 and row["ms_bs"] == 0 and np.isnan(row["o_th_um"])
    assert new_bone.mineral_um.sum() > mineral_at_stop  # secondary mineralisation went on, unlabelled
