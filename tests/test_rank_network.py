"""The RANK pathway network against the published phenotypes it must reproduce (docs/validation.md).

Standalone simulations of 200 independent precursors in M-CSF 30 ng/mL + RANKL 50 ng/mL (mouse BMM protocol,
docs/references.md#in-vitro-protocols). Onset of amplification = first hour at which mean nuclear NFATc1
reaches half its 72-h value.
Thresholds are wide against the cell-to-cell spread (standard error of a 200-cell mean < 5 % of the WT value).
"""

import numpy as np
import pytest

from boneabm.signaling import Perturbation, load_network, simulate
from boneabm.units import MCSF_HOMODIMER_DA, RANKL_MONOMER_DA, ng_ml_to_nM

N_CELLS = 200
HOURS = [0, 0.25, 0.5, 1, 2] + list(range(4, 73, 4))
ASSAY = {"rankl_nM": ng_ml_to_nM(50, RANKL_MONOMER_DA), "mcsf_nM": ng_ml_to_nM(30, MCSF_HOMODIMER_DA),
         "itam_ligand": 1.0}


@pytest.fixture(scope="module")
def rank():
    return load_network("rank")


def run(rank, *perturbations, hours=HOURS, **inputs):
    frame = simulate(rank, N_CELLS, hours, inputs={**ASSAY, **inputs}, seed=17, perturbations=perturbations)
    means = frame.groupby("time_h").mean()
    means.attrs["events"] = frame.attrs["events"]
    means.attrs["sem"] = frame.groupby("time_h").sem()
    return means


def assert_same_mean(blocked, wild_type, time_h, column, label=""):
    """Two 200-cell means that should not differ: within 4 standard errors of their difference, a spread
    measured from the cells themselves, not guessed (at 2 h NF-κB is a few molecules per cell)."""
    difference = blocked.loc[time_h, column] - wild_type.loc[time_h, column]
    sd = np.hypot(blocked.attrs["sem"].loc[time_h, column], wild_type.attrs["sem"].loc[time_h, column])
    assert abs(difference) < 4 * sd, f"{label}: {column} at {time_h} h differs by {difference:.2f} (sd {sd:.2f})"


def knockout(*genes):
    return [Perturbation("knockout", g) for g in genes]


@pytest.fixture(scope="module")
def wild_type(rank):
    return run(rank)


def amplified(means):
    return means.loc[72, "NFATc1_n"]


def test_rankl_activates_nf_kb_within_minutes(rank, wild_type):
    """TAK1 phosphorylation by 5 min, IκBα degradation and NF-κB within 5-30 min
    (docs/references.md#time-course)."""
    assert wild_type.loc[0.5, "NFkB_n"] > 0.2 * wild_type.loc[2, "NFkB_n"] > 0
    assert wild_type.loc[0.25, "TAK1_a"] > 0.5
    assert run(rank, rankl_nM=0.0).loc[0.5, "NFkB_n"] == 0


def test_amplification_starts_around_a_day(rank, wild_type):
    """Ca²⁺ oscillations and the NFATc1 surge begin ≈ 24 h after RANKL (Kuroda & Matsuo 2012); accept 12-36 h.

    The onset is where a gradual rise crosses half its 72-h value (≈ 32 h for the network: 1,500 cells), so it
    is read from 1,000 cells: a 200-cell mean of nuclear NFATc1 at 36 h varies by ≈ 6 %, enough to move the
    crossing past 36 h at a few seeds in a hundred; 1,000 cells make that a > 4 σ event."""
    many = simulate(rank, 1000, list(range(0, 73, 4)), inputs=ASSAY, seed=17).groupby("time_h")["NFATc1_n"].mean()
    onset = many.index[(many >= many.loc[72] / 2).to_numpy().argmax()]
    assert 12 <= onset <= 36
    assert wild_type.loc[4, "NFATc1_n"] < 0.05 * amplified(wild_type)  # no surge in the first hours
    # fusion and function genes follow at 48-72 h (docs/references.md#time-course)
    assert wild_type.loc[72, "DC_STAMP"] > 3 * wild_type.loc[36, "DC_STAMP"] > 0


