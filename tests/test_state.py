"""The model's state as data: checkpoints, resume and fork continue a run exactly, and refuse what they cannot.

The culture is small (20 x 20 sites) with RANKL, so that by 24 h cells have committed and by 60 h they fuse:
every part of the state (molecules, random streams, fields, bone, osteoclast records) is exercised.
"""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from boneabm.cli import main
from boneabm.config import load_experiment
from boneabm.model import BoneModel
from boneabm.continuation import fork_seed
from boneabm.runner import Checkpointing, checkpoints_in, execute
from boneabm.state import load, save
from conftest import SMALL, merged

CULTURE = merged(SMALL, {"name": "culture", "time": {"duration_h": 60, "record_every_h": 2, "snapshot_every_h": 12},
                         "medium": {"rankl_ng_ml": 100},
                         # binucleated cells count as osteoclasts, so records and resorption start within 60 h
                         # (the first fusions come at about 50 h on this small patch)
                         "osteoclasts": {"min_nuclei": 2}})
APPENDED = ("timeseries", "cells", "events")
TABLES = APPENDED + ("osteoclasts", "osteoclast_days", "bone")


def csv_bytes(run_dir: Path) -> dict[str, bytes]:
    return {table: (run_dir / f"{table}.csv").read_bytes() for table in TABLES}


@pytest.fixture(scope="module")
def experiment():
    return load_experiment(data=CULTURE)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, experiment):
    """The uninterrupted run, written without checkpoints."""
    return execute(experiment, tmp_path_factory.mktemp("reference") / "run")


@pytest.fixture(scope="module")
def checkpointed(tmp_path_factory, experiment):
    return execute(experiment, tmp_path_factory.mktemp("checkpointed") / "run", checkpointing=Checkpointing(12))


def test_the_state_round_trips_and_the_restored_model_continues_exactly(tmp_path, experiment):
    straight = BoneModel(experiment)
    for _ in range(300):
        straight.step()
    path = save(straight.state(), tmp_path / "state.npz")
    restored = BoneModel.from_state(load(path))
    assert restored.population.n_alive == straight.population.n_alive and restored.time_h == straight.time_h
    assert {a.unique_id for a in restored.agents} == {a.unique_id for a in straight.agents}
    assert not restored.grid.empty.data[restored.population.x[restored.population.rows],
                                        restored.population.y[restored.population.rows]].any()
    for _ in range(300):
        straight.step()
        restored.step()
    a, b = straight.state(), restored.state()
    assert a.arrays.keys() == b.arrays.keys()
    for name in a.arrays:
        assert np.array_equal(a.arrays[name], b.arrays[name], equal_nan=True), name
    assert json.dumps(a.meta) == json.dumps(b.meta)
    # fusion, records and resorption were exercised
    assert straight.fusions_total > 0 and straight.osteoclast_records and straight.bone.removed_by
    # each osteoclast's days hold, to float rounding, what the bone booked to it
    days = pd.DataFrame(straight.osteoclasts.osteoclast_day_rows()).groupby("osteoclast_id")
    removed = straight.bone.removed_by
    assert set(days.groups) == set(straight.osteoclast_records) and set(removed) <= set(days.groups)
    for osteoclast_id, booked in days[["resorbed_um3", "collagen_removed_um3"]].sum().iterrows():
        np.testing.assert_allclose(booked.to_numpy(), removed.get(osteoclast_id, np.zeros(2)), rtol=1e-13)


def test_checkpointing_changes_no_table_and_writes_one_file_per_interval_and_at_the_end(reference, checkpointed):
    assert csv_bytes(checkpointed) == csv_bytes(reference)
    names = [p.name for p in checkpoints_in(checkpointed)]
    assert names == ["checkpoint-000012.000h.npz", "checkpoint-000024.000h.npz", "checkpoint-000036.000h.npz",
                     "checkpoint-000048.000h.npz", "checkpoint-000060.000h.npz"]
    metadata = json.loads((checkpointed / "metadata.json").read_text())
    assert metadata["checkpoints"] == {"every_h": 12.0, "keep": None}


