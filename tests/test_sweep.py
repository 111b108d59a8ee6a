"""Sweeps: expansion and seeds, execution on dask.distributed and as array tasks, resume, failure isolation,
and the summary tables."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from pathlib import Path

from boneabm.api import load_run as boneabm_load
from boneabm.catalog import KINDS
from boneabm.cli import main
from boneabm.errors import UserError
from boneabm.files import claimed
from boneabm.signaling.network import network_path
from boneabm.sweep import collect, load_sweep, run_sweep
from boneabm.sweep.spec import run_seed

from conftest import SMALL, merged

# every run: a 20 x 20 site culture with RANKL for 24 h (about a second)
BASE = merged(SMALL, {"time": {"duration_h": 24}, "medium": {"rankl_ng_ml": 50}})
TABLES = ("timeseries.csv", "cells.csv", "events.csv", "osteoclasts.csv", "osteoclast_days.csv", "bone.csv")


@pytest.fixture
def write_sweep(tmp_path):
    """write_sweep(**spec) -> path of a sweep file over the small base experiment (seed 11 unless given)."""
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))

    def write(name="sweep.yaml", **spec):  # seed=None: a sweep file without seed:
        path = tmp_path / name
        content = {"sweep": "tiny", "base": "base.yaml", "seed": 11, **spec}
        path.write_text(yaml.safe_dump({k: v for k, v in content.items() if v is not None}, sort_keys=False))
        return path

    return write


GRID = {"medium.rankl_ng_ml": [0, 50], "medium.opg_ng_ml": [0, 100]}


# ----------------------------------------------------------------------------------------------------------
# Expansion


def test_a_grid_expands_to_every_combination_times_the_replicates(write_sweep):
    sweep = load_sweep(write_sweep(grid=GRID, replicates=3))
    assert len(sweep.runs) == 2 * 2 * 3
    assert [r.index for r in sweep.runs] == list(range(12))
    assert {(r.values["medium.rankl_ng_ml"], r.values["medium.opg_ng_ml"], r.replicate) for r in sweep.runs} == {
        (a, b, k) for a in (0, 50) for b in (0, 100) for k in range(3)}
    run = next(r for r in sweep.runs if r.values == {"medium.rankl_ng_ml": 50, "medium.opg_ng_ml": 100}
               and r.replicate == 2)
    assert run.run_id == "rankl_ng_ml=50__opg_ng_ml=100__rep2"
    # each run is the base with its values and its own seed, and nothing else changed
    assert run.experiment.medium.rankl_ng_ml == 50 and run.experiment.medium.opg_ng_ml == 100
    assert run.experiment.seed == run.seed and run.experiment.name == "tiny"
    assert run.experiment.domain == load_sweep(write_sweep(grid=GRID)).runs[0].experiment.domain
    assert len({r.seed for r in sweep.runs}) == 12


def test_seeds_and_ids_do_not_change_when_a_grid_value_or_replicate_is_added(write_sweep):
    before = {r.run_id: r.seed for r in load_sweep(write_sweep(grid=GRID, replicates=2)).runs}
    wider = {**GRID, "medium.rankl_ng_ml": [0, 25, 50]}
    after = {r.run_id: r.seed for r in load_sweep(write_sweep(grid=wider, replicates=3)).runs}
    assert len(after) == 3 * 2 * 3
    assert {run_id: after[run_id] for run_id in before} == before


def test_run_seeds_are_stable_across_versions():
    """The hash is of the values themselves (sha256 of canonical JSON), not Python's salted hash(): a seed
    printed in a paper's methods stays the seed of that run."""
    assert run_seed(11, {"medium.rankl_ng_ml": 0, "medium.opg_ng_ml": 0}, 0) == 8936359002082956751
    assert run_seed(11, {"medium.opg_ng_ml": 0, "medium.rankl_ng_ml": 0}, 0) == 8936359002082956751
    assert run_seed(11, {"medium.rankl_ng_ml": 0, "medium.opg_ng_ml": 0}, 1) != 8936359002082956751
    assert run_seed(12, {"medium.rankl_ng_ml": 0, "medium.opg_ng_ml": 0}, 0) != 8936359002082956751


def test_latin_hypercube_samples_cover_each_stratum_once_within_their_ranges(write_sweep):
    ranges = {"osteoclasts.fusion_rate_per_h": [0.5, 4.0],
              "fields.rankl_opg_kd_nM": {"low": 1e-3, "high": 1e-1, "scale": "log"}}
    n = 10
    sweep = load_sweep(write_sweep(sample={"method": "lhs", "n": n, "ranges": ranges}))
    assert [r.run_id for r in sweep.runs] == [f"sample{k}__rep0" for k in range(n)]
    fusion = np.array([r.values["osteoclasts.fusion_rate_per_h"] for r in sweep.runs])
    kd = np.array([r.values["fields.rankl_opg_kd_nM"] for r in sweep.runs])
    # one point in each tenth of the range: linear for the fusion rate, in log for the K_D
    assert sorted(np.floor((fusion - 0.5) / 3.5 * n).astype(int)) == list(range(n))
    assert sorted(np.floor(np.log(kd / 1e-3) / np.log(100) * n).astype(int)) == list(range(n))
    assert [r.experiment.osteoclasts.fusion_rate_per_h for r in sweep.runs] == fusion.tolist()


