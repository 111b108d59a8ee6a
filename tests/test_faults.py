"""A disk that fills up mid-run (issue 16): the run ends with one clear line and exit status 1, its metadata says
"failed" and why when the disk still takes that, no temporary file is left, and it never looks complete.

The full disk is simulated where the recorder appends a table row: OSError(ENOSPC) as the file system raises it.
"""

import errno
import importlib
import json

import pytest
import yaml

from boneabm import output
from boneabm.cli import main
from conftest import SMALL, merged


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(merged(SMALL, {"time": {"duration_h": 6}})))
    return path


def full_disk_after(monkeypatch, appends: int, metadata_too: bool = False):
    calls = {"n": 0}
    for method in ("append", "append_rows"):  # frames (snapshots, final tables) and rows (each recording)
        real = getattr(output.TableWriter, method)

        def append(self, data, real=real):
            calls["n"] += 1
            if calls["n"] > appends:
                raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
            real(self, data)

        monkeypatch.setattr(output.TableWriter, method, append)
    if metadata_too:  # once the run has started: its first metadata.json says "running"
        real_write, writes = output.RunDirectory._write_metadata, {"n": 0}

        def write_metadata(self):
            writes["n"] += 1
            if writes["n"] > 1:
                raise OSError(errno.ENOSPC, "No space left on device", str(self.path / "metadata.json"))
            real_write(self)

        monkeypatch.setattr(output.RunDirectory, "_write_metadata", write_metadata)


def test_a_full_disk_ends_the_run_in_one_line_recorded_as_failed(config, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    full_disk_after(monkeypatch, appends=3)
    assert main(["run", str(config), "--seed", "1", "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "cannot write" in err and "No space left on device" in err
    partial = tmp_path / "run.partial"
    assert not out.exists() and partial.is_dir()
    metadata = json.loads((partial / "metadata.json").read_text())
    assert metadata["status"] == "failed" and "No space left on device" in metadata["error"]
    assert not [p for p in partial.rglob("*") if p.name.endswith(".tmp")]


def test_when_even_the_metadata_cannot_be_written_the_run_says_so(config, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    full_disk_after(monkeypatch, appends=3, metadata_too=True)
    assert main(["run", str(config), "--seed", "1", "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "could not record this either" in err
    metadata = json.loads((tmp_path / "run.partial" / "metadata.json").read_text())
    assert metadata["status"] == "running"  # as the run left it: unfinished, never "complete"
    assert not out.exists()


def test_a_bug_still_shows_its_traceback(config, tmp_path, monkeypatch, capsys):
    def broken(self, frame):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(output.TableWriter, "append", broken)
    monkeypatch.setattr(output.TableWriter, "append_rows", broken)
    assert main(["run", str(config), "--seed", "1", "--out", str(tmp_path / "run"), "--quiet"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_a_disk_full_from_the_start_is_one_line_and_nothing_complete(config, tmp_path, monkeypatch, capsys):
    def no_metadata(self):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path / "metadata.json"))

    monkeypatch.setattr(output.RunDirectory, "_write_metadata", no_metadata)
    out = tmp_path / "run"
    assert main(["run", str(config), "--seed", "1", "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "cannot write" in err and "No space left on device" in err
    assert not out.exists()


def test_a_sweep_that_cannot_write_its_summary_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    """A full disk when the sweep's tables are written (it crashed with a traceback): one line, exit 1, and no
    summary that could be taken for a finished sweep."""
    collect_module = importlib.import_module("boneabm.sweep.collect")  # the package exports a function of that name

    (tmp_path / "base.yaml").write_text(yaml.safe_dump(merged(SMALL, {"time": {"duration_h": 2}})))
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"sweep": "full", "base": "base.yaml", "seed": 1,
                                    "grid": {"medium.rankl_ng_ml": [0, 50]}}))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--index", "0", "--quiet"]) == 0
    capsys.readouterr()

    def full(target, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(collect_module, "write_atomically", full)
    assert main(["sweep", str(path), "--out", str(out), "--collect", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "summary.csv (No space left on device)" in err and not (out / "summary.csv").exists()


def test_a_reader_that_stops_reading_is_not_a_failure(monkeypatch, capfd):
    """`boneabm sweep --list | head`: a broken pipe is an OSError too, and must not reach the full-disk handler
    (which re-raised it with a traceback)."""
    from boneabm import cli

    def reader_gone(args):
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(cli, "_check", reader_gone)
    assert main(["check", "osteoclastogenesis"]) == 0
    assert "Traceback" not in capfd.readouterr().err
