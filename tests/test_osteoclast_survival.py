"""A committed cell's survival comes from its own molecules: Bim, which CSF-1R and RANK signaling keep degraded.

Phenotypes checked (Akiyama et al. 2003 EMBO J 22:6653, docs/references.md#osteoclast-survival):
- without M-CSF an osteoclast's Bim rises quickly and stays up, because c-Cbl no longer ubiquitylates it;
- osteoclasts die by apoptosis when their trophic receptors (CSF-1R and RANK) are lost, although the medium still
  holds M-CSF and RANKL, as after cytokine withdrawal: the cell reads its receptors, not the medium (with the
  earlier rule, which read the medium's M-CSF and RANKL, losing the receptors changed nothing for a committed
  cell);
- Bim⁻/⁻ osteoclasts outlive the loss of those signals.

CSF-1R loss alone raises the death of committed cells less (measured at seed 21: 42 % against 28 % in 24 h),
because RANK's TRAF6 arm, saturated at 50 ng/mL RANKL, still clears much of the Bim; the molecular test above
shows that loss.
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
    receptors_lost = [{"gene": "Csf1r", "start_h": LOSS_H}, {"gene": "Tnfrsf11a", "start_h": LOSS_H}]
    return {"wild type": committed_deaths([]),
            "receptors lost": committed_deaths(receptors_lost),
            "receptors lost, Bim⁻/⁻": committed_deaths(["Bcl2l11", *receptors_lost])}


def more_die(deaths, more: str, fewer: str) -> float:
    """How many binomial standard deviations of the difference separate the dying fractions of two arms."""
    (d_more, n_more), (d_fewer, n_fewer) = deaths[more], deaths[fewer]
    assert n_more > 80 and n_fewer > 80
    f_more, f_fewer = d_more / n_more, d_fewer / n_fewer
    sd = np.sqrt(f_more * (1 - f_more) / n_more + f_fewer * (1 - f_fewer) / n_fewer)
    return (f_more - f_fewer) / sd


# Each comparison expects about 6 sd (measured: 80 % against 55 % die in 48 h, cohorts of about 200) and asserts
# 3: a one-sided test that an arm without the mechanism would pass by chance one time in 700.

def test_osteoclasts_die_when_their_receptors_are_lost_though_the_medium_keeps_the_factors(deaths):
    assert more_die(deaths, "receptors lost", "wild type") > 3


def test_bim_knockout_osteoclasts_outlive_the_loss_of_their_receptors(deaths):
    assert more_die(deaths, "receptors lost", "receptors lost, Bim⁻/⁻") > 3



def test_osteoclasts_shed_apoptotic_nuclei_and_live_on_and_every_nucleus_is_accounted_for():
    """Jansen et al. 2012 Calcif Tissue Int 90:515: osteoclasts split off compartments holding apoptotic nuclei
    and go on as smaller cells. Every nucleus on the surface came from plating, division or recruitment and left by
    a death, an egress or an extrusion; an extruding cell lives on with the nuclei its event records. (The small
    assay for 120 h, nuclei extruded at 0.03/h each so that many go: ≈ 100 at seed 21.)"""
    model = BoneModel(load_experiment(data={**SMALL_ASSAY, "osteoclasts": {"nucleus_extrusion_rate_per_h": 0.03}}))
    for _ in range(round(120 / model.dt_h)):
        model.step()
    lineage, pop = model.lineages["osteoclast"], model.population
    events = [e for e in model.events if e[-1] == "osteoclast"]
    extrusions = [e for e in events if e[1] == "extrusion"]
    assert len(extrusions) > 30 and lineage.nuclei_extruded_total >= len(extrusions)
    assert all(e[4] >= 1 for e in extrusions)
    died_nuclei = sum(e[4] for e in events if e[1] == "death")
    left = sum(1 for e in events if e[1] == "egress")
    arrived = model.experiment.n_plated + lineage.divisions_total + lineage.recruited_total
    assert pop.nuclei[pop.rows].sum() == arrived - died_nuclei - left - lineage.nuclei_extruded_total


def test_integrin_beta3_with_no_bone_to_bind_signals_death():
    """Unoccupied αvβ3 recruits caspase-8 and kills the osteoclast; ligation by the bone's matrix prevents it
    (Zhao, Ross & Teitelbaum 2005 Mol Endocrinol 19:771). On bare bone a cell's β3 is all ligated and its death
    rate is Bim's alone; over bone that lining cells or new matrix cover, its β3 per nucleus is unligated and adds
    up to `unligated_integrin_death_rate_per_h`. Off by default, so the culture (bare bone under every cell) is
    untouched."""
    from boneabm.catalog import find
    from boneabm.config import validate
    from boneabm.yamlio import read_yaml

    data = read_yaml(find("osteoclastogenesis").path)
    data.update(seed=5)
    data["domain"].update(width_um=500, height_um=500)
    data["osteoclasts"] = {**data.get("osteoclasts", {}), "unligated_integrin_death_rate_per_h": 0.05}
    model = BoneModel(validate(data))
    while model.time_h < 96:
        model.step()
    lineage, pop = model.osteoclasts, model.osteoclasts.population
    rows = pop.rows[pop.committed[pop.rows]]
    assert rows.size > 20
    beta3 = pop.molecules[rows, lineage.function_columns[3]] / pop.nuclei[rows]
    assert np.all(lineage.unligated_beta3(rows) == 0.0)  # a culture's slice is bare everywhere
    model.bone.covered_px = np.ones(model.bone.shape, dtype=bool)  # (a new map, as ``Bone.cover`` makes)
    assert np.allclose(lineage.unligated_beta3(rows), beta3)
    q = model.osteoclasts.osteoclast_parameters
    for b3, n in zip(beta3[:5], pop.nuclei[rows][:5]):
        bim = 8.0
        extra = committed_death_rate_per_h(bim, n, q, b3) - committed_death_rate_per_h(bim, n, q, 0.0)
        assert extra == pytest.approx(0.05 * b3 / (b3 + q.function_gene_half_molecules))
    # with the rate at its default (0) nothing is looked up and nothing is added
    off = osteoclast_parameters(load_experiment(find("osteoclastogenesis").path).osteoclasts)
    assert committed_death_rate_per_h(8.0, 3, off, 1e6) == committed_death_rate_per_h(8.0, 3, off, 0.0)
