"""The well-mixed medium: exact M-CSF depletion, medium changes, molar conversions."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from boneabm.config import MediumConfig
from boneabm.environment.medium import Medium, michaelis_menten_depletion
from boneabm.units import MCSF_HOMODIMER_DA, RANKL_MONOMER_DA, ng_ml_to_nM


def test_depletion_matches_the_ode_solution():
    c0, removal, km = 30.0, 4.0, 3.0
    times = [0.5, 2.0, 5.0, 8.0, 20.0]
    ode = solve_ivp(lambda t, c: -removal * c / (km + c), (0, 20), [c0], t_eval=times, rtol=1e-10, atol=1e-12)
    exact = [michaelis_menten_depletion(c0, removal, km, t) for t in times]
    assert np.allclose(exact, ode.y[0], rtol=1e-7, atol=1e-9)


def test_depletion_composes_over_ticks_and_never_goes_negative():
    c = 30.0
    for _ in range(10):
        c = michaelis_menten_depletion(c, 4.0, 3.0, 0.5)
    assert c == pytest.approx(michaelis_menten_depletion(30.0, 4.0, 3.0, 5.0), rel=1e-9)
    huge_step = michaelis_menten_depletion(30.0, 4.0, 3.0, 1e6)
    assert 0.0 <= huge_step < 1e-12


def test_uptake_is_counted_in_molecules_and_a_change_restores_fresh_medium():
    medium = Medium(MediumConfig(mcsf_ng_ml=30, rankl_ng_ml=50, volume_ul_per_cm2=625), area_cm2=0.04)
    consumed = medium.take_up_mcsf(n_cells=5000, uptake_max_per_h=2e4, km_ng_ml=3.0, dt_h=24.0)
    assert 0 < medium.mcsf_ng_ml < 30
    assert consumed == pytest.approx((30 - medium.mcsf_ng_ml) * medium.mcsf_molecules_per_ng_ml)
    # while M-CSF saturates uptake (c >> Km), the cells take up close to their maximal rate
    assert 0.8 * 5000 * 2e4 * 24 < consumed <= 5000 * 2e4 * 24
    medium.change()
    assert (medium.mcsf_ng_ml, medium.rankl_ng_ml, medium.n_changes) == (30, 50, 1)


def test_molar_conversions_match_biology_md():
    assert ng_ml_to_nM(30, MCSF_HOMODIMER_DA) == pytest.approx(0.81, abs=0.01)  # BIOLOGY.md §3.1: ≈ 0.8 nM
    assert ng_ml_to_nM(100, RANKL_MONOMER_DA) == pytest.approx(5.0)
