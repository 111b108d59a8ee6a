"""Spatial snapshots (issue 17): a run records its cells and maps every time.spatial_every_h into snapshots/,
readable by pandas and numpy directly, agreeing with the run's own tables; the tables do not change."""

import numpy as np
import pandas as pd
import pytest

import boneabm
from boneabm.errors import UserError
from boneabm.snapshots import read_frame, require_snapshots, snapshot_times

RUN = {"name": "snap", "seed": 5, "medium": {"rankl_ng_ml": 50},
       "domain": {"width_um": 500, "height_um": 500},
       "time": {"duration_h": 36, "record_every_h": 1, "snapshot_every_h": 12}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("snapshots")
    with_default = boneabm.run(RUN, out=base / "default")
    every_6 = boneabm.run({**RUN, "time": {**RUN["time"], "spatial_every_h": 6}}, out=base / "every6")
    return with_default, every_6


def test_snapshots_follow_their_interval_and_leave_the_tables_byte_identical(runs):
    with_default, every_6 = runs
    assert snapshot_times(with_default.path) == [0.0, 12.0, 24.0, 36.0]  # null: with cells.csv
    assert snapshot_times(every_6.path) == [0.0, 6.0, 12.0, 18.0, 24.0, 30.0, 36.0]
    for name in ("timeseries.csv", "cells.csv", "events.csv", "bone.csv", "osteoclasts.csv"):
        assert (with_default.path / name).read_bytes() == (every_6.path / name).read_bytes(), name


def test_a_snapshot_holds_what_the_run_tables_say(runs):
    run = runs[1]
    # pandas reads the whole folder as one table, every time at once
    cells = pd.read_parquet(run.path / "snapshots" / "cells")
    assert sorted(cells["time_h"].unique()) == snapshot_times(run.path)
    for t in (12.0, 36.0):
        frame = read_frame(run.path, t)
        table = run.cells[run.cells.time_h == t].reset_index(drop=True)
        assert frame.cells["cell_id"].tolist() == table["cell_id"].tolist()
        assert np.allclose(frame.cells["x_um"], table["x_um"]) and np.allclose(frame.cells["y_um"], table["y_um"])
        assert frame.cells["state"].astype(str).tolist() == table["state"].astype(str).tolist()
        assert (frame.cells["nuclei"].to_numpy() == table["nuclei"].to_numpy()).all()
        assert set(frame.cells["lineage"].astype(str)) == {"osteoclast"}
    # the last depth map is bone.csv's resorbed pixels; the field maps average to timeseries.csv's means
    last = read_frame(run.path, 36.0)
    with np.load(run.path / "snapshots" / "maps" / "t0000036.000h.npz") as data:
        assert data["mineral_depth_um"].dtype == np.float32 and data["mineral_depth_um"].shape == (100, 100)
    depth = last.maps["mineral_depth_um"]
    assert depth.shape == (100, 100) and np.isclose(depth.sum(), run.bone["mineral_depth_um"].sum(), rtol=1e-5)
    assert last.maps["mcsf_ng_ml"].shape == (20, 20)
    row = run.timeseries.set_index("time_h").loc[36.0]
    for column in ("mcsf_ng_ml", "rankl_free_ng_ml", "opg_free_ng_ml"):
        assert np.isclose(last.maps[column].mean(), row[column], rtol=1e-4), column


def test_a_run_without_snapshots_is_named(tmp_path, runs):
    with pytest.raises(UserError, match="no spatial snapshots"):
        require_snapshots(tmp_path)
    assert require_snapshots(runs[0].path) == [0.0, 12.0, 24.0, 36.0]


def test_the_interval_must_be_whole_ticks():
    from boneabm.config import load_experiment

    with pytest.raises(UserError, match="time.spatial_every_h = 0.05: not a whole number"):
        load_experiment(data={**RUN, "time": {**RUN["time"], "spatial_every_h": 0.05}})
