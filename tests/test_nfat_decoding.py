"""The NFAT shuttle decodes Ca²⁺ pulses with a memory of its own, and NFATc1 — not c-Fos — is the master switch
of its targets (issue 13: mechanisms, not gates).

Phenotypes checked, each against its paper (docs/references.md):
- Tomida et al. 2003 EMBO J 22:3825: a 1.5-min Ca²⁺ pulse moves about 10 % of NFAT into the nucleus, peaking
  about 8 min after the pulse, and dephosphorylated NFAT outlasts the pulse by >10 min in the cytoplasm; pulses
  at higher frequency give more nuclear NFAT.
- Matsuo et al. 2004 JBC 279:26475: constitutively active NFATc1 drives osteoclastogenesis in precursors that
  lack c-Fos; Takayanagi et al. 2002 Dev Cell 3:889: NFATc1 induces its targets without RANKL.
Tolerances are 4 standard errors of the compared means at the stated number of cells.
"""

import numpy as np
import pytest

from boneabm.config import load_experiment
from boneabm.model import BoneModel
from boneabm.signaling import Perturbation, load_network, simulate

ASSAY_INPUTS = {"rankl_nM": 2.5, "mcsf_nM": 0.81, "itam_ligand": 1.0}
# the cells' own spikes blocked (U73122) and NFATc1's self-promoter removed, so only the applied pulses move
# NFATc1 and its total stays the NF-κB-induced level: Tomida's set-up, pulses in cells that do not spike
NO_OWN_SPIKES = [Perturbation("inhibitor", "plc_inhibitor", 0.0),
                 Perturbation("inhibitor", "nfatc1_autoamplification_block", 0.0)]


def _pulses(period_min, duration_min, start_h=24.0, stop_h=None):
    return Perturbation("pulse", "CaN_a", 3, start_h, stop_h, period_min / 60, duration_min / 60)


def test_a_single_short_pulse_moves_nfatc1_to_the_nucleus_after_it_ends_from_a_dephosphorylated_memory():
    n = 2000
    rank = load_network("rank")
    minutes = [1.5, 3.0, 10.0, 30.0]
    frame = simulate(rank, n, [24.0] + [24 + m / 60 for m in minutes], inputs=ASSAY_INPUTS, seed=6,
                     perturbations=NO_OWN_SPIKES + [_pulses(60.0, 1.5, stop_h=24.5)])
    by = {round((t - 24) * 60, 1): g for t, g in frame.groupby("time_h")}
    total = by[0.0][["NFATc1", "NFATc1_d", "NFATc1_n"]].sum(axis=1).mean()
    nuclear = {m: by[m]["NFATc1_n"] for m in minutes}

    def se(a, b):
        return np.sqrt(a.var() / n + b.var() / n)
    # the nucleus keeps filling after the pulse, from NFATc1 that calcineurin dephosphorylated during it
    assert nuclear[10.0].mean() - nuclear[3.0].mean() > 4 * se(nuclear[10.0], nuclear[3.0])
    assert nuclear[10.0].mean() - nuclear[30.0].mean() > 4 * se(nuclear[10.0], nuclear[30.0])
    assert 0.05 < nuclear[10.0].mean() / total < 0.2  # about 10 % for a 1.5-min pulse (Tomida 2003)
    # dephosphorylated NFATc1 outlasts the pulse by more than 10 minutes
    assert by[10.0]["NFATc1_d"].mean() > 0.15 * by[1.5]["NFATc1_d"].mean() > 0


def test_pulses_at_higher_frequency_give_more_nuclear_nfatc1():
    n = 400
    rank = load_network("rank")
    fraction = {}
    for period in (30.0, 12.0, 4.0):
        frame = simulate(rank, n, [24.0, 26.0, 28.0], inputs=ASSAY_INPUTS, seed=5,
                         perturbations=NO_OWN_SPIKES + [_pulses(period, 1.0)])
        late = frame[frame.time_h > 24.5]
        fraction[period] = late["NFATc1_n"]
    for slow, fast in ((30.0, 12.0), (12.0, 4.0)):
        a, b = fraction[slow], fraction[fast]
        assert b.mean() - a.mean() > 4 * np.sqrt(a.var() / a.size + b.var() / b.size)
    without = simulate(rank, n, [26.0], inputs=ASSAY_INPUTS, seed=5, perturbations=NO_OWN_SPIKES)
    assert without["NFATc1_n"].sum() == 0  # no spikes, no pulses: NFATc1 stays out