def test_samples_are_combined_with_every_grid_point_and_unchanged_by_the_grid(write_sweep):
    sample = {"method": "random", "n": 3, "ranges": {"precursors.plating_density_per_cm2": [1e4, 3e4]}}
    alone = load_sweep(write_sweep(sample=sample)).runs
    combined = load_sweep(write_sweep(grid={"medium.rankl_ng_ml": [10, 50]}, sample=sample, replicates=2)).runs
    assert len(combined) == 2 * 3 * 2
    assert combined[0].run_id == "rankl_ng_ml=10__sample0__rep0"
    points = {r.values["precursors.plating_density_per_cm2"] for r in combined}
    assert points == {r.values["precursors.plating_density_per_cm2"] for r in alone}
    assert all(1e4 <= p <= 3e4 for p in points)


def test_a_sampled_key_whose_value_is_an_integer_gets_integers(write_sweep):
    sweep = load_sweep(write_sweep(sample={"n": 5, "ranges": {"osteoclasts.min_nuclei": [2, 6]}}))
    values = [r.values["osteoclasts.min_nuclei"] for r in sweep.runs]
    assert all(type(v) is int and 2 <= v <= 6 for v in values)


def test_gene_lists_can_be_swept_and_read_well(write_sweep):
    sweep = load_sweep(write_sweep(grid={"signaling.knockouts": [[], ["Tyrobp"], ["Tyrobp", "Fcer1g"]]}))
    assert [r.run_id for r in sweep.runs] == ["knockouts=none__rep0", "knockouts=Tyrobp__rep0",
                                              "knockouts=Tyrobp+Fcer1g__rep0"]
    assert [len(r.experiment.signaling.knockouts) for r in sweep.runs] == [0, 1, 2]
    assert sweep.listing()["signaling.knockouts"].tolist() == ["none", "Tyrobp", "Tyrobp+Fcer1g"]


@pytest.mark.parametrize("spec, message", [
    ({"grid": GRID, "replicate": 2}, "replicate: unknown key"),
    ({"grid": {"medium.rankl": [0, 50]}}, "medium.rankl: the experiment has no key 'rankl' in medium "
                                          "(did you mean 'medium.rankl_ng_ml'?)"),
    ({"grid": {"medium.rankl_ng_ml": []}}, "grid: medium.rankl_ng_ml: empty list of values"),
    ({"sample": {"n": 4, "ranges": {"medium.opg_ng_ml": [100, 10]}}},
     "empty range: low = 100.0 must be below high = 10.0"),
    ({"sample": {"n": 4, "ranges": {"medium.opg_ng_ml": {"low": 0, "high": 10, "scale": "log"}}}},
     "a log range needs low > 0"),
    ({"grid": {"medium.rankl_ng_ml": [10, -5]}}, "run rankl_ng_ml=-5__rep0:"),
    ({"grid": GRID, "set": ["medium.opg_ng_ml=3"]}, "medium.opg_ng_ml: both fixed in set and varied"),
    ({"grid": GRID, "replicates": 0}, "replicates = 0: Input should be greater than or equal to 1"),
    ({"grid": {"medium.change_every_h": [48, 47.95]}},  # one arm off the ticks: refused before any run starts
     "medium.change_every_h = 47.95: not a whole number of ticks (time.dt_h = 0.1); use a multiple of 0.1 h such "
     "as 47.9 or 48"),
    # issue 16: a seed in the grid or in set was silently replaced by the derived one, while --list showed it
    ({"grid": {"seed": [1, 2]}}, "seed in grid: not a key a sweep varies or sets; a run's seed derives from"),
    ({"grid": GRID, "set": ["seed=5"]}, "seed in set: not a key a sweep varies or sets"),
    ({"grid": {"name": ["a", "b"]}}, "name in grid: not a key a sweep varies or sets"),
    # issue 16: 100 values x 10,000 replicates was still expanding after two minutes
    ({"grid": {"medium.rankl_ng_ml": list(range(100))}, "replicates": 10_000},
     "1,000,000 runs (grid values x sample.n x replicates), more than the 10,000 a sweep may have; give --force"),
])
def test_bad_sweep_files_are_refused_before_anything_runs(write_sweep, tmp_path, capsys, spec, message):
    path = write_sweep(**spec)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert str(path) in error
    assert not out.exists()


def test_sampled_points_that_coincide_once_rounded_run_once_and_a_note_says_so(write_sweep, capsys):
    """Issue 16: an integer key over [3.1, 3.4] gave three runs of the same value under three ids."""
    sweep = load_sweep(write_sweep(sample={"n": 3, "ranges": {"osteoclasts.min_nuclei": [3.1, 3.4]}}))
    assert [run.run_id for run in sweep.runs] == ["sample0__rep0"]
    assert "points 1 (= 0), 2 (= 0) repeat earlier points once rounded" in sweep.notes[0]
    assert "1 distinct points of 3" in sweep.notes[0]
    spread = load_sweep(write_sweep(sample={"n": 5, "ranges": {"osteoclasts.min_nuclei": [2, 6]}}))
    values = [run.values["osteoclasts.min_nuclei"] for run in spread.runs]
    dropped = spread.notes[0].count("(=") if spread.notes else 0
    assert len(set(values)) == len(values) == 5 - dropped  # every value once, none lost but the repeats
    assert main(["sweep", str(write_sweep(sample={"n": 3, "ranges": {"osteoclasts.min_nuclei": [3.1, 3.4]}})),
                 "--list"]) == 0
    assert "boneabm: note: sample: points 1 (= 0), 2 (= 0)" in capsys.readouterr().err


def test_the_size_limit_counts_before_expanding_and_can_be_lifted(write_sweep):
    path = write_sweep(grid=GRID, replicates=2)  # 8 runs
    with pytest.raises(UserError, match="8 runs .* more than the 7 a sweep may have"):
        load_sweep(path, max_runs=7)
    assert len(load_sweep(path, max_runs=8).runs) == 8


