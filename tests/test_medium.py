"""The well-mixed medium: what cells take up leaves it, changes restore it, molar conversions hold."""

import numpy as np
import pytest

from boneabm.config import MediumConfig, load_experiment
from boneabm.environment.medium import Medium
from boneabm.model import BoneModel
from boneabm.units import MCSF_HOMODIMER_DA, RANKL_MONOMER_DA, ng_ml_to_nM


def test_uptake_is_removed_in_molecules_and_never_overdraws():
    medium = Medium(MediumConfig(mcsf_ng_ml=30, rankl_ng_ml=50, volume_ul_per_cm2=625), area_cm2=0.04)
    medium.take_up(mcsf_molecules=2 * medium.mcsf_molecules_per_ng_ml, rankl_molecules=-medium.rankl_molecules_per_ng_ml)
    assert medium.mcsf_ng_ml == pytest.approx(28) and medium.rankl_ng_ml == pytest.approx(51)  # released RANKL
    medium.take_up(mcsf_molecules=1e30, rankl_molecules=0)
    assert medium.mcsf_ng_ml == 0.0
    medium.change()
    assert (medium.mcsf_ng_ml, medium.rankl_ng_ml, medium.n_changes) == (30, 50, 1)


def test_molar_conversions_match_biology_md():
    assert ng_ml_to_nM(30, MCSF_HOMODIMER_DA) == pytest.approx(0.81, abs=0.01)  # BIOLOGY.md §3.1: ≈ 0.8 nM
    assert ng_ml_to_nM(100, RANKL_MONOMER_DA) == pytest.approx(5.0)


def test_the_medium_loses_exactly_the_m_csf_the_cells_networks_took_up():
    """Macrophages clear CSF-1 from their medium by receptor-mediated uptake (Tushinski et al. 1982 Cell
    28:71): ≈ 2e4 molecules per cell-hour at saturating M-CSF in the default network."""
    experiment = load_experiment(data={"seed": 8, "precursors": {"division_rate_max_per_h": 0,
                                                                  "death_rate_basal_per_h": 0,
                                                                  "death_rate_no_mcsf_per_h": 0}})
    model = BoneModel(experiment)
    n = model.population.n_alive
    before = model.medium.mcsf_ng_ml
    for _ in range(10):
        model.step()
    taken = (before - model.medium.mcsf_ng_ml) * model.medium.mcsf_molecules_per_ng_ml
    # expected: events at 33 nM/h x 0.5 per nM x Hill(c; 0.08 nM) per cell-hour, 1,204 molecules each
    c_nM = ng_ml_to_nM(before, MCSF_HOMODIMER_DA)
    rate = 33 * 0.5 * c_nM / (0.08 + c_nM)
    per_event = 602.214076 / 0.5
    expected_events = n * rate * 1.0
    assert abs(taken / per_event - expected_events) < 4 * np.sqrt(expected_events) + 0.01 * expected_events
    assert 1.7e4 < taken / n < 2.0e4  # molecules per cell-hour: 2e4 at saturation, x Hill(0.81 nM) = 0.91