def test_constitutively_nuclear_nfatc1_drives_its_targets_without_rankl_and_without_c_fos():
    """Takayanagi 2002 (NFATc1 overexpression induces osteoclast genes without RANKL); Matsuo 2004 (NFATc1
    rescues c-Fos-deficient precursors): no RANKL means no c-Fos, yet nuclear NFATc1 alone induces DC-STAMP,
    OC-STAMP, TRAP and cathepsin K; AP-1 only adds to them."""
    n = 300
    rank = load_network("rank")
    no_rankl = {**ASSAY_INPUTS, "rankl_nM": 0.0}
    nfatc1 = Perturbation("clamp", "NFATc1_n", 20)
    alone = simulate(rank, n, [72.0], inputs=no_rankl, seed=8, perturbations=[nfatc1, Perturbation("knockout", "Fos")])
    control = simulate(rank, n, [72.0], inputs=no_rankl, seed=8)
    with_ap1 = simulate(rank, n, [72.0], inputs=ASSAY_INPUTS, seed=8, perturbations=[nfatc1])
    assert (alone["cFos"] == 0).all()
    for target in ("DC_STAMP", "OC_STAMP", "TRAP", "CtsK", "Itgb3"):
        assert control[target].sum() == 0
        assert alone[target].mean() > 3  # above a few molecules per cell: the fusion thresholds are 5
    for target in ("DC_STAMP", "OC_STAMP"):  # AP-1 cooperates on the fusion genes' promoters
        a, b = alone[target], with_ap1[target]
        assert b.mean() - a.mean() > 4 * np.sqrt(a.var() / n + b.var() / n)


@pytest.mark.slow
def test_constitutive_nfatc1_rescues_osteoclasts_in_c_fos_knockout_precursors():
    """Matsuo et al. 2004 JBC 279:26475: c-Fos⁻/⁻ precursors form no osteoclasts in M-CSF + RANKL (the c-Fos KO
    arm of tests/test_validation.py, docs/validation.md#check-7-transcription-factor-knockouts), and forced
    NFATc1 restores TRAP⁺ multinucleated cells: here 20 multinucleated cells by day 5 at seed 4 (Poisson-like
    spread ≈ 4.5), against at least 5."""
    assay = {"seed": 4, "medium": {"mcsf_ng_ml": 30, "rankl_ng_ml": 50}, "time": {"duration_h": 120},
             "domain": {"width_um": 1000, "height_um": 1000},
             "signaling": {"knockouts": ["Fos"], "clamps": [{"species": "NFATc1_n", "molecules": 20}]}}
    model = BoneModel(load_experiment(data=assay))
    for _ in range(1200):
        model.step()
    cfos = model.network.species_index("cFos")
    assert model.population.molecules[model.population.rows][:, cfos].sum() == 0
    assert model.osteoclasts.counts()["n_multinucleated"] >= 5


def test_pulses_from_the_config_drive_nuclear_nfatc1_in_the_model_between_ticks():
    """Pulses shorter than a tick (1 min every 4 min, tick 6 min) reach every cell through the config."""
    assay = {"seed": 5, "medium": {"mcsf_ng_ml": 30, "rankl_ng_ml": 50}, "domain": {"width_um": 500, "height_um": 500},
             "time": {"duration_h": 30}}
    blocked = {"inhibitors": ["plc_inhibitor", "nfatc1_autoamplification_block"]}
    nuclear = {}
    for label, extra in {"none": {}, "pulses": {"pulses": [{"species": "CaN_a", "molecules": 3, "period_min": 4,
                                                           "duration_min": 1, "start_h": 24}]}}.items():
        signaling = {"inhibitors": [{"target": t} for t in blocked["inhibitors"]], **extra}
        model = BoneModel(load_experiment(data={**assay, "signaling": signaling}))
        for _ in range(300):
            model.step()
        rows = model.population.rows
        nuclear[label] = model.population.molecules[rows][:, model.network.species_index("NFATc1_n")]
        assert model.osteoclasts.counter_totals.sum() == 0  # the cells' own spikes stay blocked
    assert nuclear["none"].sum() == 0
    assert nuclear["pulses"].mean() > 0.2


def test_a_pulse_train_is_refused_when_its_pulse_outlasts_its_period():
    from boneabm.errors import UserError
    with pytest.raises(UserError, match="duration_min = 5.0 must be shorter than period_min = 4.0"):
        load_experiment(data={"signaling": {"pulses": [{"species": "CaN_a", "molecules": 3, "period_min": 4,
                                                        "duration_min": 5}]}})


def test_a_tick_is_split_at_every_pulse_edge_and_the_pulse_is_on_only_inside_its_pulses():
    from boneabm.signaling.perturbations import PerturbationSchedule

    train = _pulses(4.0, 1.0, start_h=24.0, stop_h=24.1)  # 1 min every 4 min for 6 min
    schedule = PerturbationSchedule(load_network("rank"), [train])
    pieces = schedule.segments(23.9, 24.2)
    expected = [23.9, 24.0, 24 + 1 / 60, 24 + 4 / 60, 24 + 5 / 60, 24.1, 24.2]
    assert np.allclose([a for a, _ in pieces] + [pieces[-1][1]], expected)
    on = [bool(schedule.at(a).clamped.any()) for a, _ in pieces]
    assert on == [False, True, False, True, False, False]
    assert schedule.segments(24.2, 24.3) == [(24.2, 24.3)]  # after the train: one piece, the whole tick