def test_list_prints_the_expansion_as_csv(write_sweep, capsys):
    assert main(["sweep", str(write_sweep(grid=GRID)), "--list"]) == 0
    listing = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(listing.columns) == ["index", "run_id", "seed", "replicate", "medium.rankl_ng_ml",
                                     "medium.opg_ng_ml"]
    assert listing["index"].tolist() == [0, 1, 2, 3]
    assert listing.loc[3, "run_id"] == "rankl_ng_ml=50__opg_ng_ml=100__rep0"


# ----------------------------------------------------------------------------------------------------------
# Execution


def _bytes(directory, names=("summary.csv", "timeseries.csv")):
    return {name: (directory / name).read_bytes() for name in names}


@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    """The same 4-run sweep on 1 and on 2 local workers."""
    folder = tmp_path_factory.mktemp("sweeps")
    (folder / "base.yaml").write_text(yaml.safe_dump(BASE))
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({"sweep": "tiny", "base": "base.yaml", "seed": 11,
                                    "grid": {"medium.rankl_ng_ml": [10, 50], "medium.opg_ng_ml": [0, 1000]}},
                                   sort_keys=False))
    sweep = load_sweep(path)
    outcomes = {n: run_sweep(sweep, folder / f"w{n}", workers=n) for n in (1, 2)}
    return sweep, folder, outcomes


@pytest.mark.slow  # the distributed fixture: a sweep on a 1- and a 2-worker local cluster
def test_one_and_two_workers_give_byte_identical_tables(distributed):
    sweep, folder, outcomes = distributed
    assert outcomes[1] == outcomes[2] == {"complete": 4}
    assert _bytes(folder / "w1") == _bytes(folder / "w2")
    for run in sweep.runs:
        assert _bytes(folder / "w1" / run.run_id, TABLES) == _bytes(folder / "w2" / run.run_id, TABLES)


@pytest.mark.slow  # the distributed fixture: a sweep on a 1- and a 2-worker local cluster
def test_two_workers_are_two_single_threaded_processes(distributed):
    sweep, folder, _ = distributed
    metadata = [json.loads((folder / "w2" / r.run_id / "metadata.json").read_text()) for r in sweep.runs]
    assert len({m["pid"] for m in metadata}) == 2
    assert os.getpid() not in {m["pid"] for m in metadata}
    assert {m["numba_threads"] for m in metadata} == {1}
    assert {m["status"] for m in metadata} == {"complete"}


@pytest.mark.slow  # the distributed fixture: a sweep on a 1- and a 2-worker local cluster
def test_the_summary_has_a_row_per_run_with_final_max_and_time_of_max(distributed):
    sweep, folder, _ = distributed
    summary = pd.read_csv(folder / "w1" / "summary.csv")
    assert summary["run_id"].tolist() == [r.run_id for r in sweep.runs]  # the grid is given in order
    assert summary["status"].tolist() == ["complete"] * 4
    assert summary["seed"].tolist() == [next(r.seed for r in sweep.runs if r.run_id == i) for i in summary.run_id]
    assert "wall_s" not in summary.columns
    run = sweep.runs[3]
    series = pd.read_csv(folder / "w1" / run.run_id / "timeseries.csv")
    row = summary.set_index("run_id").loc[run.run_id]
    assert row["medium.opg_ng_ml"] == run.values["medium.opg_ng_ml"]
    assert row["n_cells_final"] == series["n_cells"].iloc[-1]
    assert row["n_cells_max"] == series["n_cells"].max()
    assert row["n_cells_tmax_h"] == series["time_h"][series["n_cells"].idxmax()]
    # OPG at 20-fold RANKL's K_D-weighted excess holds free RANKL down: the sweep sees the effect
    free = summary.groupby("medium.opg_ng_ml")["rankl_free_ng_ml_final"].mean()
    assert free[1000] < 0.2 * free[0]


@pytest.mark.slow  # the distributed fixture: a sweep on a 1- and a 2-worker local cluster
def test_the_combined_timeseries_is_every_run_labelled(distributed):
    sweep, folder, _ = distributed
    combined = pd.read_csv(folder / "w1" / "timeseries.csv")
    labels = ["run_id", "replicate", "medium.rankl_ng_ml", "medium.opg_ng_ml"]
    assert list(combined.columns[:4]) == labels
    for run in sweep.runs:
        own = pd.read_csv(folder / "w1" / run.run_id / "timeseries.csv")
        part = combined[combined.run_id == run.run_id].drop(columns=labels)
        pd.testing.assert_frame_equal(part.reset_index(drop=True), own, check_dtype=False)


def test_tables_list_runs_by_their_varied_values_numerically_then_sample_then_replicate(write_sweep, tmp_path):
    """A grid given as [100, 25, 5] comes out 5, 25, 100 (sorting run ids as text put 100 before 25), keys in
    the file's order, gene lists in the file's order, sampled points by number, replicates in order."""
    from boneabm.sweep.collect import run_order

    sweep = load_sweep(write_sweep(grid={"medium.rankl_ng_ml": [100, 25, 5], "signaling.knockouts": [[], ["Tyrobp"]]},
                                   replicates=2))
    out = tmp_path / "out"
    out.mkdir()
    assert collect(sweep, out) == {"missing": 12}  # nothing ran: the order is the expansion's alone
    summary = pd.read_csv(out / "summary.csv")
    assert summary["medium.rankl_ng_ml"].tolist() == [5] * 4 + [25] * 4 + [100] * 4
    assert summary["signaling.knockouts"].tolist()[:4] == ["none", "none", "Tyrobp", "Tyrobp"]  # as the file lists
    assert summary.replicate.tolist() == [0, 1] * 6
    assert summary.run_id.tolist()[:3] == ["rankl_ng_ml=5__knockouts=none__rep0", "rankl_ng_ml=5__knockouts=none__rep1",
                                           "rankl_ng_ml=5__knockouts=Tyrobp__rep0"]
    assert not (out / "timeseries.csv").exists()

    sample = {"method": "random", "n": 12, "ranges": {"osteoclasts.fusion_rate_per_h": [0.5, 4.0]}}
    sampled = load_sweep(write_sweep(name="sampled.yaml", grid={"medium.rankl_ng_ml": [50, 10]}, sample=sample,
                                     replicates=2))
    ids = [r.run_id for r in run_order(sampled)]
    assert ids[:4] == ["rankl_ng_ml=10__sample00__rep0", "rankl_ng_ml=10__sample00__rep1",
                       "rankl_ng_ml=10__sample01__rep0", "rankl_ng_ml=10__sample01__rep1"]
    assert len(ids) == 48 and ids[-2:] == ["rankl_ng_ml=50__sample11__rep0", "rankl_ng_ml=50__sample11__rep1"]
    assert [i.split("__")[1] for i in ids[::2][:12]] == [f"sample{k:02d}" for k in range(12)]