def test_no_rankl_no_amplification(rank, wild_type):
    """RANKL⁻/⁻: no osteoclasts, no NFATc1 amplification (Kong 1999; docs/validation.md#check-1-no-rankl)."""
    none = run(rank, rankl_nM=0.0)
    assert none.attrs["events"]["ca_spike"] == 0
    assert amplified(none) < 0.02 * amplified(wild_type)


def test_traf6_knockout_has_no_nf_kb_and_no_nfatc1(rank, wild_type):
    """TRAF6⁻/⁻ (Lomaga 1999; Naito 1999): RANK cannot signal."""
    ko = run(rank, *knockout("Traf6"))
    assert ko["NFkB_n"].max() == 0
    assert ko.loc[72, ["NFATc1", "NFATc1_n"]].sum() < 0.02 * wild_type.loc[72, ["NFATc1", "NFATc1_n"]].sum()


@pytest.mark.parametrize("label, perturbations", [
    ("DAP12+FcRγ dKO (Koga 2004; Mócsai 2004)", knockout("Tyrobp", "Fcer1g")),
    ("Btk/Tec dKO (Shinohara 2008)", knockout("Btk_Tec")),
    ("PLC inhibitor U73122 (Mao 2006)", [Perturbation("inhibitor", "plc_inhibitor", 0.0)]),
])
def test_early_signaling_survives_but_no_ca_spikes_and_no_amplification(rank, wild_type, label, perturbations):
    """Early/late dissociation (docs/validation.md#check-5-early-vs-late-dissociation): NF-κB intact, no Ca²⁺
    oscillations, no amplification."""
    blocked = run(rank, *perturbations)
    assert_same_mean(blocked, wild_type, 2, "NFkB_n", label)
    assert blocked.attrs["events"]["ca_spike"] == 0, label
    assert amplified(blocked) < 0.05 * amplified(wild_type), label


def test_plcg2_knockout_has_no_ca_spikes_and_no_amplification(rank, wild_type):
    """PLCγ2⁻/⁻ (Mao 2006): NFATc1 up-regulation lost; NF-κB may be reduced too, so it is not asserted."""
    ko = run(rank, *knockout("Plcg2"))
    assert ko.attrs["events"]["ca_spike"] == 0
    assert amplified(ko) < 0.05 * amplified(wild_type)


def test_calcineurin_block_spares_nf_kb_suppresses_amplification_and_washes_out(rank, wild_type):
    """FK506/CsA block NFATc1 amplification (Takayanagi 2002; docs/validation.md#check-9-calcineurin-block);
    removing the drug restores it."""
    blocked = run(rank, Perturbation("inhibitor", "calcineurin_inhibitor", 0.02))
    assert_same_mean(blocked, wild_type, 2, "NFkB_n")
    assert amplified(blocked) < 0.1 * amplified(wild_type)
    washed = run(rank, Perturbation("inhibitor", "calcineurin_inhibitor", 0.02, start_h=0, stop_h=48),
                 hours=[0, 48, 120])
    assert washed.loc[48, "NFATc1_n"] < 0.1 * amplified(wild_type)
    assert washed.loc[120, "NFATc1_n"] > 0.5 * amplified(wild_type)


def test_nfatc1_knockout_expresses_no_fusion_or_function_genes(rank):
    """NFATc1⁻/⁻ cannot make osteoclasts (Asagiri 2005; Aliprantis 2008)."""
    ko = run(rank, *knockout("Nfatc1"))
    assert ko.loc[72, ["DC_STAMP", "OC_STAMP", "Atp6v0d2", "TRAP", "CtsK", "Itgb3"]].sum() == 0


