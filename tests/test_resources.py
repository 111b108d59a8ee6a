"""Work that cannot fit or finish is refused before it starts (issue 16): a run's memory and ticks are estimated
from its experiment; more than the machine's memory is refused, more than the thresholds needs --force; every
shipped experiment and sweep starts without it."""

import pytest

from boneabm.catalog import examples, resolve
from boneabm.cli import main
from boneabm.config import load_experiment
from boneabm.errors import UserError
from boneabm.resources import check_affordable, estimate, machine_memory_bytes
from boneabm.sweep import load_sweep


def test_a_domain_larger_than_the_machine_is_refused_even_with_force(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "osteoclastogenesis", "--set", "domain.width_um=50000", "--set", "domain.height_um=50000",
                 "--set", "bone.pixels_per_site=20", "--force", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "2000 x 2000 sites with bone.pixels_per_site = 20" in error and "this machine has" in error
    assert "Traceback" not in error and not out.exists() and not out.with_name("run.partial").exists()


def test_a_run_of_too_many_ticks_needs_force_and_says_what_it_costs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "osteoclastogenesis", "--set", "time.dt_h=1e-5", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "16,800,000 ticks" in error and "give --force" in error and not out.exists()
    experiment = load_experiment(resolve("osteoclastogenesis"), ["time.dt_h=1e-5"])
    assert check_affordable(experiment, force=True).ticks == 16_800_000


def test_the_thresholds_are_set_by_environment_variables(monkeypatch):
    experiment = load_experiment(resolve("osteoclastogenesis"), [])
    check_affordable(experiment, force=False)
    monkeypatch.setenv("BONEABM_FORCE_ABOVE_TICKS", "1000")
    with pytest.raises(UserError, match="1,680 ticks .* above the 8 GB or 1,000 ticks"):
        check_affordable(experiment, force=False)
    monkeypatch.setenv("BONEABM_FORCE_ABOVE_TICKS", "many")
    with pytest.raises(UserError, match="BONEABM_FORCE_ABOVE_TICKS='many': give a positive number"):
        check_affordable(experiment, force=False)


def test_the_estimate_grows_with_sites_and_bone_pixels():
    small = estimate(load_experiment(resolve("osteoclastogenesis"), []))
    wide = estimate(load_experiment(resolve("osteoclastogenesis"), ["domain.width_um=5200"]))
    fine = estimate(load_experiment(resolve("osteoclastogenesis"), ["bone.pixels_per_site=10"]))
    assert small.memory_bytes < wide.memory_bytes and small.memory_bytes < fine.memory_bytes
    assert machine_memory_bytes() > 1e9


@pytest.mark.parametrize("example", [e for e in examples() if e.kind in ("experiment", "sweep")],
                         ids=lambda e: e.name)
def test_every_shipped_experiment_and_sweep_starts_without_force(example):
    if example.kind == "experiment":
        check_affordable(load_experiment(example.path, []), force=False)
    else:
        for run in load_sweep(example.path, seed=1).runs:
            check_affordable(run.experiment, force=False)
