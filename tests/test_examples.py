"""Shipped examples: found by name, listed, copied out; check recognises sweeps and panels; seeds are honest."""

import yaml

from boneabm import catalog
from boneabm.cli import main
from boneabm.config import load_experiment


def test_every_shipped_example_is_valid_and_none_fixes_a_seed(capsys):
    """Re-runs of a shipped experiment or sweep must be replicates, not copies: no example carries a seed."""
    kinds = {e.kind for e in catalog.examples()}
    assert kinds == {"experiment", "sweep", "panel"}
    for example in catalog.examples("experiment"):
        experiment = load_experiment(example.path)
        assert experiment.seed is None, example.name
        assert "seed" not in yaml.safe_load(example.path.read_text()), example.name
    for example in catalog.examples("sweep"):  # nor a sweep: each sweep draws its own seed
        assert "seed" not in yaml.safe_load(example.path.read_text()), example.name
    for example in catalog.examples():
        assert main(["check", example.name]) == 0, example.name
        assert example.summary.endswith("."), example.name
    capsys.readouterr()


def test_examples_run_by_name_from_any_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r"
    assert main(["run", "osteoclastogenesis", "--out", str(out), "--set", "domain.width_um=250",
                 "--set", "domain.height_um=250", "--set", "time.duration_h=1"]) == 0
    err = capsys.readouterr().err
    seed = yaml.safe_load((out / "config.yaml").read_text())["seed"]
    assert f"seed {seed} drawn fresh" in err and f"--seed {seed} repeats this run" in err


def test_a_seed_from_the_config_is_announced(tmp_path, small_yaml, capsys):
    assert main(["run", str(small_yaml()), "--out", str(tmp_path / "a")]) == 0
    assert "seed 7 comes from the config" in capsys.readouterr().err
    assert main(["run", str(small_yaml()), "--out", str(tmp_path / "b"), "--seed", "7"]) == 0
    assert "comes from the config" not in capsys.readouterr().err


def test_a_file_in_the_working_directory_wins_over_an_example(tmp_path, monkeypatch, small_yaml):
    monkeypatch.chdir(tmp_path)
    mine = small_yaml()
    (tmp_path / "osteoclastogenesis").write_text(mine.read_text())
    assert catalog.resolve("osteoclastogenesis") == tmp_path.joinpath("osteoclastogenesis").relative_to(tmp_path)
    assert catalog.resolve("rankl_opg_sweep", "sweep") == catalog.KINDS["sweep"] / "rankl_opg_sweep.yaml"


def test_a_folder_in_the_working_directory_does_not_hide_an_example(tmp_path, monkeypatch, capsys):
    """A folder named like an example (the user's runs of it, say) is never a config: the name is the example's;
    a folder no example is named like is refused as a folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bmu").mkdir()
    (tmp_path / "mine").mkdir()
    assert catalog.resolve("bmu") == catalog.find("bmu").path
    assert main(["check", "bmu"]) == 0
    capsys.readouterr()
    assert main(["check", "mine"]) == 2
    assert "mine: is a directory, expected a YAML file" in capsys.readouterr().err


def test_unknown_names_are_refused_with_the_list(capsys):
    assert main(["run", "osteoclastogensis"]) == 2
    err = capsys.readouterr().err
    assert "no shipped experiment" in err and "osteoclastogenesis" in err and "Traceback" not in err


def test_examples_lists_prints_and_copies_without_overwriting(tmp_path, capsys):
    assert main(["examples"]) == 0
    listing = capsys.readouterr().out
    for example in catalog.examples():
        assert example.name in listing
    assert main(["examples", "rankl_opg_sweep"]) == 0
    assert capsys.readouterr().out == (catalog.KINDS["sweep"] / "rankl_opg_sweep.yaml").read_text()
    assert main(["examples", "rankl_opg_sweep", "--copy", str(tmp_path)]) == 0
    copy = tmp_path / "rankl_opg_sweep.yaml"
    assert capsys.readouterr().out.strip() == str(copy)
    copy.write_text(copy.read_text() + "# mine\n")
    assert main(["examples", "rankl_opg_sweep", "--copy", str(tmp_path)]) == 2  # never overwrites
    assert copy.read_text().endswith("# mine\n")
    # the copied sweep names its base by example name, so it expands where it landed
    assert main(["check", str(copy)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 60


def test_check_recognises_sweeps_and_panels(tmp_path, capsys):
    assert main(["check", "perturbations"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wild_type: (the base experiment)") and "dap12_ko: signaling.knockouts=[Tyrobp]" in out
    bad = tmp_path / "bad_sweep.yaml"
    bad.write_text("sweep: bad\nbase: osteoclastogenesis\nseed: 1\ngrid:\n  medium.rankl_ng: [1, 2]\n")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "medium.rankl_ng" in err and "sweep: unknown key" not in err  # judged as a sweep, not an experiment
    panel = tmp_path / "bad_panel.yaml"
    panel.write_text("panel: p\nbase: osteoclastogenesis\narms:\n  a: ['medium.rankl_ng_ml=-1']\n")
    assert main(["check", str(panel)]) == 2
    assert "medium.rankl_ng_ml" in capsys.readouterr().err


def test_out_that_exists_is_refused_before_any_banner(tmp_path, small_yaml, capsys):
    (tmp_path / "taken").mkdir()
    assert main(["run", str(small_yaml()), "--out", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("boneabm: error: --out") and "seed" not in err and "precursors" not in err


def test_docs_writes_where_told_never_into_the_working_directory(tmp_path, monkeypatch, capsys):
    from boneabm.docs import checkout_model_md, generate

    monkeypatch.chdir(tmp_path)
    target = tmp_path / "sub" / "model.md"
    assert main(["docs", "--out", str(target)]) == 2  # no such directory: refused, nothing written
    target.parent.mkdir()
    assert main(["docs", "--out", str(target)]) == 0 and target.read_text() == generate()
    assert main(["docs", "--out", "-"]) == 0 and capsys.readouterr().out.endswith(generate())
    assert not (tmp_path / "docs").exists()
    # from a checkout the default is the checkout's own docs/model.md, wherever the command runs
    assert checkout_model_md() is not None and checkout_model_md().parent.name == "docs"
    assert not str(checkout_model_md()).startswith(str(tmp_path))