def test_a_parquet_sweep_collects_its_time_series_as_parquet(write_sweep, tmp_path):
    path = write_sweep(grid={"medium.rankl_ng_ml": [25, 5]}, set=["output.format=parquet", "time.duration_h=6"])
    sweep = load_sweep(path)
    out = tmp_path / "out"
    for index in (1, 0):
        assert main(["sweep", str(path), "--out", str(out), "--index", str(index), "--quiet"]) == 0
    assert (out / sweep.runs[0].run_id / "timeseries.parquet").is_file()
    assert main(["sweep", str(path), "--out", str(out), "--collect", "--quiet"]) == 0
    assert not (out / "timeseries.csv").exists()
    combined = pd.read_parquet(out / "timeseries.parquet")
    assert combined.run_id.unique().tolist() == ["rankl_ng_ml=5__rep0", "rankl_ng_ml=25__rep0"]
    summary = pd.read_csv(out / "summary.csv")
    own = boneabm_load(out / "rankl_ng_ml=5__rep0").timeseries
    part = combined[combined.run_id == "rankl_ng_ml=5__rep0"].drop(columns=["run_id", "replicate",
                                                                           "medium.rankl_ng_ml"])
    pd.testing.assert_frame_equal(part.reset_index(drop=True), own)
    assert summary.loc[0, "n_cells_final"] == own.n_cells.iloc[-1]
    before = (out / "timeseries.parquet").read_bytes()
    assert main(["sweep", str(path), "--out", str(out), "--collect", "--quiet"]) == 0
    assert (out / "timeseries.parquet").read_bytes() == before


@pytest.mark.slow  # the distributed fixture: a sweep on a 1- and a 2-worker local cluster
def test_index_runs_write_what_the_distributed_sweep_wrote_and_collect_gives_its_summary(distributed, tmp_path,
                                                                                         capsys):
    sweep, folder, _ = distributed
    out = tmp_path / "array"
    for index in range(len(sweep.runs)):  # as an array job's tasks would, in any order
        assert main(["sweep", str(sweep.path), "--out", str(out), "--index", str(3 - index)]) == 0
    for run in sweep.runs:
        assert _bytes(out / run.run_id, TABLES) == _bytes(folder / "w1" / run.run_id, TABLES)
    assert main(["sweep", str(sweep.path), "--out", str(out), "--collect"]) == 0
    assert _bytes(out) == _bytes(folder / "w1")
    assert main(["sweep", str(sweep.path), "--out", str(out), "--index", "0"]) == 0  # done: not run again
    assert "already complete" in capsys.readouterr().err
    assert main(["sweep", str(sweep.path), "--out", str(out), "--index", "4"]) == 2


@pytest.mark.slow  # the distributed fixture: a sweep on a 1- and a 2-worker local cluster
def test_collect_reports_missing_runs_and_exits_1(distributed, tmp_path, capsys):
    sweep, _, _ = distributed
    out = tmp_path / "array"
    assert main(["sweep", str(sweep.path), "--out", str(out), "--index", "1"]) == 0
    assert main(["sweep", str(sweep.path), "--out", str(out), "--collect"]) == 1
    assert "3 of 4 runs not complete (3 missing)" in capsys.readouterr().err
    summary = pd.read_csv(out / "summary.csv")
    assert summary.status.tolist().count("missing") == 3
    assert len(pd.read_csv(out / "timeseries.csv").run_id.unique()) == 1


@pytest.mark.slow  # the distributed fixture: a sweep on a 1- and a 2-worker local cluster
def test_an_existing_directory_is_refused_without_resume(distributed, capsys):
    sweep, folder, _ = distributed
    before = _bytes(folder / "w1")
    assert main(["sweep", str(sweep.path), "--out", str(folder / "w1")]) == 2
    assert "--resume" in capsys.readouterr().err
    assert _bytes(folder / "w1") == before


@pytest.mark.slow  # the distributed fixture: a sweep on a 1- and a 2-worker local cluster
def test_resume_refuses_a_sweep_that_now_expands_differently(distributed, tmp_path, capsys):
    sweep, folder, _ = distributed
    out = tmp_path / "copy"
    shutil.copytree(folder / "w1", out)
    changed = yaml.safe_load(sweep.path.read_text())
    changed["grid"]["medium.opg_ng_ml"] = [0, 500]
    other = sweep.path.with_name("changed.yaml")
    other.write_text(yaml.safe_dump(changed, sort_keys=False))
    assert main(["sweep", str(other), "--out", str(out), "--resume"]) == 2
    error = capsys.readouterr().err
    assert "expands differently" in error and "run rankl_ng_ml=10__opg_ng_ml=500__rep0 is new" in error
    assert "run rankl_ng_ml=50__opg_ng_ml=1000__rep0 is gone" in error
    assert main(["sweep", str(other), "--out", str(out), "--collect"]) == 2


