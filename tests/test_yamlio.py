"""Malformed YAML never crashes or hangs: each is refused with exit 2 naming the file, before any work (issue 16).

Found by fuzzing: an unhashable key raised TypeError, 20,000 nested brackets RecursionError, /dev/zero
MemoryError; a FIFO as the config and a ten-line alias bomb hung.
"""

import os

import pytest

from boneabm.cli import main
from boneabm.yamlio import MAX_EXPANDED_NODES, MAX_FILE_BYTES, read_yaml

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcdefgh", "bcdefghi")) + "doses: [*i, *i]\n"


def refused(capsys, path, message):
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err and "Traceback" not in err


def test_an_unhashable_key_is_named(tmp_path, capsys):
    path = tmp_path / "key.yaml"
    path.write_text("{[1]: 2}\n")
    refused(capsys, path, "a key must be a name or a number, not a list")


def test_deep_nesting_is_refused(tmp_path, capsys):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 20000 + "\n")
    refused(capsys, path, "nested too deeply")


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path, capsys):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    refused(capsys, path, f"more than {MAX_EXPANDED_NODES:,} values once its aliases")
    # a few honest aliases are fine
    path.write_text("base: &m {mcsf_ng_ml: 30}\nmedium: *m\n")
    assert read_yaml(path)["medium"] == {"mcsf_ng_ml": 30}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_pipe_or_a_device_is_not_read(tmp_path, capsys):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    refused(capsys, fifo, "not a regular file")  # opening it would block until a writer came
    refused(capsys, "/dev/zero", "not a regular file")  # reading it would never end


def test_a_huge_file_is_refused_by_its_size(tmp_path, capsys):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: costs no disk
    refused(capsys, path, "more than the 10,485,760 a YAML input may have")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "null\n", "---\n"])
def test_an_empty_file_is_refused_not_run_as_all_defaults(tmp_path, capsys, text):
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    refused(capsys, path, "is empty")
