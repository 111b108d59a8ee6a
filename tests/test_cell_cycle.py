"""Precursors leave the cell cycle by a competition in their own molecules, not by a rule on c-Fos (issue 13:
mechanisms, not gates).

The CSF-1R signal induces short-lived cyclin D (Matsushime et al. 1991 Cell 65:701); RANKL, through c-Fos,
induces the CDK inhibitors p27Kip1 and p21Cip1 (Sankar et al. 2004 JBMR 19:1339), which take cyclin D-CDK out
of action one for one (Sherr & Roberts 1999 Genes Dev 13:1501). A mononuclear cell divides at a rate set by its
free cyclin (the role ``g1_cyclin``). Phenotypes checked:
- RANKL arrests precursors within hours (Sankar 2004: RANKL-treated precursors accumulate in G1 as p27/p21 rise);
- without c-Fos, RANKL does not arrest them (c-Fos⁻/⁻ precursors proliferate in RANKL: Grigoriadis et al. 1994
  Science 266:443, macrophages expand in c-Fos⁻/⁻ mice);
- without the inhibitors, RANKL does not arrest them (a model prediction: the p27/p21 pair is lumped);
- when RANKL is withdrawn the cyclin recovers: arrest is a state of the molecules, not a latch;
- without M-CSF the cyclin is lost and cells stop cycling even without RANKL (Matsushime 1991).
Means over 300 cells; tolerances are at least 4 standard errors of the compared means.
"""

import pytest

from boneabm.catalog import find
from boneabm.cells.osteoclast import fates
from boneabm.config import load_experiment
from boneabm.signaling import Perturbation, load_network, simulate

ASSAY = {"rankl_nM": 2.5, "mcsf_nM": 0.81, "itam_ligand": 1.0}
NO_RANKL = {**ASSAY, "rankl_nM": 0.0}
P = fates.precursor_parameters(load_experiment(find("osteoclastogenesis").path).precursors)
N = 300


def _division_per_h(frame):
    """Each sampled time's mean division rate, 1/h, from each cell's free cyclin as the fate rule reads it."""
    rate = fates.division_rate_per_h(frame["CycD"].to_numpy(dtype=float), P)
    return frame.assign(rate=rate).groupby("time_h")["rate"].agg(["mean", "sem"])


@pytest.fixture(scope="module")
def rank():
    return load_network("rank")


def test_rankl_arrests_precursors_within_hours_through_the_inhibitors_binding_cyclin(rank):
    times = [0.0, 1.0, 6.0, 24.0, 48.0]
    with_rankl = simulate(rank, N, times, inputs=ASSAY, seed=11)
    without = _division_per_h(simulate(rank, N, times, inputs=NO_RANKL, seed=12))
    treated = _division_per_h(with_rankl)
    # without RANKL, division stays near its maximum (the cyclin's saturation at 30 ng/mL M-CSF)
    assert (without["mean"] > 0.7 * P.division_rate_max_per_h).all()
    # RANKL: still cycling after 1 h (the inhibitors must first be made), arrested by 6 h and after
    assert treated.loc[1.0, "mean"] > 0.7 * without.loc[1.0, "mean"]
    for t in (6.0, 24.0, 48.0):
        assert treated.loc[t, "mean"] < 0.25 * without.loc[t, "mean"]
    # the cyclin has not gone: it is held by the inhibitors (total cyclin near its unstimulated level)
    late = with_rankl[with_rankl.time_h == 48.0]
    held = late["CycD_CKI"].mean()
    assert held > 5 * late["CycD"].mean()
    assert late["CKI"].mean() + held > (late["CycD"] + late["CycD_CKI"]).mean()  # inhibitors outnumber cyclin


@pytest.mark.parametrize("gene", ["Fos", "Cdkn1b_Cdkn1a"])
def test_without_c_fos_or_the_cdk_inhibitors_rankl_does_not_arrest_the_cycle(rank, gene):
    times = [0.0, 24.0, 48.0]
    knockout = _division_per_h(simulate(rank, N, times, inputs=ASSAY, seed=13,
                                        perturbations=[Perturbation("knockout", gene)]))
    wild_type = _division_per_h(simulate(rank, N, times, inputs=ASSAY, seed=13))
    for t in (24.0, 48.0):
        assert knockout.loc[t, "mean"] > 0.7 * P.division_rate_max_per_h
        assert knockout.loc[t, "mean"] > 4 * wild_type.loc[t, "mean"]


def test_arrest_lifts_when_rankl_is_withdrawn_and_the_inhibitors_turn_over(rank):
    """A RANKL wash-out at 24 h, modelled as c-Fos induction ending: c-Fos, then p27/p21, decay over hours."""
    times = [24.0, 48.0]
    washed = simulate(rank, N, [24.0], inputs=ASSAY, seed=14)
    initial = washed[list(rank.species)].to_numpy()
    after = _division_per_h(simulate(rank, N, [0.0, 24.0], inputs=NO_RANKL, seed=15, initial=initial))
    still = _division_per_h(simulate(rank, N, times, inputs=ASSAY, seed=14))
    assert after.loc[0.0, "mean"] < 0.25 * P.division_rate_max_per_h  # arrested at the wash-out
    assert after.loc[24.0, "mean"] > 0.5 * P.division_rate_max_per_h  # cycling again a day later
    assert after.loc[24.0, "mean"] > 3 * still.loc[48.0, "mean"]


def test_without_m_csf_the_cyclin_is_lost_and_cells_stop_cycling_without_rankl(rank):
    rate = _division_per_h(simulate(rank, N, [0.0, 24.0], inputs={**NO_RANKL, "mcsf_nM": 0.0}, seed=16))
    assert rate.loc[24.0, "mean"] < 0.1 * rate.loc[0.0, "mean"]