@pytest.mark.slow  # two local Dask clusters
def test_a_failing_run_is_isolated_recorded_and_redone_by_resume(write_sweep, tmp_path, capsys):
    """A run whose network file vanished after the sweep was checked fails in its worker; the others
    finish, the summary says which failed and why, the command exits 1, and --resume redoes only it."""
    network = tmp_path / "custom_network.yaml"
    shutil.copyfile(network_path("rank"), network)
    path = write_sweep(grid={"signaling.network": ["rank", "custom_network.yaml"]})
    sweep = load_sweep(path)
    network.unlink()
    out = tmp_path / "out"
    assert run_sweep(sweep, out, workers=1) == {"complete": 1, "failed": 1}
    summary = pd.read_csv(out / "summary.csv").set_index("run_id")
    failed = summary.loc["network=custom_network.yaml__rep0"]
    assert failed.status == "failed" and "custom_network.yaml': no such file" in failed.error
    assert summary.loc["network=rank__rep0"].status == "complete"
    assert (out / "network=custom_network.yaml__rep0.partial" / "metadata.json").exists()

    shutil.copyfile(network_path("rank"), network)
    before = (out / "network=rank__rep0" / "timeseries.csv").stat().st_mtime_ns
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--workers", "1", "--quiet"]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert summary.status.tolist() == ["complete", "complete"]
    assert (out / "network=rank__rep0" / "timeseries.csv").stat().st_mtime_ns == before  # skipped, not redone
    assert not (out / "network=custom_network.yaml__rep0.partial").exists()


@pytest.mark.slow  # two sweeps in subprocesses
def test_a_sweep_killed_midway_and_resumed_ends_as_if_never_interrupted(distributed, tmp_path):
    """SIGKILL to the whole sweep (as a scheduler's hard kill does) leaves complete runs and one in .partial;
    --resume finishes it with tables identical to the uninterrupted sweep."""
    sweep, folder, _ = distributed
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "boneabm", "sweep", str(sweep.path), "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not any(p.is_dir() for p in out.glob("*__rep*") if not p.name.endswith(".partial")):
        assert process.poll() is None and time.monotonic() < deadline, "the sweep ended before it could be killed"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    complete = [r for r in sweep.runs if (out / r.run_id).is_dir()]
    assert 1 <= len(complete) < len(sweep.runs)
    assert not (out / "summary.csv").exists()

    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(complete)} of 4 runs already complete" in resumed.stderr
    assert _bytes(out) == _bytes(folder / "w1")
    assert not list(out.glob("*.partial"))


@pytest.mark.slow  # two sweeps at once, each on its own one-worker cluster
def test_two_sweeps_into_one_out_started_together_cannot_both_write_it(distributed, tmp_path):
    """Both exited 0 with every run's time series interleaving both processes' rows (issue 16): now one runs,
    the other is refused with exit 2, and the tables are those of one sweep."""
    sweep, folder, _ = distributed
    out = tmp_path / "shared"
    command = [sys.executable, "-m", "boneabm", "sweep", str(sweep.path), "--out", str(out), "--workers", "1"]
    first, second = (subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for _ in range(2))
    results = sorted((p.wait(timeout=600), p.stderr.read()) for p in (first, second))
    (ok, _), (refused, message) = results
    assert (ok, refused) == (0, 2), results
    assert "another boneabm process is writing there" in message or "already exists" in message
    assert _bytes(out) == _bytes(folder / "w1")



def test_resume_refuses_a_sweep_another_process_holds(write_sweep, tmp_path, capsys):
    path, out = write_sweep(grid=GRID), tmp_path / "held"
    out.mkdir()
    with claimed(out / ".sweep.lock", "the test"):  # as a running sweep holds it
        assert main(["sweep", str(path), "--out", str(out), "--resume", "--workers", "1"]) == 2
    assert "another boneabm process is writing there" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == [".sweep.lock"]  # nothing read or written


@pytest.mark.slow  # a second cluster and a sweep on it
def test_a_running_scheduler_is_used_when_given(distributed, tmp_path):
    from distributed import LocalCluster

    sweep, folder, _ = distributed
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        out = tmp_path / "remote"
        assert main(["sweep", str(sweep.path), "--out", str(out), "--scheduler", cluster.scheduler_address,
                     "--quiet"]) == 0
    assert _bytes(out) == _bytes(folder / "w1")


