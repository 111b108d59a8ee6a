"""Readouts an experiment adds to its network without copying the network file: `signaling.observables` and
`signaling.counters` reach cells.csv, timeseries.csv and columns.csv, survive a checkpoint and a fork, and bad
names are refused before any work starts."""

import pandas as pd
import pytest

import boneabm
from boneabm.cli import main
from boneabm.config import load_experiment
from boneabm.errors import UserError
from boneabm.model import BoneModel
from boneabm.signaling import load_network

SMALL = {"seed": 3, "medium": {"rankl_ng_ml": 50}, "domain": {"width_um": 400, "height_um": 400},
         "time": {"duration_h": 12, "snapshot_every_h": 6}}
ADDED = {"observables": {"rank_all": ["RANK", "RANK_L"]}, "counters": {"rankl_bindings": "rankl_binding"}}


def test_added_readouts_are_the_sums_and_counts_they_name(tmp_path):
    run = boneabm.run({**SMALL, "signaling": ADDED}, out=tmp_path / "run", checkpoint_every_h=6)
    cells, ts = run.cells, run.timeseries.set_index("time_h")
    assert {"rank_all", "rankl_bindings"} <= set(cells.columns)
    assert {"rank_all_mean", "rank_all_sd", "rankl_bindings_total"} <= set(ts.columns)
    dictionary = pd.read_csv(run.path / "columns.csv")
    assert {"rank_all", "rankl_bindings", "rankl_bindings_total"} <= set(dictionary["column"])
    # the model's own arrays: rank_all is RANK + RANK_L of every cell, the counter its RANKL-binding firings
    model = BoneModel(load_experiment(data={**SMALL, "signaling": ADDED}))
    for _ in range(30):
        model.step()
    network, pop = model.network, model.population
    rows = pop.rows
    both = pop.molecules[rows][:, [network.species_index("RANK"), network.species_index("RANK_L")]].sum(axis=1)
    assert list(network.observables) == [*load_network("rank").observables, "rank_all"]
    assert (pop.molecules[rows][:, network.observables["rank_all"]].sum(axis=1) == both).all()
    assert pop.counters[rows][:, list(network.counters).index("rankl_bindings")].sum() > 0
    # the snapshot at 12 h holds the same sum, cell by cell, as the run's own arrays would
    at12 = cells[cells.time_h == 12.0]
    assert at12["rank_all"].sum() > 0 and ts.loc[12.0, "rankl_bindings_total"] >= at12["rankl_bindings"].sum()
    # a fork from the run's checkpoint keeps them (the network it continues is the network plus the readouts)
    checkpoint = run.path / "checkpoints" / "checkpoint-000006.000h.npz"
    forked = boneabm.fork(checkpoint, out=tmp_path / "fork")
    assert "rank_all" in forked.cells.columns
    # a fork may start pulses (what happens from now on), not change the readouts (the tables' columns)
    pulsed = boneabm.fork(checkpoint, out=tmp_path / "pulsed", overrides=[
        "signaling.pulses=[{species: CaN_a, molecules: 3, period_min: 4, duration_min: 1, start_h: 6}]"])
    assert pulsed.metadata["forked_from"]["changes"]["signaling.pulses"][0]["period_min"] == 4
    with pytest.raises(UserError, match="signaling.observables"):
        boneabm.fork(checkpoint, out=tmp_path / "readouts", overrides=["signaling.observables={x: [RANK]}"])
    assert not (tmp_path / "readouts").exists()


@pytest.mark.parametrize("signaling, named", [
    ({"observables": {"rank_all": ["RANK", "RANKK"]}}, "unknown species 'RANKK'"),
    ({"counters": {"bindings": "rankl_bindng"}}, "unknown reaction 'rankl_bindng'"),
    ({"observables": {"cfos": ["cFos"]}}, "cfos already named by the network's own outputs"),
    ({"observables": {"nuclei": ["cFos"]}}, "give columns the table already has: nuclei"),
])
def test_bad_added_readouts_are_refused_before_any_work(tmp_path, capsys, signaling, named):
    with pytest.raises(UserError, match="signaling.observables / signaling.counters"):
        load_experiment(data={**SMALL, "signaling": signaling})
    (tmp_path / "bad.yaml").write_text(__import__("yaml").safe_dump({**SMALL, "signaling": signaling}))
    assert main(["run", str(tmp_path / "bad.yaml"), "--out", str(tmp_path / "out")]) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
