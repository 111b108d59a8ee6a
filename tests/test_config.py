"""The experiment schema: defaults, range checks, clear messages, overrides."""

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boneabm.config import Experiment, apply_overrides, load_experiment, with_seed
from boneabm.errors import UserError


def error_of(**kwargs) -> str:
    with pytest.raises(UserError) as info:
        load_experiment(**kwargs)
    return str(info.value)


def test_defaults_are_a_valid_experiment_and_resolve_round_trip():
    experiment = load_experiment(data={})
    assert experiment.medium.mcsf_ng_ml == 30.0
    assert experiment.time.n_ticks == 1680
    assert experiment.domain.shape == (80, 80)
    assert experiment.n_plated == round(3.1e4 * 0.04)
    # the saved, resolved config loads back to the same experiment
    assert load_experiment(data=yaml.safe_load(experiment.to_yaml())) == experiment


def test_every_field_documents_itself():
    def walk(model):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                walk(annotation)
    walk(Experiment)


def test_unknown_key_is_named_with_a_did_you_mean():
    message = error_of(data={"domain": {"hieght_um": 500}})
    assert "domain.hieght_um: unknown key" in message
    assert "did you mean 'domain.height_um'" in message
    assert "width_um" in message  # lists what is allowed


def test_a_retired_key_says_what_replaced_it():
    message = error_of(data={"osteoclasts": {"survival_mcsf_ec50_ng_ml": 2.0}})
    assert "osteoclasts.survival_mcsf_ec50_ng_ml: no longer a key" in message
    assert "Bim" in message and "osteoclasts.death_bim_half_molecules" in message


def test_the_retired_wnt_level_points_to_the_cells_that_make_wnt_now():
    message = error_of(data={"osteoblasts": {"signaling": {"wnt_nM": 0.5}}})
    assert "osteoblasts.signaling.wnt_nM: no longer a key" in message
    assert "osteocytes.wnt_per_cell_h" in message and "osteoclasts.wnt_per_nucleus_h" in message


def test_unknown_top_level_section_is_named():
    assert "did you mean 'medium'" in error_of(data={"meduim": {"mcsf_ng_ml": 3}})


@pytest.mark.parametrize("key, section, value", [
    ("mcsf_ng_ml", "medium", -3),
    ("death_rate_no_mcsf_per_h", "precursors", -0.1),
    ("dt_h", "time", 0),
    ("grid_spacing_um", "domain", -25),
])
def test_negative_rates_and_concentrations_are_refused_naming_key_and_value(key, section, value):
    message = error_of(data={section: {key: value}})
    assert f"{section}.{key} = {value!r}" in message
    assert "greater than" in message


def test_wrong_type_names_key_value_and_expectation():
    message = error_of(data={"medium": {"mcsf_ng_ml": "lots"}})
    assert "medium.mcsf_ng_ml = 'lots'" in message and "valid number" in message


def test_all_errors_are_reported_at_once():
    message = error_of(data={"medium": {"mcsf_ng_ml": -1, "rankl_ng_ml": -2}, "seed": -5})
    assert "medium.mcsf_ng_ml" in message and "medium.rankl_ng_ml" in message and "seed = -5" in message


def test_time_keys_must_be_whole_ticks():
    message = error_of(data={"time": {"dt_h": 0.1, "duration_h": 24.05, "record_every_h": 0.25,
                                      "snapshot_every_h": 0.05}})
    assert ("time.record_every_h = 0.25: not a whole number of ticks (time.dt_h = 0.1); use a multiple of 0.1 h "
            "such as 0.2 or 0.3") in message
    assert "time.duration_h = 24.05: not a whole number" in message and "such as 24 or 24.1" in message
    assert "time.snapshot_every_h = 0.05: not a whole number" in message and "such as 0.1 or 0.2" in message
    # decimal fractions of an hour that floats cannot hold exactly are whole ticks all the same
    assert load_experiment(data={"time": {"dt_h": 0.1, "duration_h": 0.3, "record_every_h": 0.3,
                                          "snapshot_every_h": 0.3}}).time.n_ticks == 3


