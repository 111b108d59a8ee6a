"""A committed cell's survival comes from its own molecules: Bim, which CSF-1R and RANK signaling keep degraded.

Phenotypes checked (Akiyama et al. 2003 EMBO J 22:6653, docs/references.md#osteoclast-survival):
- without M-CSF an osteoclast's Bim rises quickly and stays up, because c-Cbl no longer ubiquitylates it;
- osteoclasts die by apoptosis when their CSF-1R signal is lost, although the medium still holds M-CSF: the
  cell reads its receptor, not the medium (with the earlier rule, which read the medium's M-CSF and RANKL, losing
  the receptor changed nothing for a committed cell);
- Bim⁻/⁻ osteoclasts outlive the loss of that signal.
"""

import numpy as np
import pytest

from boneabm.cells.osteoclast.fates import committed_death_rate_per_h, osteoclast_parameters
from boneabm.config import load_experiment
from boneabm.model import BoneModel
from boneabm.signaling import load_network, simulate
from boneabm.signaling.perturbations import Perturbation
from boneabm.units import MCSF_HOMODIMER_DA, RANKL_MONOMER_DA, ng_ml_to_nM

ASSAY_INPUTS = {"rankl_nM": ng_ml_to_nM(50, RANKL_MONOMER_DA), "mcsf_nM": ng_ml_to_nM(30, MCSF_HOMODIMER_DA),
                "itam_ligand": 1.0}


def test_bim_rises_fast_and_stays_up_when_the_csf1r_signal_is_lost():
    """Akiyama 2003: apoptosis after M-CSF withdrawal follows a rapid, sustained rise of Bim. 300 cells
    differentiated for 96 h in the assay's medium, then their CSF-1R is removed (as by M-CSF withdrawal)."""
    network = load_network("rank")
    times = [95.0, 96.0, 102.0, 120.0]
    kept = simulate(network, 300, times, inputs=ASSAY_INPUTS, seed=3)
    lost = simulate(network, 300, times, inputs=ASSAY_INPUTS, seed=3,
                    perturbations=[Perturbation("knockout", "Csf1r", start_h=96.0)])
    bim = {name: frame.groupby("time_h")["Bim"].mean() for name, frame in (("kept", kept), ("lost", lost))}
    # identical until the loss (the same seed), then 6 h later up by half and by a day later several-fold
    assert bim["lost"][95.0] == bim["kept"][95.0]
    assert bim["lost"][102.0] > 1.5 * bim["kept"][102.0]
    assert bim["lost"][120.0] > 3 * bim["kept"][120.0]
    # and the death rate it implies for a committed cell rises accordingly
    q = osteoclast_parameters(load_experiment(data={}).osteoclasts)
    rate = {name: committed_death_rate_per_h(values[120.0], 1, q) for name, values in bim.items()}
    assert rate["lost"] > 2 * rate["kept"]


SMALL_ASSAY = {"seed": 21, "medium": {"mcsf_ng_ml": 30, "rankl_ng_ml": 50},
               "domain": {"width_um": 1500, "height_um": 1500}}
LOSS_H, WINDOW_H = 96.0, 48.0


def committed_deaths(knockouts: list) -> tuple[int, int]:
    """Of the committed cells alive at LOSS_H, how many die in the next WINDOW_H, and how many there were
    (cells that fuse into another in the window leave the count)."""
    model = BoneModel(load_experiment(data={**SMALL_ASSAY, "signaling": {"knockouts": knockouts}}))
    for _ in range(round(LOSS_H / model.dt_h)):
        model.step()
    pop = model.population
    rows = pop.rows[pop.committed[pop.rows]]
    cohort = set(pop.cell_id[rows].tolist())
    died, fused = set(), set()
    for _ in range(round(WINDOW_H / model.dt_h)):
        model.events.clear()
        model.step()
        for _, kind, cell, other, *_ in model.events:
            if kind == "death" and cell in cohort:
                died.add(cell)
            elif kind == "fusion" and other in cohort:
                fused.add(other)
    return len(died), len(cohort - fused)


@pytest.fixture(scope="module")
def deaths():
    return {"wild type": committed_deaths([]),
            "CSF-1R lost": committed_deaths([{"gene": "Csf1r", "start_h": LOSS_H}]),
            "CSF-1R lost, Bim⁻/⁻": committed_deaths(["Bcl2l11", {"gene": "Csf1r", "start_h": LOSS_H}])}


def test_osteoclasts_die_when_their_receptor_is_lost_though_the_medium_keeps_mcsf(deaths):
    (d_wt, n_wt), (d_ko, n_ko) = deaths["wild type"], deaths["CSF-1R lost"]
    assert n_wt > 80 and n_ko > 80
    f_wt, f_ko = d_wt / n_wt, d_ko / n_ko
    # binomial spread of each fraction; Bim rises from ≈ 8 to ≈ 36 per nucleus (what RANK alone holds it at),
    # so about 45 % die against about 75 %
    sd = np.sqrt(f_wt * (1 - f_wt) / n_wt + f_ko * (1 - f_ko) / n_ko)
    assert f_ko - f_wt > 4 * sd and f_ko > 1.3 * f_wt


def test_bim_knockout_osteoclasts_outlive_the_loss_of_csf1r_signaling(deaths):
    (d_ko, n_ko), (d_bim, n_bim) = deaths["CSF-1R lost"], deaths["CSF-1R lost, Bim⁻/⁻"]
    f_ko, f_bim = d_ko / n_ko, d_bim / n_bim
    sd = np.sqrt(f_ko * (1 - f_ko) / n_ko + f_bim * (1 - f_bim) / n_bim)
    assert f_ko - f_bim > 4 * sd
