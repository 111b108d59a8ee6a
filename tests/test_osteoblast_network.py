"""The osteoblast lineage's network (boneabm/signaling/networks/osteoblast.yaml), run on its own by the SSA kernel.

Phenotypes checked, each against its paper (docs/references.md#osteoblast-lineage):
- Runx2⁻/⁻ cells make no Osterix and no bone matrix (Komori et al. 1997 Cell 89:755); Osterix⁻/⁻ cells keep Runx2
  but make no bone matrix (Nakashima et al. 2002 Cell 108:17);
- sclerostin binds LRP5/6 and lowers β-catenin signaling, which an antibody that keeps it off restores (Li X et al.
  2005 JBC 280:19883); β-catenin induces OPG (Glass et al. 2005 Dev Cell 8:751);
- PTH raises RANKL and lowers OPG through cAMP/PKA (Huang et al. 2004 JBMR 19:235), and sustained PTH desensitises
  its receptor (the cAMP response fades while PTH stays);
- TGF-β signals through SMAD2/3 and keeps progenitors from maturing (Alliston et al. 2001 EMBO J 20:2254); a TβRI
  kinase inhibitor stops that signal (Tang et al. 2009 Nat Med 15:757);
- immature cells make RANKL relative to OPG, mature ones OPG (Gori et al. 2000 Endocrinology 141:4768).
Means over 200 cells after a week; tolerances are at least 4 standard errors of the compared means.
"""

import numpy as np
import pytest

from boneabm.signaling import Perturbation, load_network, simulate

BASAL = {"tgfb_nM": 0.0, "wnt_nM": 0.5, "sclerostin_nM": 0.2, "pth_nM": 0.003, "igf1_nM": 1.0, "rankl_nM": 0.0,
         "opg_nM": 0.0, "ephrinb2_contact": 0.0, "sema4d_nM": 0.0}
N, WEEK = 200, 168.0


@pytest.fixture(scope="module")
def network():
    return load_network("osteoblast")


def week(network, seed, perturbations=(), **inputs):
    frame = simulate(network, N, [WEEK], inputs={**BASAL, **inputs}, seed=seed, perturbations=list(perturbations))
    return frame


def differ(a, b, column, factor=1.0):
    """True when mean a[column] exceeds factor x mean b[column] by more than 4 standard errors of the difference."""
    x, y = a[column].to_numpy(float), factor * b[column].to_numpy(float)
    se = np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
    return x.mean() - y.mean() > 4 * max(se, 1e-9)


def test_runx2_and_osterix_knockouts_make_no_bone_matrix(network):
    wild_type = week(network, 1)
    runx2 = week(network, 1, [Perturbation("knockout", "Runx2")])
    osterix = week(network, 1, [Perturbation("knockout", "Sp7")])
    assert wild_type["collagen_secreted"].mean() > 200  # a committed cell secretes collagen all week
    assert runx2["Osx"].sum() == 0 and runx2["collagen_secreted"].sum() == 0
    assert osterix["collagen_secreted"].sum() == 0
    assert not differ(wild_type, osterix, "Runx2") and not differ(osterix, wild_type, "Runx2")  # Runx2 is upstream


def test_sclerostin_blocks_wnt_signaling_and_an_antibody_restores_it(network):
    low = week(network, 2)
    high = week(network, 2, sclerostin_nM=2.0)
    antibody = week(network, 2, [Perturbation("inhibitor", "anti_sclerostin", 0.0)], sclerostin_nM=2.0)
    for column in ("bCat", "Runx2", "OPG"):
        assert differ(low, high, column), column
        assert differ(antibody, high, column), column
    assert differ(low, high, "collagen_secreted")


def test_pth_raises_rankl_lowers_opg_and_desensitises_its_receptor(network):
    serum = week(network, 3)
    high = week(network, 3, pth_nM=0.06)
    assert differ(high, serum, "rankl_shed", 2.0)
    assert differ(serum, high, "opg_secreted", 2.0)
    # a sustained rise: cAMP peaks within the first hour, then falls as the receptor is internalised
    course = simulate(network, N, [0.0, 1.0, 24.0], inputs={**BASAL, "pth_nM": 0.06}, seed=4)
    by = {t: g for t, g in course.groupby("time_h")}
    assert differ(by[1.0], by[24.0], "cAMP", 1.3)
    assert differ(by[0.0], by[24.0], "PTH1R")  # fewer receptors left at the surface