@pytest.mark.parametrize("key", ["time.record_every_h", "fields.medium_exchange_um_per_h",
                                 "osteoclasts.migration_speed_um_per_h", "medium.rankl_ng_ml", "domain.width_um"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_every_number_is_finite(key, value):
    """An infinite exchange rate hung a run and an infinite speed finished "complete" with meaningless results."""
    section, name = key.split(".")
    assert f"{key} = {value}: Input should be a finite number" in error_of(data={section: {name: value}})


@pytest.mark.parametrize("key", ["time.record_every_h", "time.snapshot_every_h", "medium.change_every_h"])
def test_times_too_long_to_count_in_ticks_are_refused_not_overflowed(key):
    section, name = key.split(".")
    message = error_of(data={section: {name: 1e308}})
    assert f"{key} = 1e+308: more than 1e+09 ticks of time.dt_h = 0.1; at most 1e+08 h" in message


def test_medium_changes_must_be_whole_ticks():
    assert ("medium.change_every_h = 47.95: not a whole number of ticks (time.dt_h = 0.1); use a multiple of "
            "0.1 h such as 47.9 or 48") in error_of(data={"medium": {"change_every_h": 47.95}})
    coarse = {"dt_h": 0.25, "duration_h": 24, "record_every_h": 1, "snapshot_every_h": 24}
    assert ("medium.change_every_h = 0.6: not a whole number of ticks (time.dt_h = 0.25); use a multiple of 0.25 h "
            "such as 0.5 or 0.75") in error_of(data={"time": coarse, "medium": {"change_every_h": 0.6}})


def test_dose_times_must_be_whole_ticks():
    message = error_of(data={"doses": [{"drug": "opg_fc", "ng_ml": 100, "at_h": 24, "every_h": 24},
                                       {"drug": "opg_fc", "ng_ml": 100, "at_h": 0.05, "every_h": 0.13}]})
    assert ("doses[1].every_h = 0.13: not a whole number of ticks (time.dt_h = 0.1); use a multiple of 0.1 h such "
            "as 0.1 or 0.2") in message
    assert "doses[1].at_h = 0.05: not a whole number of ticks" in message and "such as 0 or 0.1" in message
    assert "doses[0]" not in message
    dose = {"drug": "opg_fc", "ng_ml": 100, "at_h": 0, "every_h": 0.3}  # a dose at t = 0 is on a tick
    assert load_experiment(data={"doses": [dose]}).doses[0].every_h == 0.3


@pytest.mark.parametrize("family, entry", [
    ("knockouts", {"gene": "Tyrobp"}),
    ("inhibitors", {"target": "calcineurin_inhibitor"}),
    ("clamps", {"species": "NFATc1", "molecules": 5}),
])
def test_perturbation_windows_must_be_whole_ticks(family, entry):
    message = error_of(data={"signaling": {family: [{**entry, "start_h": 0.03, "stop_h": 0.07}]}})
    assert (f"signaling.{family}[0].start_h = 0.03: not a whole number of ticks (time.dt_h = 0.1); use a multiple "
            "of 0.1 h such as 0 or 0.1") in message
    assert f"signaling.{family}[0].stop_h = 0.07: not a whole number of ticks" in message
    window = {**entry, "start_h": 0.1, "stop_h": 48}
    assert load_experiment(data={"signaling": {family: [window]}}).signaling.perturbations()[0].start_h == 0.1


def test_domain_must_hold_whole_sites():
    assert "domain.width_um = 510.0 must be a whole multiple" in error_of(data={"domain": {"width_um": 510}})


def test_plating_beyond_one_cell_per_site_is_refused():
    message = error_of(data={"precursors": {"plating_density_per_cm2": 2e5}})
    assert "precursors.plating_density_per_cm2 = 200000.0 exceeds" in message


def test_overrides_set_nested_values_read_as_yaml():
    experiment = load_experiment(data={}, overrides=["medium.mcsf_ng_ml=1e-3", "medium.change_every_h=null",
                                                     "time.duration_h=72"])
    assert experiment.medium.mcsf_ng_ml == pytest.approx(1e-3)  # PyYAML reads 1e-3 as a string; still a float
    assert experiment.medium.change_every_h is None
    assert experiment.time.duration_h == 72


def test_overrides_are_validated_like_the_file():
    assert "did you mean 'medium.mcsf_ng_ml'" in error_of(data={}, overrides=["medium.mcsf_ngml=3"])
    assert "expected dotted.key=value" in error_of(data={}, overrides=["medium.mcsf_ng_ml"])
    assert "is a value, not a section" in error_of(data={"seed": 4}, overrides=["seed.x=3"])


def test_setting_one_key_of_a_sub_section_keeps_its_other_defaults():
    """`--set fields.rankl.decay_per_h=0.4` was refused (diffusivity required) and
    `--set fields.antibody.diffusivity_um2_per_h=1` silently reset the antibody's decay to 0 (issue 16)."""
    defaults = Experiment().fields
    changed = load_experiment(data=apply_overrides({}, ["fields.rankl.decay_per_h=0.4",
                                                        "fields.antibody.diffusivity_um2_per_h=1"])).fields
    assert changed.rankl.decay_per_h == 0.4
    assert changed.rankl.diffusivity_um2_per_h == defaults.rankl.diffusivity_um2_per_h
    assert changed.antibody.diffusivity_um2_per_h == 1
    assert changed.antibody.decay_per_h == defaults.antibody.decay_per_h > 0
    assert changed.opg == defaults.opg


@pytest.mark.parametrize("data, key", [
    ({"doses": [{"drug": "opg_fc", "ng_ml": 100, "at_h": 1000}]}, "doses[0].at_h = 1000.0"),
    ({"signaling": {"knockouts": [{"gene": "Fos", "start_h": 24}]}}, "signaling.knockouts[0].start_h = 24.0"),
])
def test_a_dose_or_perturbation_starting_after_the_run_is_refused(data, key):
    message = error_of(data={"time": {"duration_h": 12}, **data})
    assert f"{key}: at or after the run's end (time.duration_h = 12.0), so it would never act" in message


@pytest.mark.parametrize("override, says", [
    ("time.dt_h=true", "time.dt_h = True: Input should be a valid number"),
    ('medium.mcsf_ng_ml="5"', "medium.mcsf_ng_ml = '5': Input should be a valid number"),
    ("osteoclasts.min_nuclei=3.5", "osteoclasts.min_nuclei = 3.5: Input should be a valid integer"),
])
def test_booleans_and_quoted_strings_are_not_numbers(override, says):
    """`--set time.dt_h=true` ran with a 1-h tick and a quoted "5" was taken as 5 (issue 16)."""
    assert says in error_of(data=apply_overrides({}, [override]))


def test_unquoted_numerals_are_numbers_as_yaml_1_2_reads_them(tmp_path):
    """PyYAML reads 1e-3 and 3.1e4 (no dot, or no exponent sign) as strings; boneabm reads them as numbers."""
    path = tmp_path / "e.yaml"
    path.write_text("medium: {rankl_ng_ml: 1e-3}\nprecursors: {plating_density_per_cm2: 3.1e4}\n")
    experiment = load_experiment(path, overrides=["medium.opg_ng_ml=2e1"])
    assert experiment.medium.rankl_ng_ml == 0.001 and experiment.precursors.plating_density_per_cm2 == 31000.0
    assert experiment.medium.opg_ng_ml == 20.0


def test_overrides_do_not_touch_the_original_mapping():
    data = {"medium": {"mcsf_ng_ml": 3}}
    apply_overrides(data, ["medium.mcsf_ng_ml=5"])
    assert data == {"medium": {"mcsf_ng_ml": 3}}


def test_file_problems_are_user_errors(tmp_path):
    assert "no such file" in error_of(path=tmp_path / "missing.yaml")
    assert "is a directory" in error_of(path=tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("medium: [unclosed\n")
    assert "not valid YAML" in error_of(path=bad)
    bad.write_text("- a list\n")
    assert "expected a mapping" in error_of(path=bad)
    bad.write_text("medium:\n  mcsf_ng_ml: 1\n  mcsf_ng_ml: 2\n")
    assert "'mcsf_ng_ml' is given twice" in error_of(path=bad)


def test_name_defaults_to_the_file_stem(tmp_path):
    path = tmp_path / "my experiment.yaml"
    path.write_text("seed: 3\n")
    assert load_experiment(path).name == "my_experiment"


def test_seed_is_drawn_when_absent_and_validated_when_given():
    drawn = with_seed(load_experiment(data={}))
    assert isinstance(drawn.seed, int) and drawn.seed >= 0
    assert with_seed(load_experiment(data={"seed": 4})).seed == 4
    assert with_seed(load_experiment(data={"seed": 4}), 9).seed == 9
    with pytest.raises(UserError, match="seed = -1"):
        with_seed(load_experiment(data={}), -1)


_FIELD_NAMES = ["name", "seed", "time", "domain", "medium", "precursors", "duration_h", "dt_h", "width_um",
                "grid_spacing_um", "mcsf_ng_ml", "change_every_h", "plating_density_per_cm2", "periodic"]
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                     st.text(max_size=8))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.one_of(st.sampled_from(_FIELD_NAMES), st.text(max_size=6)), inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.one_of(st.sampled_from(_FIELD_NAMES), st.text(max_size=6)), _values, max_size=5))
def test_malformed_configs_never_raise_anything_but_a_user_error(data):
    try:
        load_experiment(data=data)
    except UserError as exc:
        assert str(exc).startswith("config: invalid experiment")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_yaml_text_never_raises_anything_but_a_user_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("yaml") / "x.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_experiment(path)
    except UserError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=3))
def test_arbitrary_overrides_never_raise_anything_but_a_user_error(overrides):
    try:
        load_experiment(data={}, overrides=overrides)
    except UserError:
        pass
