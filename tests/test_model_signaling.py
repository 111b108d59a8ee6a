"""RANK signaling inside the agent model: wiring, event budget, reproducibility across threads, tick length."""

import os
import subprocess
import sys

import numpy as np
import pytest

import boneabm
from boneabm.config import load_experiment
from boneabm.model import BoneModel

ASSAY = {"seed": 5, "medium": {"mcsf_ng_ml": 30, "rankl_ng_ml": 50},
         "domain": {"width_um": 1000, "height_um": 1000}, "time": {"duration_h": 72, "snapshot_every_h": 24}}


@pytest.fixture(scope="module")
def assay_twice(tmp_path_factory):
    """ASSAY run twice with the same seed: one run for the observables, the pair for determinism."""
    folder = tmp_path_factory.mktemp("assay")
    return boneabm.run(ASSAY, out=folder / "a"), boneabm.run(ASSAY, out=folder / "b")


def test_default_assay_stays_within_the_event_budget_and_counts_are_deterministic(assay_twice):
    """Issue budget: about 1,500 SSA events per cell-hour on average in the in vitro assay (M-CSF 30 + RANKL
    50 ng/mL, docs/references.md#in-vitro-protocols). Counts are exact at a fixed seed."""
    first, second = assay_twice
    ssa = first.metadata["ssa"]
    assert 100 < ssa["events_per_cell_hour"] < 1500
    assert ssa["events_total"] == second.metadata["ssa"]["events_total"]
    assert first.timeseries["ssa_events_total"].iloc[-1] == ssa["events_total"]


def test_cells_and_timeseries_carry_the_observables(assay_twice):
    result = assay_twice[0]
    cells, ts = result.cells, result.timeseries.set_index("time_h")
    for name in ["nfkb_nuclear", "nfatc1_nuclear", "fusion_genes", "function_genes", "ca_spikes"]:
        assert name in cells.columns
    at = cells[cells.time_h == 72]
    assert at["nfatc1_nuclear"].mean() == pytest.approx(ts.loc[72, "nfatc1_nuclear_mean"])
    assert at["nfatc1_nuclear"].std(ddof=0) == pytest.approx(ts.loc[72, "nfatc1_nuclear_sd"])
    assert ts.loc[72, "nfkb_nuclear_mean"] > 1 and ts.loc[72, "ca_spikes_total"] > 0
    assert ts.loc[72, "medium_rankl_free_ng_ml"] < 50  # cells bound and internalised RANKL from the medium
    assert at["rankl_free_ng_ml"].mean() < ts.loc[72, "medium_rankl_free_ng_ml"]  # and deplete their layer


def test_knockouts_and_timed_inhibitors_come_from_the_config():
    ko = BoneModel(load_experiment(data={**ASSAY, "signaling": {"knockouts": ["Traf6"]}}))
    for _ in range(60):
        ko.step()
    rank = ko.network
    rows = ko.population.rows
    assert ko.population.molecules[rows][:, rank.species_index("NFkB_n")].sum() == 0
    assert ko.population.molecules[rows][:, rank.species_index("TRAF6")].sum() == 0

    timed = BoneModel(load_experiment(data={**ASSAY, "signaling": {
        "inhibitors": [{"target": "plc_inhibitor", "start_h": 0, "stop_h": 30}]}}))
    spikes = []
    for tick in range(1, 361):
        timed.step()
        if tick in (300, 360):
            spikes.append(int(timed.counter_totals[0]))
    assert spikes[0] == 0 and spikes[1] > 0  # no spikes while U73122 is on; they start after wash-out


RUN_HASH = """
import hashlib, sys
from pathlib import Path
from boneabm.cli import main
assert main(["run", sys.argv[1], "--out", sys.argv[2], "--quiet"]) == 0
print(hashlib.sha256(b"".join((Path(sys.argv[2]) / n).read_bytes()
                               for n in ("timeseries.csv", "cells.csv", "events.csv"))).hexdigest())
"""


def test_a_run_is_byte_identical_with_one_or_two_threads(tmp_path, small_yaml):
    config = small_yaml(medium={"rankl_ng_ml": 50}, time={"duration_h": 24})
    digests = set()
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        out = subprocess.run([sys.executable, "-c", RUN_HASH, str(config), str(tmp_path / threads)], env=env,
                             capture_output=True, text=True, check=True).stdout
        digests.add(out.strip().splitlines()[-1])
    assert len(digests) == 1


def test_halving_the_tick_changes_signaling_only_within_noise(tmp_path):
    """Inputs are frozen within a tick; the medium and the cells' fates change between ticks. Halving dt
    must leave the state at 36 h the same within the cell-to-cell noise (4 standard errors)."""
    base = {**ASSAY, "domain": {"width_um": 1500, "height_um": 1500}, "time": {"duration_h": 36, "snapshot_every_h": 36}}
    coarse = boneabm.run(base, out=tmp_path / "coarse").cells
    fine = boneabm.run({**base, "seed": 6, "time": {**base["time"], "dt_h": 0.05}}, out=tmp_path / "fine").cells
    for column in ["nfkb_nuclear", "cfos", "nfatc1_total"]:
        a, b = coarse.loc[coarse.time_h == 36, column], fine.loc[fine.time_h == 36, column]
        se = np.sqrt(a.var() / a.size + b.var() / b.size)
        assert abs(a.mean() - b.mean()) < 4 * se, column


def test_a_dosed_anti_rankl_antibody_silences_rank_signaling(tmp_path):
    """Denosumab-like RANKL sequestration (docs/references.md#anti-rankl,
    docs/validation.md#check-13-opg-and-anti-rankl): free RANKL at the cells collapses after the dose and NF-κB
    activity falls back."""
    result = boneabm.run({**ASSAY, "time": {"duration_h": 48, "snapshot_every_h": 24},
                          "medium": {**ASSAY["medium"], "change_every_h": None},
                          "doses": [{"drug": "anti_rankl_antibody", "ng_ml": 1000, "at_h": 24}]},
                         out=tmp_path / "r")
    ts = result.timeseries.set_index("time_h")
    assert ts.loc[24, "rankl_free_ng_ml"] > 40
    assert ts.loc[30, "rankl_free_ng_ml"] < 0.5 and ts.loc[30, "rankl_total_ng_ml"] > 40
    assert ts.loc[48, "nfkb_nuclear_mean"] < 0.2 * ts.loc[24, "nfkb_nuclear_mean"]


def test_tissue_mode_runs_without_a_medium(tmp_path):
    result = boneabm.run({**ASSAY, "time": {"duration_h": 12, "snapshot_every_h": 12},
                          "fields": {"mode": "tissue", "boundary": "no_flux"},
                          "medium": {**ASSAY["medium"], "change_every_h": None}}, out=tmp_path / "r")
    ts = result.timeseries
    assert ts["medium_mcsf_ng_ml"].isna().all()
    # no resupply: the cells' own uptake draws the tissue's M-CSF down
    assert ts["mcsf_ng_ml"].iloc[-1] < 0.9 * ts["mcsf_ng_ml"].iloc[0]
    assert (result.path / "bone.csv").read_text().startswith("x_um,y_um,mineral_depth_um,collagen_depth_um")
