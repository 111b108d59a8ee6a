"""Panels: every arm is the base experiment plus its perturbation, nothing else."""

import pytest

from boneabm.catalog import examples, find
from boneabm.errors import UserError
from boneabm.panel import load_panel

PANELS = [example.path for example in examples("panel")]


def flatten(d, prefix=""):
    for key, value in d.items():
        if isinstance(value, dict):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@pytest.mark.parametrize("path", PANELS, ids=lambda p: p.stem)
def test_each_arm_differs_from_the_base_only_in_its_overrides(path):
    panel = load_panel(path)
    base = dict(flatten(panel.experiment(next(iter(panel.arms))).to_dict()))
    from boneabm.config import load_experiment

    plain = dict(flatten(load_experiment(panel.base).to_dict()))
    for arm, overrides in panel.arms.items():
        resolved = dict(flatten(panel.experiment(arm).to_dict()))
        changed = {k for k in resolved if resolved[k] != plain.get(k)} - {"name"}
        allowed = {o.split("=", 1)[0] for o in overrides}
        assert changed <= allowed, f"{arm} changes {changed - allowed} beyond its perturbation"
    assert base  # the panel's arms load


def test_the_perturbation_panel_covers_the_issue_list():
    panel = load_panel(find("perturbations", "panel").path)
    for arm in ["wild_type", "no_rankl", "rank_ko", "traf6_ko", "cfos_ko", "nfkb_p50_p52_dko", "nfatc1_ko", "plcg2_ko",
                "dap12_ko", "fcrg_ko", "dap12_fcrg_dko", "btk_tec_dko", "dcstamp_ko", "ocstamp_ko", "ctsk_ko",
                "plc_inhibitor", "calcineurin_inhibitor"]:
        assert arm in panel.arms


def test_a_bad_panel_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("panel: x\nbase: missing.yaml\narms: {a: []}\n")
    with pytest.raises(UserError, match="no such file"):
        load_panel(bad)
    bad.write_text(f"panel: x\nbase: {PANELS[0].parent.parent / 'osteoclastogenesis.yaml'}\narms: {{a: [bogus=1]}}\n")
    with pytest.raises(UserError, match="bogus"):
        load_panel(bad)