@pytest.mark.slow  # dask's fixed 10-s connect timeout
def test_an_unreachable_scheduler_is_bad_input(write_sweep, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(write_sweep(grid=GRID)), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "--scheduler tcp://127.0.0.1:9: cannot connect" in capsys.readouterr().err


def test_slurm_and_pbs_workers_are_single_threaded_jobs_from_dask_jobqueue_configuration():
    import dask
    import dask_jobqueue  # noqa: F401 - its defaults must be loaded before the settings below

    from boneabm.sweep.engine import _jobqueue_cluster

    settings = {"cores": 4, "memory": "8GB", "walltime": "02:00:00", "queue": "normal",
                "job-script-prologue": ["module load python/3.12"]}
    for kind, directive in (("slurm", "#SBATCH -p normal"), ("pbs", "#PBS -q normal")):
        with dask.config.set({f"jobqueue.{kind}.{key}": value for key, value in settings.items()}):
            cluster = _jobqueue_cluster(kind)
            try:
                script = cluster.job_script()
            finally:
                cluster.close()
        assert directive in script
        assert script.index("module load python/3.12") < script.index("export NUMBA_NUM_THREADS=1")
        assert "--nthreads 1" in script and "--nworkers 4" in script


def test_a_cluster_without_its_configuration_or_extra_is_bad_input(write_sweep, tmp_path, capsys, monkeypatch):
    import dask

    path, out = write_sweep(grid=GRID), tmp_path / "out"
    with dask.config.set({"jobqueue.slurm.cores": None}):
        assert main(["sweep", str(path), "--out", str(out), "--cluster", "slurm"]) == 2
    assert "jobqueue.slurm.cores is not configured" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # as if the [cluster] extra were not installed
    assert main(["sweep", str(path), "--out", str(out), "--cluster", "pbs"]) == 2
    assert "pip install -e '.[cluster]'" in capsys.readouterr().err


@pytest.mark.slow  # the distributed fixture: a sweep on a 1- and a 2-worker local cluster
def test_the_readme_dose_response_snippet_runs_on_a_sweep(distributed, tmp_path, monkeypatch):
    """The README's pandas lines plot a dose-response from a sweep's tables as written."""
    import re

    import matplotlib

    matplotlib.use("Agg")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    snippet = next(block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if "summary.csv" in block)
    sweep, folder, _ = distributed
    shutil.copytree(folder / "w1", tmp_path / "runs" / "rankl_opg")
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README.md", "exec"), {})
    assert (tmp_path / "dose_response.png").stat().st_size > 5000


def test_the_shipped_sweeps_expand():
    folder = KINDS["sweep"]
    sweeps = {path.name: load_sweep(path) for path in folder.glob("*_sweep.yaml")}
    assert len(sweeps["rankl_opg_sweep.yaml"].runs) == 5 * 4 * 3
    assert len(sweeps["fusion_sensitivity_sweep.yaml"].runs) == 32
    for sweep in sweeps.values():
        assert all(run.experiment.domain.width_um == 1500 for run in sweep.runs)


def test_two_local_sweeps_at_once_do_not_compete_for_a_port(recwarn):
    """Dask's scheduler serves health checks over HTTP even with the dashboard off; on the default port 8787 a
    second sweep on the same machine would warn and move. Each local cluster takes a free loopback port."""
    from boneabm.sweep.engine import _client

    clients = [_client(1, None, None, 1) for _ in range(2)]
    try:
        ports = {cluster.scheduler.http_server.port for _, cluster in clients}
    finally:
        for client, cluster in clients:
            client.close()
            cluster.close()
    assert len(ports) == 2 and 8787 not in ports
    assert not [w for w in recwarn if "already in use" in str(w.message)]


def _worker_state(dask_worker):
    import signal
    import sys

    import numba

    return {"boneabm imported before any task": "boneabm.runner" in sys.modules,
            "numba threads": numba.get_num_threads(), "SIGINT": signal.getsignal(signal.SIGINT),
            "profiler": "profile" in dask_worker.periodic_callbacks,
            "shortest watch interval, ms": min(dask_worker.periodic_callbacks[name].callback_time
                                     for name in ("tick", "monitor", "memory_monitor"))}


def test_local_workers_start_with_boneabm_imported_single_threaded_ignoring_ctrl_c_and_unprofiled():
    """Local workers are forked from a server that imported boneabm (each imported it at its first run: ≈ 3 s
    of every sweep), with one numba thread (read when numba is imported, in the server), SIGINT ignored (the
    sweep handles Ctrl-C), without Dask's statistical profiler (≈ 10 % of a run) and with its event-loop,
    system and memory watches once a second at most (every 20, 500 and 100 ms: ≈ 5 % of a run)."""
    from boneabm.sweep.engine import _client

    client, cluster = _client(2, None, None, 2)
    try:
        states = list(client.run(_worker_state).values())
    finally:
        client.close()
        cluster.close()
    assert len(states) == 2
    assert all(state == {"boneabm imported before any task": True, "numba threads": 1,
                         "SIGINT": signal.SIG_IGN, "profiler": False, "shortest watch interval, ms": 1000}
               for state in states), states


def test_without_a_fork_server_none_is_started(monkeypatch):
    """Where multiprocessing has no fork server (Windows), no server is started (the local cluster then spawns
    its workers, as before)."""
    import multiprocessing

    from boneabm import workers

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(multiprocessing, "get_context", lambda *a: pytest.fail("a fork server was started"))
    monkeypatch.setenv("PYTHONWARNINGS", "")
    workers.start_worker_server()
    assert os.environ["PYTHONWARNINGS"] == "" and not workers.forking()  # nothing touched


def test_an_interrupt_while_the_local_cluster_starts_stops_it_whole(monkeypatch):
    """A Ctrl-C or SIGTERM that arrives while the workers start is held until the cluster is up, which is then
    closed before the interrupt goes on: interrupted halfway, a starting worker left Dask's exit handler and
    the forked child each printing a traceback."""
    import distributed

    from boneabm.sweep.engine import _client

    started, real = [], distributed.LocalCluster

    def interrupted_while_starting(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # arrives before the cluster is up
        cluster = real(*args, **kwargs)
        started.append(cluster)
        return cluster

    from boneabm.cli import _terminate  # what `boneabm sweep` does on SIGTERM: raise KeyboardInterrupt

    monkeypatch.setattr(distributed, "LocalCluster", interrupted_while_starting)
    before = signal.signal(signal.SIGTERM, _terminate)
    try:
        with pytest.raises(KeyboardInterrupt):
            _client(1, None, None, 1)
        assert signal.getsignal(signal.SIGTERM) is _terminate  # the command's own handling is back
    finally:
        signal.signal(signal.SIGTERM, before)
    assert len(started) == 1 and started[0].status.name == "closed"


def test_a_batch_cluster_scales_with_the_work_up_to_workers():
    """--cluster starts no job up front: it adapts between none and --workers (default: one per run)."""
    import dask
    import dask_jobqueue  # noqa: F401 - its defaults must be loaded before the settings below

    from boneabm.sweep.engine import _client

    with dask.config.set({"jobqueue.slurm.cores": 4, "jobqueue.slurm.memory": "8GB"}):
        for workers, n_runs, maximum in ((None, 7, 7), (3, 7, 3)):
            client, cluster = _client(workers, None, "slurm", n_runs)
            try:
                assert (cluster._adaptive.minimum, cluster._adaptive.maximum) == (0, maximum)
                assert not cluster.workers  # nothing submitted before there is work
            finally:
                client.close()
                cluster.close()


# ----------------------------------------------------------------------------------------------------------
# Sweep seeds: optional in the file, drawn fresh and recorded when absent


def test_a_sweep_without_seed_draws_a_fresh_one_and_seed_overrides_the_file(write_sweep):
    seedless = write_sweep(grid=GRID, seed=None)
    first, second = load_sweep(seedless), load_sweep(seedless)
    assert first.seed != second.seed  # two sweeps of the same file are replicates, not copies
    assert [r.seed for r in first.runs] == [run_seed(first.seed, r.values, r.replicate) for r in first.runs]
    assert [r.seed for r in load_sweep(seedless, seed=5).runs] == [r.seed for r in load_sweep(seedless, seed=5).runs]
    pinned = write_sweep(grid=GRID)  # seed: 11 in the file
    assert load_sweep(pinned).seed == 11
    assert [r.seed for r in load_sweep(pinned, seed=12).runs] == [run_seed(12, r.values, r.replicate)
                                                                  for r in load_sweep(pinned).runs]


def test_list_of_a_seedless_sweep_says_which_seed_it_used_and_seed_repeats_it(write_sweep, capsys):
    path = write_sweep(grid=GRID, seed=None)
    assert main(["sweep", str(path), "--list"]) == 0
    captured = capsys.readouterr()
    drawn = int(captured.err.split("these runs use seed ")[1].split(",")[0])
    assert f"--seed {drawn} runs exactly them" in captured.err
    assert main(["sweep", str(path), "--list", "--seed", str(drawn)]) == 0
    again = capsys.readouterr()
    assert again.out == captured.out and "drawn fresh" not in again.err


def test_index_of_a_seedless_sweep_needs_a_seed(write_sweep, tmp_path, capsys):
    path, out = write_sweep(grid=GRID, seed=None), tmp_path / "array"
    assert main(["sweep", str(path), "--out", str(out), "--index", "0"]) == 2
    error = capsys.readouterr().err
    assert "--index 0" in error and "--seed N" in error and "seed: N" in error and "Traceback" not in error
    assert not out.exists()
    assert main(["sweep", str(path), "--out", str(out), "--index", "0", "--seed", "5"]) == 0
    run = load_sweep(path, seed=5).runs[0]
    assert json.loads((out / run.run_id / "metadata.json").read_text())["seed"] == run.seed
    assert json.loads((out / "sweep.json").read_text())["seed"] == 5


@pytest.mark.slow  # two local Dask clusters
def test_a_seedless_sweep_records_its_seed_and_resume_and_collect_reuse_it(write_sweep, tmp_path, capsys):
    path, out = write_sweep(grid={"medium.opg_ng_ml": [0, 100]}, seed=None), tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    err = capsys.readouterr().err
    drawn = json.loads((out / "sweep.json").read_text())["seed"]
    assert f"sweep seed {drawn} drawn fresh" in err and f"--seed {drawn} repeats this sweep" in err
    expected = {r.run_id: r.seed for r in load_sweep(path, seed=drawn).runs}
    assert dict(zip(*pd.read_csv(out / "summary.csv")[["run_id", "seed"]].T.values)) == expected
    before = _bytes(out)
    # as if interrupted: one run never finished; --resume (no --seed) takes the seed the directory recorded
    shutil.rmtree(out / "opg_ng_ml=100__rep0")
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "1 of 2 runs already complete" in err and f"sweep seed {drawn}, as recorded in" in err
    assert _bytes(out) == before
    assert main(["sweep", str(path), "--out", str(out), "--collect"]) == 0
    assert _bytes(out) == before
    # another seed is another sweep: refused, naming the seed that continues it
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--seed", str(drawn + 1)]) == 2
    assert f"--seed {drawn} continues it" in capsys.readouterr().err
    assert _bytes(out) == before


def test_a_negative_sweep_seed_is_refused(write_sweep, tmp_path, capsys):
    assert main(["sweep", str(write_sweep(grid=GRID)), "--out", str(tmp_path / "o"), "--seed", "-3"]) == 2
    assert "--seed -3: give a whole number from 0 to" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------------------------------------
# A cluster that cannot give workers ends the sweep (exit 2) instead of waiting for ever


def _fake_slurm(tmp_path, sbatch: str | None):
    """A bin folder holding only ``sbatch`` (the given shell script body; None: no sbatch at all) and a
    ``scancel``/``squeue`` that log their arguments, and a Dask configuration for a small Slurm queue; returns
    the environment for a boneabm subprocess and the log of cancelled jobs."""
    bin_dir, config = tmp_path / "bin", tmp_path / "dask"
    bin_dir.mkdir()
    config.mkdir()
    cancelled = tmp_path / "cancelled.log"
    scripts = {"scancel": f'echo "$@" >> {cancelled}\n', "squeue": "exit 0\n"}
    if sbatch is not None:
        scripts["sbatch"] = sbatch
    for name, body in scripts.items():
        (bin_dir / name).write_text("#!/bin/sh\n" + body)
        (bin_dir / name).chmod(0o755)
    (config / "jobqueue.yaml").write_text(yaml.safe_dump({"jobqueue": {"slurm": {
        "cores": 1, "memory": "1GB", "walltime": "00:10:00", "queue": "nope"}}}))
    # PATH holds the fake commands alone: a real sbatch on this machine must not be found
    env = {**os.environ, "PATH": str(bin_dir), "DASK_CONFIG": str(config)}
    return env, cancelled


def _sweep_process(args, env, timeout=120):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "boneabm", "sweep", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)
    return done, time.monotonic() - started


@pytest.mark.slow  # a sweep subprocess per case
@pytest.mark.parametrize("sbatch, message", [
    ('echo "sbatch: error: invalid partition specified: nope" >&2\nexit 1\n',
     "sbatch: error: invalid partition specified: nope"),
    (None, "sbatch: command not found"),
])
def test_a_refused_job_submission_ends_the_sweep_with_the_batch_systems_message(write_sweep, tmp_path, sbatch,
                                                                                message):
    env, cancelled = _fake_slurm(tmp_path, sbatch)
    path, out = write_sweep(grid=GRID), tmp_path / "out"
    done, wall = _sweep_process([str(path), "--out", str(out), "--cluster", "slurm"], env)
    assert done.returncode == 2, done.stderr
    assert wall < 60
    assert message in done.stderr and "--cluster slurm" in done.stderr
    assert "Traceback" not in done.stderr
    assert "no run started; nothing was written" in done.stderr and not out.exists()
    assert not cancelled.exists()  # no job was submitted, so none to cancel


@pytest.mark.slow  # a sweep subprocess
def test_a_refused_submission_on_resume_keeps_the_runs(write_sweep, tmp_path, capsys):
    env, _ = _fake_slurm(tmp_path, 'echo "sbatch: error: Invalid account" >&2\nexit 1\n')
    path, out = write_sweep(grid=GRID), tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--index", "0"]) == 0
    capsys.readouterr()
    before = sorted(p.name for p in out.iterdir())
    done, _ = _sweep_process([str(path), "--out", str(out), "--cluster", "slurm", "--resume"], env)
    assert done.returncode == 2 and "sbatch: error: Invalid account" in done.stderr
    assert f"no run started; {out} is as it was (--resume continues it)" in done.stderr
    # as it was, but for the (empty, hidden) lock file a sweep holds while it runs
    assert sorted(p.name for p in out.iterdir() if p.name != ".sweep.lock") == before


@pytest.mark.slow  # waits out a 5-s worker timeout in a subprocess
def test_jobs_that_never_start_a_worker_end_the_sweep_after_worker_timeout(write_sweep, tmp_path):
    env, cancelled = _fake_slurm(tmp_path, 'echo "Submitted batch job 123"\n')
    path, out = write_sweep(grid=GRID), tmp_path / "out"
    done, wall = _sweep_process([str(path), "--out", str(out), "--cluster", "slurm", "--worker-timeout", "5"], env)
    assert done.returncode == 2, done.stderr
    assert 5 <= wall < 60
    assert "no Dask worker joined within --worker-timeout 5 s" in done.stderr and "Traceback" not in done.stderr
    assert "123" in cancelled.read_text().split()  # the submitted job was cancelled: nothing stays queued
    assert not out.exists()


def test_a_scheduler_without_workers_ends_the_sweep_after_worker_timeout(write_sweep, tmp_path, capsys):
    from distributed import LocalCluster

    path, out = write_sweep(grid=GRID), tmp_path / "out"
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None) as cluster:
        started = time.monotonic()
        assert main(["sweep", str(path), "--out", str(out), "--scheduler", cluster.scheduler_address,
                     "--worker-timeout", "2", "--quiet"]) == 2
        assert time.monotonic() - started < 30
    error = capsys.readouterr().err
    assert f"--scheduler {cluster.scheduler_address}: no Dask worker joined within --worker-timeout 2 s" in error
    assert not out.exists()


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_a_bad_worker_timeout_is_refused(write_sweep, tmp_path, capsys, value):
    out = tmp_path / "out"
    assert main(["sweep", str(write_sweep(grid=GRID)), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9",
                 "--worker-timeout", value]) == 2
    assert f"--worker-timeout {value}: give a number of seconds" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow  # a local cluster started and interrupted