def test_keep_holds_only_the_newest_checkpoints(tmp_path, experiment):
    run = execute(experiment.model_copy(update={"time": experiment.time.model_copy(update={"duration_h": 12})}),
                  tmp_path / "run", checkpointing=Checkpointing(4, keep=2))
    assert [p.name for p in checkpoints_in(run)] == ["checkpoint-000008.000h.npz", "checkpoint-000012.000h.npz"]


def _start(config: Path, out: Path, threads: int) -> subprocess.Popen:
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    return subprocess.Popen([sys.executable, "-m", "boneabm", "run", str(config), "--out", str(out),
                             "--checkpoint-every", "12", "--quiet"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_a_run_killed_with_sigkill_resumes_into_the_tables_of_an_uninterrupted_run(tmp_path, reference):
    """Killed on 2 numba threads after its 24-h checkpoint, resumed on 1: rows written after the checkpoint are
    dropped and written again, byte for byte."""
    config = tmp_path / "culture.yaml"
    config.write_text(yaml.safe_dump(CULTURE))
    out = tmp_path / "run"
    process = _start(config, out, threads=2)
    partial = Path(f"{out}.partial")
    deadline = time.monotonic() + 600
    while not (partial / "checkpoints" / "checkpoint-000024.000h.npz").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read() if process.stderr else ""
        time.sleep(0.05)
    time.sleep(0.2)  # let it write rows past the checkpoint, perhaps half a line
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert json.loads((partial / "metadata.json").read_text())["status"] == "running"  # killed: never "complete"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    resumed = subprocess.run([sys.executable, "-m", "boneabm", "resume", str(partial), "--quiet"], env=env,
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == str(out) and not partial.exists()
    assert csv_bytes(out) == csv_bytes(reference)
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["status"] == "complete" and metadata["resumes"][0]["stopped_as"] == "running"
    assert metadata["resumes"][0]["resumed_at_h"] >= 24


def test_a_fork_without_changes_continues_as_the_parent(tmp_path, reference, checkpointed):
    checkpoint = checkpoints_in(checkpointed)[1]  # 24 h
    assert main(["fork", str(checkpoint), "--out", str(tmp_path / "fork"), "--quiet"]) == 0
    metadata = json.loads((tmp_path / "fork" / "metadata.json").read_text())
    assert metadata["forked_from"]["changes"] == {} and metadata["seed"] == 7
    for table in APPENDED:
        parent = pd.read_csv(reference / f"{table}.csv")
        # the fork starts with the state at 24 h (events of the tick ending there belong to the parent)
        later = parent[parent.time_h > 24] if table == "events" else parent[parent.time_h >= 24]
        assert pd.read_csv(tmp_path / "fork" / f"{table}.csv").equals(later.reset_index(drop=True)), table
    for table in ("osteoclasts", "osteoclast_days", "bone"):
        assert (tmp_path / "fork" / f"{table}.csv").read_bytes() == (reference / f"{table}.csv").read_bytes()


def test_a_fork_with_changes_draws_new_streams_from_the_parent_seed_and_the_changes(tmp_path, checkpointed):
    checkpoint = checkpoints_in(checkpointed)[1]
    changes = ["--set", "medium.rankl_ng_ml=0", "--set", "time.duration_h=30"]
    assert main(["fork", str(checkpoint), *changes, "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert main(["fork", str(checkpoint), *changes, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    record = json.loads((tmp_path / "a" / "metadata.json").read_text())["forked_from"]
    assert record["changes"] == {"medium.rankl_ng_ml": 0, "time.duration_h": 30}
    assert record["seed"] == fork_seed(7, record["changes"]) != 7
    assert csv_bytes(tmp_path / "a") == csv_bytes(tmp_path / "b")  # stable: the same fork twice is the same run
    assert pd.read_csv(tmp_path / "a" / "timeseries.csv").time_h.tolist()[::3] == [24.0, 30.0]
    # --seed N gives streams of its own
    assert main(["fork", str(checkpoint), "--seed", "99", "--out", str(tmp_path / "c"), "--quiet"]) == 0
    assert json.loads((tmp_path / "c" / "metadata.json").read_text())["forked_from"]["seed_source"] == "--seed"


@pytest.mark.parametrize("change, named", [
    ("domain.width_um=600", "domain.width_um"),
    ("signaling.network=rank", None),  # unchanged: the same network is no change
    ("time.dt_h=0.05", "time.dt_h"),
    ("osteoclasts.fusion_rate_per_h=1", "osteoclasts.fusion_rate_per_h"),
    ("time.duration_h=20", "time.duration_h = 20 must be later than the checkpoint's time"),
])
def test_a_fork_refuses_what_cannot_change_mid_run(tmp_path, checkpointed, capsys, change, named):
    checkpoint = checkpoints_in(checkpointed)[1]
    code = main(["fork", str(checkpoint), "--set", change, "--set", "time.duration_h=26" if named is None else
                 "name=x", "--out", str(tmp_path / "fork"), "--quiet"])
    if named is None:
        assert code == 0
        return
    assert code == 2 and named in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def _corrupt(path: Path, how: str, tmp_path: Path) -> Path:
    bad = tmp_path / f"{how}.npz"
    data = path.read_bytes()
    if how == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        bad.write_bytes(b"not a checkpoint at all")
    else:  # another version: rewrite meta.json inside the archive
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(arrays.pop("meta.json").tobytes())
        meta["version"] = 999
        arrays["meta.json"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        np.savez(bad, **arrays)
    return bad


@pytest.mark.parametrize("how, says", [("truncated", "truncated or corrupted"), ("garbage", "truncated or corrupted"),
                                       ("version", "version 999")])
def test_a_bad_checkpoint_is_refused_naming_the_file(tmp_path, checkpointed, capsys, how, says):
    bad = _corrupt(checkpoints_in(checkpointed)[0], how, tmp_path)
    assert main(["fork", str(bad), "--out", str(tmp_path / "fork"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and says in err and "Traceback" not in err
    assert not (tmp_path / "fork").exists() and not (tmp_path / "fork.partial").exists()


def test_resume_refuses_a_checkpoint_from_another_network_and_what_cannot_be_resumed(tmp_path, checkpointed,
                                                                                     capsys):
    # a complete run: nothing to resume
    assert main(["resume", str(checkpointed)]) == 2
    assert "complete; nothing to resume" in capsys.readouterr().err
    # an unfinished copy whose network.yaml is not the checkpoint's
    partial = tmp_path / "copy.partial"
    partial.mkdir()
    for name in ("config.yaml", "metadata.json", "timeseries.csv", "cells.csv", "events.csv"):
        (partial / name).write_bytes((checkpointed / name).read_bytes())
    network = yaml.safe_load((checkpointed / "network.yaml").read_text())
    network["parameters"]["k_rankl_on"]["value"] *= 2
    (partial / "network.yaml").write_text(yaml.safe_dump(network))
    before = {p: p.read_bytes() for p in partial.iterdir()}
    assert main(["resume", str(partial)]) == 2
    assert "no checkpoint to resume from" in capsys.readouterr().err
    (partial / "checkpoints").mkdir()
    (partial / "checkpoints" / checkpoints_in(checkpointed)[1].name).write_bytes(
        checkpoints_in(checkpointed)[1].read_bytes())
    assert main(["resume", str(partial)]) == 2
    err = capsys.readouterr().err
    assert "different network" in err and "checkpoint-000024.000h.npz" in err
    assert {p: p.read_bytes() for p in partial.iterdir() if p.is_file()} == before  # nothing written


def test_checkpoint_interval_must_fall_on_recorded_rows(tmp_path, small_yaml, capsys):
    out = tmp_path / "run"
    assert main(["run", str(small_yaml()), "--out", str(out), "--checkpoint-every", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "--checkpoint-every 1.5" in err and "record_every_h" in err
    for bad in ("0", "-12", "inf", "nan"):
        assert main(["run", str(small_yaml()), "--out", str(out), "--checkpoint-every", bad]) == 2
        assert f"--checkpoint-every {bad}" in capsys.readouterr().err
    assert main(["run", str(small_yaml()), "--out", str(out), "--keep", "2"]) == 2
    assert "--keep needs --checkpoint-every" in capsys.readouterr().err
    assert not out.exists() and not Path(f"{out}.partial").exists()


def test_a_checkpoint_is_one_npz_that_numpy_reads_without_pickle(checkpointed):
    path = checkpoints_in(checkpointed)[0]
    with zipfile.ZipFile(path) as archive:
        assert "meta.json.npy" in archive.namelist()
    state = load(path)
    assert state.meta["format"] == "boneabm-checkpoint" and state.time_h == 12.0
    assert state.arrays["lineage/osteoclast/population/rng_state"].dtype == np.uint64
    assert state.meta["networks"]["osteoclast"]["search_order"]  # the order travels with the state


def test_a_sweep_from_a_checkpoint_forks_every_arm_from_one_state(tmp_path, checkpointed, capsys):
    """A culture forked at 24 h into arms (here ITAM co-stimulation on and off): every run starts from the same
    state, with its own seed; a key that cannot change mid-run is refused for the whole sweep."""
    checkpoint = checkpoints_in(checkpointed)[1]
    sweep = tmp_path / "arms.yaml"
    sweep.write_text(yaml.safe_dump({"from": str(checkpoint), "seed": 5, "set": ["time.duration_h=28"],
                                     "grid": {"signaling.itam_ligand": [0.0, 1.0]}}))
    out = tmp_path / "sweep"
    for index in (0, 1):
        assert main(["sweep", str(sweep), "--out", str(out), "--index", str(index), "--quiet"]) == 0
    runs = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(runs) == 2
    seeds = set()
    for run in runs:
        metadata = json.loads((run / "metadata.json").read_text())
        assert metadata["status"] == "complete" and metadata["forked_from"]["checkpoint"] == str(checkpoint.resolve())
        seeds.add(metadata["seed"])
        first = pd.read_csv(run / "timeseries.csv").iloc[0]
        parent = pd.read_csv(checkpointed / "timeseries.csv").set_index("time_h").loc[24.0]
        assert first.time_h == 24.0 and first.n_cells == parent.n_cells  # the same state at the fork
    assert len(seeds) == 2
    sweep.write_text(yaml.safe_dump({"from": str(checkpoint), "seed": 5, "grid": {"domain.width_um": [400, 600]}}))
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "refused"), "--list"]) == 2
    assert "domain.width_um" in capsys.readouterr().err and not (tmp_path / "refused").exists()


def test_the_api_forks_with_a_dose_that_acts_from_its_time(tmp_path, checkpointed):
    """OPG-Fc dosed at 26 h in a fork taken at 24 h: nothing changes before the dose; after it, OPG (100 ng/mL,
    ≈ 1.8 nM of RANKL sites) takes up about a third of the 5 nM RANKL (Luan 2012: each OPG chain binds one
    RANKL)."""
    import boneabm

    arm = boneabm.fork(checkpoints_in(checkpointed)[1], ["doses=[{drug: opg_fc, ng_ml: 100, at_h: 26}]",
                                                         "time.duration_h=30"], out=tmp_path / "opg")
    series = arm.timeseries.set_index("time_h")
    assert (series.opg_free_ng_ml.loc[:26] == 0).all() and (series.opg_free_ng_ml.loc[28:] > 0).all()
    rankl = series.rankl_free_ng_ml
    assert (rankl.loc[28:] < 0.8 * rankl.loc[26]).all() and (rankl.loc[28:] > 0.5 * rankl.loc[26]).all()
    assert arm.metadata["forked_from"]["changes"]["doses"][0]["drug"] == "opg_fc"


def test_a_fork_refuses_a_checkpoint_whose_network_file_has_changed(tmp_path, small_yaml, capsys):
    network = yaml.safe_load((Path(__file__).parent.parent / "boneabm/signaling/networks/rank.yaml").read_text())
    (tmp_path / "net.yaml").write_text(yaml.safe_dump(network, sort_keys=False))
    config = small_yaml(signaling={"network": str(tmp_path / "net.yaml")}, time={"duration_h": 2})
    assert main(["run", str(config), "--out", str(tmp_path / "run"), "--checkpoint-every", "1", "--quiet"]) == 0
    network["parameters"]["k_rankl_on"]["value"] *= 2
    (tmp_path / "net.yaml").write_text(yaml.safe_dump(network, sort_keys=False))
    checkpoint = checkpoints_in(tmp_path / "run")[0]
    assert main(["fork", str(checkpoint), "--set", "time.duration_h=3", "--out", str(tmp_path / "fork")]) == 2
    err = capsys.readouterr().err
    assert "different network" in err and str(checkpoint) in err and not (tmp_path / "fork").exists()


def test_resume_refuses_a_run_whose_process_is_still_alive(tmp_path, checkpointed, capsys):
    import platform

    partial = tmp_path / "live.partial"
    partial.mkdir()
    for name in ("config.yaml", "network.yaml", "timeseries.csv", "cells.csv", "events.csv"):
        (partial / name).write_bytes((checkpointed / name).read_bytes())
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        metadata = {**json.loads((checkpointed / "metadata.json").read_text()), "status": "running",
                    "host": platform.node(), "pid": sleeper.pid}
        (partial / "metadata.json").write_text(json.dumps(metadata))
        assert main(["resume", str(partial)]) == 2
        assert f"still running (process {sleeper.pid}" in capsys.readouterr().err
    finally:
        sleeper.kill()
        sleeper.wait()


def test_resume_refuses_a_run_another_process_is_resuming(tmp_path, checkpointed, capsys):
    """Two resumes of one run started together both passed the liveness check and wrote the same tables
    (issue 16): the run's claim (a lock file beside it, held while it is written) lets one through."""
    from boneabm.files import claimed, run_lock

    partial = tmp_path / "twice.partial"
    partial.mkdir()
    for name in ("config.yaml", "network.yaml", "metadata.json", "timeseries.csv", "cells.csv", "events.csv"):
        (partial / name).write_bytes((checkpointed / name).read_bytes())
    before = {p.name: p.read_bytes() for p in partial.iterdir()}
    with claimed(run_lock(tmp_path / "twice"), "the other resume"):
        assert main(["resume", str(partial)]) == 2
    assert "another boneabm process is writing there" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in partial.iterdir()} == before  # untouched


def test_an_interrupt_that_surfaces_as_another_error_still_marks_the_run_interrupted(tmp_path, small, monkeypatch):
    """A Ctrl-C arriving inside numba's loading of a cached kernel surfaces as a SystemError whose context is
    the KeyboardInterrupt: the run is interrupted, not failed."""
    from boneabm.model import BoneModel as Model

    def interrupted_inside_numba(self):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise SystemError("<function _numba_unpickle> returned a result with an exception set")

    monkeypatch.setattr(Model, "step", interrupted_inside_numba)
    with pytest.raises(KeyboardInterrupt):
        execute(small(), tmp_path / "run")
    assert json.loads((tmp_path / "run.partial" / "metadata.json").read_text())["status"] == "interrupted"


def test_the_api_writes_checkpoints_and_resumes_an_interrupted_run(tmp_path):
    """boneabm.run(..., checkpoint_every_h) and boneabm.resume: a copy of a finished run, stopped after its
    2-h checkpoint (its last checkpoint removed, marked interrupted), resumes into the same tables."""
    import shutil

    import boneabm
    from boneabm.errors import UserError

    config = merged(CULTURE, {"time": {"duration_h": 4, "record_every_h": 1}})
    first = boneabm.run(config, out=tmp_path / "run", checkpoint_every_h=2)
    assert [p.name for p in checkpoints_in(first.path)] == ["checkpoint-000002.000h.npz",
                                                           "checkpoint-000004.000h.npz"]
    with pytest.raises(UserError, match="--keep needs --checkpoint-every"):
        boneabm.run(config, out=tmp_path / "other", keep=1)
    stopped = tmp_path / "stopped.partial"
    shutil.copytree(first.path, stopped)
    checkpoints_in(stopped)[-1].unlink()
    metadata = json.loads((stopped / "metadata.json").read_text())
    (stopped / "metadata.json").write_text(json.dumps({**metadata, "status": "interrupted"}))
    resumed = boneabm.resume(stopped)
    assert resumed.complete and resumed.metadata["resumes"][0]["resumed_at_h"] == 2.0
    assert csv_bytes(resumed.path) == csv_bytes(first.path)


def test_osteoclast_days_add_up_to_each_osteoclast_and_a_resume_from_mid_day_writes_the_same(tmp_path):
    """Three and a half days of fast fusion: osteoclasts that live over midnight and grow. Each one's days add up to its
    life and, to float rounding, to the bone osteoclasts.csv books to it; a run resumed from its 36-h checkpoint
    (days open in the middle) writes the same osteoclast_days.csv as the uninterrupted run."""
    import shutil

    import boneabm

    config = merged(CULTURE, {"time": {"duration_h": 84}, "osteoclasts": {"fusion_rate_per_h": 6}})
    first = boneabm.run(config, out=tmp_path / "run", checkpoint_every_h=12)
    osteoclasts, days = first.osteoclasts.set_index("osteoclast_id"), first.osteoclast_days
    assert not days.duplicated(["osteoclast_id", "day"]).any()
    assert (days.groupby("osteoclast_id").size() > 1).sum() >= 2  # some lived over midnight
    assert (days.groupby("osteoclast_id").max_nuclei.nunique() > 1).any()  # some grew from one day to the next
    totals = days.groupby("osteoclast_id")[["alive_h", "resorbed_um3", "collagen_removed_um3"]].sum()
    assert list(totals.index) == list(osteoclasts.index)
    life_h = osteoclasts.died_h.fillna(84.0) - osteoclasts.formed_h
    np.testing.assert_allclose(totals.alive_h, life_h, rtol=0, atol=1e-9)
    for column in ("resorbed_um3", "collagen_removed_um3"):  # each written with 10 significant digits
        np.testing.assert_allclose(totals[column], osteoclasts[column], rtol=1e-9, atol=1e-9)
    assert totals.resorbed_um3.sum() > 0
    np.testing.assert_allclose(osteoclasts.resorbed_um3.sum(), first.timeseries.resorbed_volume_um3.iloc[-1],
                               rtol=1e-9)
    assert (days.alive_h <= 24 + 1e-9).all() and (days.nuclei <= days.max_nuclei).all()
    assert (days.pit_h + days.trench_h + days.migrating_h <= days.alive_h + 1e-9).all()
    assert (days.day == (days.day.groupby(days.osteoclast_id).transform("min")
                         + days.groupby("osteoclast_id").cumcount())).all()  # consecutive days
    last = days.groupby("osteoclast_id").last()
    assert (last.max_nuclei <= osteoclasts.max_nuclei).all()

    stopped = tmp_path / "stopped.partial"
    shutil.copytree(first.path, stopped)
    for checkpoint in checkpoints_in(stopped)[3:]:  # 48 to 84 h: resumed from 36 h
        checkpoint.unlink()
    metadata = json.loads((stopped / "metadata.json").read_text())
    (stopped / "metadata.json").write_text(json.dumps({**metadata, "status": "interrupted"}))
    resumed = boneabm.resume(stopped)
    assert resumed.metadata["resumes"][0]["resumed_at_h"] == 36.0
    assert csv_bytes(resumed.path) == csv_bytes(first.path)
