"""The notebook API: boneabm.run and boneabm.load_run."""

import pandas as pd
import pytest

import boneabm
from boneabm.errors import UserError


def test_run_returns_tables_with_sensible_dtypes_and_load_run_reads_them_back(tmp_path, small):
    result = boneabm.run(small(), seed=3, out=tmp_path / "r")
    assert result.metadata["status"] == "complete" and result.config["seed"] == 3
    ts, cells, events = result.timeseries, result.cells, result.events
    assert list(ts["time_h"]) == [float(h) for h in range(49)]  # t = 0 and every hour to 48 h
    assert ts["n_precursors"].dtype == "int64" and ts["mcsf_ng_ml"].dtype == "float64"
    assert cells["cell_id"].dtype == "int64" and events["partner_id"].dtype == "Int64"
    assert sorted(cells["time_h"].unique()) == [0.0, 12.0, 24.0, 36.0, 48.0]
    # the tables agree with each other
    assert (cells.groupby("time_h").size().values == ts.set_index("time_h").loc[[0, 12, 24, 36, 48],
                                                                              "n_precursors"].values).all()
    divisions = events[events["event"] == "division"]
    assert len(divisions) == ts["divisions_total"].iloc[-1]
    assert events.loc[events["event"] == "death", "partner_id"].isna().all()
    again = boneabm.load_run(result.path)
    pd.testing.assert_frame_equal(again.cells, result.cells)


def test_run_accepts_a_path_and_overrides(tmp_path, small_yaml):
    result = boneabm.run(small_yaml(), out=tmp_path / "r", overrides=["medium.mcsf_ng_ml=0"])
    assert result.config["medium"]["mcsf_ng_ml"] == 0
    ts = result.timeseries
    assert (ts["mcsf_ng_ml"] == 0).all()
    # no M-CSF, (almost) no proliferation: only cells whose bound CSF-1R from before plating still signals in
    # the first hour divide
    assert ts["divisions_total"].iloc[-1] <= 0.05 * ts["n_cells"].iloc[0]


def test_load_run_names_what_is_missing(tmp_path):
    (tmp_path / "r.partial").mkdir()
    with pytest.raises(UserError, match="unfinished run is at"):
        boneabm.load_run(tmp_path / "r")
    with pytest.raises(UserError, match="not a boneabm run directory"):
        boneabm.load_run(tmp_path / "r.partial")


def test_after_the_first_run_a_full_garbage_collection_scans_only_what_runs_made(tmp_path, small_yaml):
    """The process's long-lived objects (its modules': ≈ 230,000 after importing boneabm) are frozen at its first
    model (``model._freeze_long_lived``), so a full collection, which a run makes now and then, no longer scans
    them all (≈ 0.12 s each time, in every run after the first of a sweep's worker or a notebook). In a process of
    its own, as a user's: this one holds what the other tests made."""
    import json
    import subprocess
    import sys

    script = (
        "import gc, json, sys, boneabm\n"
        "for k in (1, 2):\n"
        "    boneabm.run(sys.argv[1], seed=k, out=sys.argv[2] + f'/{k}')\n"
        "gc.collect()\n"
        "print(json.dumps([gc.get_freeze_count(), len(gc.get_objects())]))\n")
    out = subprocess.run([sys.executable, "-c", script, str(small_yaml()), str(tmp_path)], capture_output=True,
                         text=True, check=True).stdout
    frozen, scanned = json.loads(out.strip().splitlines()[-1])
    assert frozen > 100_000  # the modules' objects, at least
    assert scanned < frozen / 2  # what a full collection scans now