def test_ctrl_c_on_a_sweep_is_one_line_not_the_workers_tracebacks(write_sweep, tmp_path):
    """Ctrl-C reaches the terminal's whole process group, Dask's workers included; each printed a 40-line
    traceback (issue 16). The workers now leave the interrupt to the sweep, which says it in one line."""
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(merged(BASE, {"time": {"duration_h": 2000}})))
    path = write_sweep(grid={"medium.rankl_ng_ml": [0, 50]})
    out = tmp_path / "out"
    # a new process group, as a terminal gives a command; SIGINT handled as in a user's shell (a background
    # shell running the suite would have its children ignore it)
    process = subprocess.Popen([sys.executable, "-m", "boneabm", "sweep", str(path), "--out", str(out),
                                "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not list(out.glob("*.partial/timeseries.csv")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no run started"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "Traceback" not in stderr and "Error" not in stderr and "Warning" not in stderr, stderr
    assert stderr.splitlines()[-1].startswith("boneabm: interrupted; the unfinished runs stay at their .partial")
    assert not (out / "summary.csv").exists() or "complete" not in (out / "summary.csv").read_text()
    # the workers never saw the interrupt: their runs stay unfinished, as a killed run does (README)
    statuses = {json.loads(p.read_text())["status"] for p in out.glob("*.partial/metadata.json")}
    assert statuses == {"running"}
