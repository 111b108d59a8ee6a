"""The boneabm command end to end: run directories, exit statuses, bad input, interruption, plots."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from boneabm.cli import main
from boneabm.output import EVENTS_COLUMNS, cells_columns, timeseries_columns
from boneabm.signaling import load_network


def tree(path: Path) -> set:
    return {p.relative_to(path) for p in path.rglob("*")}


def test_run_writes_a_complete_directory_and_prints_only_its_path(tmp_path, small_yaml, capsys):
    out = tmp_path / "result"
    assert main(["run", str(small_yaml()), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{out}\n"
    assert {"config.yaml", "network.yaml", "metadata.json", "timeseries.csv", "cells.csv", "events.csv"} <= {
        p.name for p in out.iterdir()}
    assert not (tmp_path / "result.partial").exists()
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["status"] == "complete" and metadata["seed"] == 7 and metadata["schema_version"] == 5
    assert metadata["wall_s"] >= 0 and metadata["packages"]["mesa"].startswith("3.")
    header = lambda name: (out / name).read_text().splitlines()[0].split(",")  # noqa: E731
    rank = load_network("rank")
    assert header("timeseries.csv") == timeseries_columns(rank)
    assert header("cells.csv") == cells_columns(rank) and header("events.csv") == EVENTS_COLUMNS
    assert (out / "network.yaml").read_text() == (Path(rank.source)).read_text()  # the network travels along
    assert metadata["ssa"]["events_total"] > 0 and metadata["ssa"]["top_reactions"]
    # the saved config is the resolved one: every default filled in
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["precursors"]["division_rate_max_per_h"] == 0.035 and saved["seed"] == 7


def test_quiet_keeps_standard_error_silent(tmp_path, small_yaml, capsys):
    assert main(["run", str(small_yaml()), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{tmp_path / 'r'}\n" and captured.err == ""


def test_default_directory_is_runs_name_timestamp_seed(tmp_path, small_yaml, monkeypatch, capsys):
    config = small_yaml()
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(config), "--quiet"]) == 0
    assert main(["run", str(config), "--quiet"]) == 0  # same second, same seed: a new directory, never reused
    first, second = capsys.readouterr().out.split()
    assert first != second
    for printed in (first, second):
        path = Path(printed)
        assert path.parent == Path("runs/small") and "-seed7" in path.name and path.is_dir()


def csvs(path: Path) -> dict:
    return {name: (path / name).read_bytes() for name in ("timeseries.csv", "cells.csv", "events.csv")}


def test_same_seed_gives_byte_identical_csvs_and_another_seed_does_not(tmp_path, small_yaml):
    config = str(small_yaml())
    assert main(["run", config, "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert main(["run", config, "--out", str(tmp_path / "b"), "--quiet", "--set", "seed=7"]) == 0
    assert main(["run", config, "--out", str(tmp_path / "c"), "--quiet", "--seed", "8"]) == 0
    a, b, c = (csvs(tmp_path / n) for n in "abc")
    assert a == b
    assert all(a[name] != c[name] for name in ("cells.csv", "events.csv"))


def test_a_run_without_a_seed_draws_one_and_records_it(tmp_path, small_yaml):
    out = tmp_path / "r"
    assert main(["run", str(small_yaml(seed=None)), "--out", str(out), "--quiet"]) == 0
    seed = yaml.safe_load((out / "config.yaml").read_text())["seed"]
    assert isinstance(seed, int) and json.loads((out / "metadata.json").read_text())["seed"] == seed
    assert main(["run", str(out / "config.yaml"), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    assert csvs(out) == csvs(tmp_path / "again")  # the saved config reproduces the run


@pytest.mark.parametrize("existing", ["r", "r.partial"])
def test_an_existing_out_directory_is_refused_and_left_untouched(tmp_path, small_yaml, capsys, existing):
    config = small_yaml()
    (tmp_path / existing).mkdir()
    (tmp_path / existing / "mine.txt").write_text("keep me")
    before = tree(tmp_path)
    assert main(["run", str(config), "--out", str(tmp_path / "r")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert tree(tmp_path) == before and (tmp_path / existing / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_an_out_directory_that_cannot_be_made_is_a_clear_error(tmp_path, small_yaml, capsys, command):
    """A file where a parent directory should be gave a NotADirectoryError traceback (issue 16)."""
    (tmp_path / "file").write_text("mine")
    if command == "run":
        args = ["run", str(small_yaml()), "--out", str(tmp_path / "file" / "r")]
    else:
        sweep = tmp_path / "s.yaml"
        sweep.write_text(yaml.safe_dump({"sweep": "s", "base": str(small_yaml()), "seed": 1,
                                         "grid": {"medium.rankl_ng_ml": [0, 50]}}))
        args = ["sweep", str(sweep), "--out", str(tmp_path / "file" / "s")]
    before = tree(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "cannot create this directory (Not a directory)" in err and "Traceback" not in err
    assert tree(tmp_path) == before and (tmp_path / "file").read_text() == "mine"


@pytest.mark.parametrize("args, says", [
    (["--set", "medium.mcsf_ng_ml=-3"], "medium.mcsf_ng_ml = -3"),
    (["--set", "domain.hieght_um=3"], "did you mean 'domain.height_um'"),
    (["--set", "time.dt_h=abc"], "time.dt_h = 'abc'"),
    (["--seed", "-4"], "seed = -4"),
    (["--set", "nonsense"], "expected dotted.key=value"),
    (["--set", "doses=[{drug: opg_fc, ng_ml: 100, at_h: 24, every_h: 0.13}]"],
     "doses[0].every_h = 0.13: not a whole number of ticks (time.dt_h = 0.1); use a multiple of 0.1 h such as "
     "0.1 or 0.2"),
    # the osteoblast lineage and the tissue (issue 14)
    (["--set", "osteoblasts.enabled=true", "--set", "osteoblasts.signaling.knockouts=[Runx3]"],
     "osteoblasts.signaling.knockouts[0].gene = 'Runx3'"),
    (["--set", "osteoblasts.commitment_osterix_molecules=-1"], "osteoblasts.commitment_osterix_molecules = -1"),
    (["--set", "osteocytes.activations=[{at_h: 1, x_um: 10, y_um: 10, radius_um: 5}]"],
     "osteocytes.density_per_mm3 = 0, so there are no osteocytes to die"),
    (["--set", "fields.canopy_margin_um=25"], "fields.canopy_margin_um = 25.0 needs fields.mode = 'tissue'"),
])
def test_bad_input_exits_2_with_one_message_and_writes_nothing(tmp_path, small_yaml, capsys, monkeypatch, args,
                                                                 says):
    config = small_yaml()
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    assert main(["run", str(config), *args]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
    assert tree(tmp_path) == before


def test_an_osteoblast_network_without_a_role_its_lineage_reads_exits_2_and_writes_nothing(tmp_path, small_yaml,
                                                                                             capsys):
    from boneabm.signaling.network import network_path

    network = tmp_path / "no_collagen_counter.yaml"
    network.write_text(network_path("osteoblast").read_text().replace(
        "  collagen_secretion: collagen_secreted", ""))
    config = small_yaml(osteoblasts={"enabled": True, "signaling": {"network": str(network)}})
    before = tree(tmp_path)
    assert main(["run", str(config), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "osteoblasts.signaling.network" in err and "counter role 'collagen_secretion'" in err
    assert "Traceback" not in err and tree(tmp_path) == before


def test_a_perturbation_window_between_ticks_is_refused_and_nothing_written(tmp_path, small_yaml, capsys):
    """A 0.03-0.07 h inhibitor would fall between two 0.1 h ticks and never act: refused, not rounded."""
    config = small_yaml(signaling={"inhibitors": [
        {"target": "calcineurin_inhibitor", "start_h": 0.03, "stop_h": 0.07}]})
    before = tree(tmp_path)
    assert main(["run", str(config), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "signaling.inhibitors[0].start_h = 0.03: not a whole number of ticks (time.dt_h = 0.1)" in err
    assert "signaling.inhibitors[0].stop_h = 0.07" in err and "Traceback" not in err
    assert tree(tmp_path) == before


def test_unreadable_config_and_bad_options_exit_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["run", "x.yaml", "--bogus"])
    assert info.value.code == 2


def test_a_failing_run_exits_1_and_stays_partial_with_its_error(tmp_path, small_yaml, monkeypatch, capsys):
    from boneabm.model import BoneModel

    original = BoneModel.step

    def broken(self):
        if self.steps == 5:
            raise RuntimeError("simulated bug")
        original(self)

    monkeypatch.setattr(BoneModel, "step", broken)
    assert main(["run", str(small_yaml()), "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "simulated bug" in err  # a bug shows its traceback
    assert not (tmp_path / "r").exists()
    metadata = json.loads((tmp_path / "r.partial" / "metadata.json").read_text())
    assert metadata["status"] == "failed" and "simulated bug" in metadata["error"]


def test_check_prints_the_resolved_config_and_rejects_bad_ones(small_yaml, capsys):
    config = str(small_yaml())
    assert main(["check", config, "--set", "medium.mcsf_ng_ml=12"]) == 0
    resolved = yaml.safe_load(capsys.readouterr().out)
    assert resolved["medium"]["mcsf_ng_ml"] == 12 and resolved["precursors"]["motility_um2_per_h"] == 300
    assert main(["check", config, "--set", "medium.mcsf=1"]) == 2
    assert "did you mean 'medium.mcsf_ng_ml'" in capsys.readouterr().err


def test_plot_writes_figures_and_replaces_only_its_own(tmp_path, small_yaml, capsys):
    out = tmp_path / "r"
    assert main(["run", str(small_yaml()), "--out", str(out), "--quiet"]) == 0
    (out / "figures").mkdir()
    (out / "figures" / "my_notes.png").write_bytes(b"user file")
    (out / "figures" / "population.png").write_bytes(b"stale")
    assert main(["plot", str(out)]) == 0
    names = {p.name for p in (out / "figures").iterdir()}
    assert names == {"population.png", "factors.png", "cells.png", "bone.png", "my_notes.png"}
    assert (out / "figures" / "my_notes.png").read_bytes() == b"user file"
    assert (out / "figures" / "population.png").read_bytes().startswith(b"\x89PNG")
    assert main(["plot", str(tmp_path / "nothing")]) == 2


@pytest.mark.parametrize("command, options", [
    ("run", ["--set", "--seed", "--out", "--quiet"]), ("check", ["--set"]), ("plot", ["RUN_DIR"]),
    ("sweep", ["--seed", "--worker-timeout", "--resume", "--index", "--cluster"]),
    ("report", ["--workers", "--resume", "--quick", "--seeds", "min"])])
def test_help_explains_every_option(command, options, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert all(option in text for option in options)


def long_run(tmp_path, small_yaml):
    """Start a real `boneabm run` that would take minutes; return it once it has recorded some rows."""
    config = small_yaml(time={"duration_h": 24 * 365 * 5, "dt_h": 0.1, "record_every_h": 1,
                              "snapshot_every_h": 24})
    out = tmp_path / "r"
    # a shell starting the suite in the background makes its children ignore SIGINT; a user's run does not
    process = subprocess.Popen([sys.executable, "-m", "boneabm", "run", str(config), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    timeseries = tmp_path / "r.partial" / "timeseries.csv"
    deadline = time.monotonic() + 120
    while not (timeseries.exists() and len(timeseries.read_text().splitlines()) > 5):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never started recording"
        time.sleep(0.1)
    return process, out


def test_sigint_leaves_a_partial_directory_marked_interrupted(tmp_path, small_yaml):
    process, out = long_run(tmp_path, small_yaml)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stdout == "" and "Traceback" not in stderr
    assert not out.exists()
    assert json.loads((tmp_path / "r.partial" / "metadata.json").read_text())["status"] == "interrupted"


def test_sigkill_leaves_a_partial_directory_that_does_not_look_complete(tmp_path, small_yaml):
    process, out = long_run(tmp_path, small_yaml)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert not out.exists()
    assert json.loads((tmp_path / "r.partial" / "metadata.json").read_text())["status"] == "running"


def test_the_uptake_note_gives_a_share_only_of_a_net_uptake_that_holds_the_shortfall(tmp_path, capsys):
    """Cells that shed a factor may release more of it than they take up (RANKL in a BMU): the note then gives
    the molecules, not a share of a negative or smaller net."""
    from boneabm.cli import _note_uptake

    (tmp_path / "metadata.json").write_text(json.dumps({"uptake": {
        "note": "…", "mcsf": {"net_molecules": 400.0, "shortfall_molecules": 100.0},
        "rankl": {"net_molecules": -2.6e8, "shortfall_molecules": 1.7e6},
        "opg": {"net_molecules": -9e8, "shortfall_molecules": 0.0}}}))
    _note_uptake(tmp_path)
    err = capsys.readouterr().err
    assert "25.0% of the cells' mcsf uptake (100 molecules)" in err
    assert "1.7e+06 molecules of the cells' rankl uptake exceeded" in err and "rankl uptake (" not in err
    assert "opg" not in err


def test_metadata_accounts_for_uptake_and_the_shortfall_is_explained(tmp_path, small_yaml, capsys):
    """Uptake beyond what a site's thin layer holds within a tick is counted, explained in metadata.json and
    reported by the command (not under --quiet); a starving tissue's shortfall is a larger share."""
    assert main(["run", str(small_yaml()), "--out", str(tmp_path / "culture")]) == 0
    uptake = json.loads((tmp_path / "culture" / "metadata.json").read_text())["uptake"]
    assert "shortfall" in uptake["note"] and uptake["mcsf"]["net_molecules"] > 0
    culture_share = uptake["mcsf"]["shortfall_molecules"] / uptake["mcsf"]["net_molecules"]
    assert 0 < culture_share < 0.5
    assert f"{culture_share:.1%} of the cells' mcsf uptake" in capsys.readouterr().err
    starving = small_yaml(fields={"mode": "tissue"}, medium={"change_every_h": None, "mcsf_ng_ml": 0.3})
    assert main(["run", str(starving), "--out", str(tmp_path / "tissue"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    uptake = json.loads((tmp_path / "tissue" / "metadata.json").read_text())["uptake"]
    assert uptake["mcsf"]["shortfall_molecules"] / uptake["mcsf"]["net_molecules"] > culture_share