@pytest.mark.parametrize("gene", ["Fos", "Nfkb1_Nfkb2"])
def test_transcription_factor_knockouts_block_amplification(rank, wild_type, gene):
    """c-Fos⁻/⁻ (Grigoriadis 1994) and p50/p52 dKO (Iotsova 1997): no osteoclasts
    (docs/validation.md#check-7-transcription-factor-knockouts)."""
    assert amplified(run(rank, *knockout(gene))) < 0.05 * amplified(wild_type)


def test_removing_the_self_promoter_term_collapses_amplification(rank, wild_type):
    """NFATc1 auto-amplification (Asagiri 2005; docs/validation.md#check-8-nfatc1-auto-amplification): without
    it amplification fails even with NF-κB intact."""
    blocked = run(rank, Perturbation("inhibitor", "nfatc1_autoamplification_block", 0.0))
    assert_same_mean(blocked, wild_type, 2, "NFkB_n")
    assert amplified(blocked) < 0.1 * amplified(wild_type)


def test_itam_co_stimulation_redundancy(rank, wild_type):
    """Mócsai 2004 / Takai 2005 (docs/validation.md#check-6-co-stimulation-redundancy): FcRγ loss ≈ wild type;
    DAP12 loss strongly reduced in M-CSF + RANKL monoculture."""
    assert amplified(run(rank, *knockout("Fcer1g"))) == pytest.approx(amplified(wild_type), rel=0.2)
    assert amplified(run(rank, *knockout("Tyrobp"))) < 0.2 * amplified(wild_type)


def test_ca_spikes_are_random_with_a_two_step_interval(rank):
    """Spikes are events, never a clock: with PLCγ2 and RGS10 held saturating, an interval is an ER refill
    plus a release, each exponential at ≈ 60/h: mean ≈ 2 min (one spike per 1-3 min in pre-osteoclasts,
    docs/references.md#time-course), CV ≈ 0.71."""
    # 400 cells for 1 h rather than 20 for 4 h: four times the intervals for a quarter of the recording points
    # (simulate's cost goes with the points, not the cells). Only intervals that start in the first 48 min
    # count, and all of them end within the hour (one lasting 12 min has probability ≈ 1e-4): the intervals a
    # window cuts off are the long ones, which biased the 4-h mean low by ≈ 0.5 % and would bias a 1-h one by
    # ≈ 1.7 % (a Monte Carlo of the two-exponential renewal), while intervals chosen by their start are an
    # unbiased sample (Wald's identity).
    dt_min = 0.05  # 3 s: two spikes closer than that (probability ≈ 0.1 %) would count as one
    times = np.arange(0, 60 + dt_min / 2, dt_min) / 60
    frame = simulate(rank, 400, times, inputs=ASSAY, seed=3,
                     perturbations=[Perturbation("clamp", "PLCg2_a", 100), Perturbation("clamp", "RGS10", 200)])
    intervals = []
    for _, cell in frame.groupby("cell_id"):
        spike_times = cell["time_h"].to_numpy()[np.flatnonzero(np.diff(cell["ca_spikes"].to_numpy())) + 1] * 60
        intervals.extend(np.diff(spike_times)[spike_times[:-1] <= 48])
    intervals = np.array(intervals)
    hill = 10.0**3 / (0.4**3 + 10.0**3) * 20.0**4 / (5.0**4 + 20.0**4)  # PLCγ2_a 10 nM, RGS10 20 nM
    assert intervals.size > 8000
    # standard error of the mean interval: CV·mean/sqrt(n) ≈ 0.7 % (1.5 % with 20 cells for 4 h); the
    # tolerance is unchanged. Measured: -3.5 % (seeds 4 and 5: -4.3 %, -4.5 %): the refractory block is
    # leaky (one refilling molecule leaves 6 % of the spike rate), which 1 + 1/hill ignores.
    assert intervals.mean() == pytest.approx(1 + 1 / hill, rel=0.06)
    assert 0.6 < intervals.std() / intervals.mean() < 0.8