def test_tgf_beta_signals_through_smad_and_holds_progenitors_back(network):
    none = week(network, 5)
    tgfb = week(network, 5, tgfb_nM=0.5)
    blocked = week(network, 5, [Perturbation("inhibitor", "tbri_kinase_inhibitor", 0.0)], tgfb_nM=0.5)
    assert differ(tgfb, none, "SMAD_p") and blocked["SMAD_p"].sum() == 0
    assert differ(none, tgfb, "Osx") and differ(blocked, tgfb, "Osx")
    # immature cells make more RANKL per OPG than mature ones (Gori 2000)
    ratio = lambda f: f["rankl_shed"].sum() / f["opg_secreted"].sum()  # noqa: E731
    assert ratio(tgfb) > 1.2 * ratio(none)


def test_the_event_budget_per_cell_hour(network):
    """At most 500 events per cell-hour, at rest and under continuous PTH (its busiest state)."""
    for inputs in ({}, {"pth_nM": 0.06, "tgfb_nM": 0.5}):
        frame = simulate(network, 100, [48.0], inputs={**BASAL, **inputs}, seed=6)
        assert frame.attrs["events_per_cell"].mean() / 48.0 < 500


def test_osteoclast_ephrinb2_drives_differentiation_through_ephb4(network):
    """Zhao et al. 2006 Cell Metab 4:111: ephrinB2 on osteoclasts engages EphB4 on osteoblast-lineage cells, whose
    forward signaling favours their differentiation (Runx2, Osterix); without EphB4 contact does nothing. Progenitors
    under TGF-β (0.2 nM, which holds Osterix back) for two days, 300 cells."""
    def two_days(contact, knockouts=()):
        return simulate(network, 300, [48.0], inputs={**BASAL, "tgfb_nM": 0.2, "ephrinb2_contact": contact}, seed=9,
                        perturbations=[Perturbation("knockout", gene) for gene in knockouts])

    alone, touched, no_receptor = two_days(0.0), two_days(0.5), two_days(0.5, ["Ephb4"])
    assert alone["EphB4_a"].sum() == 0 and touched["EphB4_a"].mean() > 5
    assert differ(touched, alone, "Runx2", 1.3) and differ(touched, alone, "Osx", 1.2)  # measured 1.6x and 1.4x
    assert no_receptor["EphB4_a"].sum() == 0
    assert not differ(no_receptor, alone, "Osx") and not differ(alone, no_receptor, "Osx")


def test_the_lineages_own_igf1_keeps_mature_cells_making_matrix(network):
    """Osteoblasts are the main source of skeletal IGF-1, and deleting Igf1 in collagen-expressing cells cuts bone
    accretion (Govoni et al. 2007 Endocrinology 148:5706): without IGF-1 from outside, a cell's own IGF-1 still
    activates mTORC1 and raises Osterix and collagen; the Igf1 knockout loses both and secretes none (measured
    Osterix 8.6 vs 6.2, collagen 1,052 vs 618 secretions a week, 200 cells)."""
    alone = week(network, 9, igf1_nM=0.0)
    knockout = week(network, 9, [Perturbation("knockout", "Igf1")], igf1_nM=0.0)
    assert alone["igf1_secreted"].mean() > 50 and knockout["igf1_secreted"].sum() == 0
    assert knockout["mTOR_a"].sum() == 0
    assert differ(alone, knockout, "Osx", 1.1) and differ(alone, knockout, "collagen_secreted", 1.4)


def test_osteoclast_sema4d_holds_differentiation_back_through_plexin_b1(network):
    """Negishi-Koga et al. 2011 Nat Med 17:1473: Sema4D from osteoclasts binds Plexin-B1 on osteoblasts, blocks
    their IGF-1 signaling (IRS1) and suppresses their differentiation and bone formation; without Plexin-B1 it does
    nothing. 0.3 nM for a day (IGF-1 1 nM) holds Osterix below the commitment threshold (10 per nucleus; measured
    8.5 against 13.8), 200 cells."""
    def day(sema4d_nM, knockouts=()):
        return simulate(network, 200, [24.0], inputs={**BASAL, "sema4d_nM": sema4d_nM}, seed=9,
                        perturbations=[Perturbation("knockout", gene) for gene in knockouts])

    alone, held, no_receptor = day(0.0), day(0.3), day(0.3, ["Plxnb1"])
    assert alone["PLXNB1_L"].sum() == 0 and held["PLXNB1_L"].mean() > 5
    assert differ(alone, held, "mTOR_a", 4.0)  # measured 6.6x
    assert differ(alone, held, "Osx", 1.3) and held["Osx"].mean() < 10 < alone["Osx"].mean()
    assert differ(alone, held, "collagen_secreted", 1.5)
    assert not differ(no_receptor, alone, "Osx") and not differ(alone, no_receptor, "Osx")
