"""New bone's matrix and mineralisation (boneabm/environment/formation.py).

Checks against the histomorphometry it must reproduce (docs/references.md#in-vivo-remodeling): at a steady
apposition rate the osteoid seam is rate × mineralisation lag (Agerbaek 1991: MAR ≈ 1 µm/d, lag ≈ 8 d, seam
≈ 6 µm; the osteomalacia threshold is a seam > 12.5 µm), the mineralisation front advances at the apposition
rate once the lag has passed, and a packet's mineral reaches the primary fraction after the lag plus the primary
phase, then approaches full mineralisation with the secondary half-life. All exact: the queue is deterministic.
"""

import numpy as np
import pytest

from boneabm.environment.formation import Mineralisation, NewBone

KINETICS = Mineralisation(lag_days=10.0, primary_days=10.0, primary_fraction=0.7, secondary_half_life_days=180.0)
PIXEL = (np.array([1]), np.array([2]))


def run_days(bone: NewBone, days: float, rate_um_per_day: float = 0.0, dt_h: float = 1.0):
    for _ in range(round(days * 24 / dt_h)):
        if rate_um_per_day:
            bone.deposit(*PIXEL, np.array([rate_um_per_day * dt_h / 24]))
        bone.advance(bone.time_h + dt_h)


def test_a_steady_apposition_gives_a_seam_of_rate_times_lag_and_a_front_at_that_rate():
    bone = NewBone((4, 4), KINETICS)
    run_days(bone, 40, rate_um_per_day=1.0)
    assert bone.formed_um[1, 2] == pytest.approx(40.0)
    assert bone.osteoid_um[1, 2] == pytest.approx(10.0, abs=0.5)  # rate × lag, to the day's resolution
    before = bone.formed_um[1, 2] - bone.osteoid_um[1, 2]
    run_days(bone, 10, rate_um_per_day=1.0)
    front_um_per_day = (bone.formed_um[1, 2] - bone.osteoid_um[1, 2] - before) / 10
    assert front_um_per_day == pytest.approx(1.0, abs=0.05)  # the mineral apposition rate
    # nothing formed elsewhere, and the other pixels stay empty and unmineralised
    assert bone.formed_um.sum() == pytest.approx(50.0)
    assert bone.mineral_fraction[0, 0] == 0 and np.isnan(bone.formed_h[0, 0])
    assert bone.formed_h[1, 2] == 0.0


def test_a_packet_mineralises_after_the_lag_to_the_primary_fraction_then_slowly_to_full():
    bone = NewBone((4, 4), KINETICS)
    bone.deposit(*PIXEL, np.array([5.0]))
    fraction = []
    for day in range(1, 401):
        bone.advance(day * 24.0)
        fraction.append(bone.mineral_fraction[1, 2])
    fraction = np.array(fraction)
    assert np.all(fraction[:9] == 0)  # osteoid during the lag (ages 0.5-8.5 d)
    assert 0 < fraction[12] < 0.7  # primary mineralisation under way
    assert fraction[20] == pytest.approx(0.7, abs=0.01)  # primary phase over: the pool starts at 0.7
    # secondary: the missing mineral halves every 180 days
    assert 1 - fraction[20 + 180] == pytest.approx(0.3 / 2, rel=0.02)
    assert np.all(np.diff(fraction) >= -1e-12)  # mineral never goes back
    assert bone.formed_um[1, 2] == pytest.approx(5.0)  # the matrix is conserved through the queue


def test_packets_of_different_ages_mix_in_the_pool_by_thickness():
    bone = NewBone((2, 2), KINETICS)
    ix, iy = np.array([0]), np.array([0])
    bone.deposit(ix, iy, np.array([2.0]))
    bone.advance(100 * 24.0)  # the first packet has been in the pool for ~80 days
    first = 1 - 0.3 * 0.5 ** ((100 - 20.5) / 180)
    assert bone.mineral_fraction[0, 0] == pytest.approx(first, rel=1e-3)
    bone.deposit(ix, iy, np.array([6.0]))
    bone.advance(121 * 24.0)  # the second joins the pool at 0.7
    mixed = (2 * (1 - (1 - first) * 0.5 ** (21 / 180)) + 6 * 0.7) / 8
    assert bone.mineral_fraction[0, 0] == pytest.approx(mixed, rel=2e-3)
