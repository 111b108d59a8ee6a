"""Fuzzers over the experiment and sweep files' own keys (issue 16; the network fuzzer is in test_network.py):
any value anywhere is accepted or refused with a ``UserError`` naming it, never another exception or a hang, and
what is accepted keeps the promises the run relies on (finite numbers, a run that fits or is refused by its
estimate). Seeded (derandomize) and bounded, so CI runs the same examples in well under a minute."""

import math

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boneabm.catalog import resolve
from boneabm.config import load_experiment
from boneabm.errors import UserError
from boneabm.resources import check_affordable
from boneabm.sweep import load_sweep
from conftest import FUZZ_VALUES, SMALL, edited, key_paths, merged

_EXPERIMENT = load_experiment(resolve("osteoclastogenesis")).to_dict()
_EXPERIMENT_PATHS = sorted(key_paths(_EXPERIMENT), key=repr)
_SWEEP = {"sweep": "fuzz", "base": "base.yaml", "seed": 3, "replicates": 2, "set": ["medium.mcsf_ng_ml=20"],
          "grid": {"medium.rankl_ng_ml": [0, 50], "signaling.knockouts": [[], ["Fos"]]},
          "sample": {"method": "lhs", "n": 3, "ranges": {"medium.opg_ng_ml": [1, 100],
                                                         "osteoclasts.min_nuclei": [2, 5]}}}
_SWEEP_PATHS = sorted(key_paths(_SWEEP), key=repr)
_FUZZ = settings(max_examples=120, derandomize=True, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _finite_numbers(node) -> bool:
    if isinstance(node, dict):
        return all(_finite_numbers(v) for v in node.values())
    if isinstance(node, list):
        return all(_finite_numbers(v) for v in node)
    return not isinstance(node, float) or math.isfinite(node)


@_FUZZ
@given(st.lists(st.tuples(st.sampled_from(_EXPERIMENT_PATHS), FUZZ_VALUES), min_size=1, max_size=3))
def test_malformed_experiments_never_raise_anything_but_a_user_error(edits):
    try:
        experiment = load_experiment(data=edited(_EXPERIMENT, edits))
        check_affordable(experiment, force=True)
    except UserError:
        return
    assert _finite_numbers(experiment.to_dict())
    assert experiment.time.n_ticks >= 1


@_FUZZ
@given(st.lists(st.tuples(st.sampled_from(_SWEEP_PATHS), FUZZ_VALUES), min_size=1, max_size=3))
def test_malformed_sweeps_never_raise_anything_but_a_user_error(tmp_path_factory, edits):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "base.yaml").write_text(yaml.safe_dump(merged(SMALL, {"time": {"duration_h": 24}})))
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(edited(_SWEEP, edits)))
    try:
        sweep = load_sweep(path, max_runs=200)
    except UserError:
        return
    assert 1 <= len(sweep.runs) <= 200
    assert len({run.run_id for run in sweep.runs}) == len(sweep.runs)
    assert len({run.seed for run in sweep.runs}) == len(sweep.runs)
