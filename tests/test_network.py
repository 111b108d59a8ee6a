"""Network files: units, validation messages that name the culprit, compilation, the shipped RANK network."""

import copy

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boneabm.signaling import load_network, network_from_dict
from boneabm.signaling.network import NetworkError, network_path
from boneabm.signaling.units import UnitError, parse_unit
from conftest import FUZZ_VALUES, edited, key_paths

GOOD = {
    "name": "t", "cell_volume_pl": 1.0, "modules": {"m": {"molecules_per_nM": 10}, "other": {"molecules_per_nM": 5}},
    "inputs": {"L": {"unit": "nM"}},
    "species": {"A": {"module": "m", "initial": 5}, "B": {"module": "m"}, "Z": {"module": "other"}},
    "parameters": {"k1": {"value": 2, "unit": "1/min", "source": "calibrated"},
                   "k0": {"value": 3, "unit": "nM/h", "source": "calibrated"},
                   "K": {"value": 1, "unit": "nM", "source": "calibrated"},
                   "n": {"value": 2, "unit": "1", "source": "calibrated"}},
    "reactions": [{"name": "make", "products": {"A": 1}, "k": "k0",
                   "modifiers": [{"species": "Z", "law": "hill", "K": "K", "n": "n"}]},
                  {"name": "convert", "reactants": {"A": 1}, "products": {"B": 1}, "k": "k1"}],
}


def broken(change):
    data = copy.deepcopy(GOOD)
    change(data)
    with pytest.raises(NetworkError) as info:
        network_from_dict(data)
    return str(info.value)


@pytest.mark.parametrize("text, factor, dims", [
    ("1/h", 1.0, (0, 0, -1)), ("1/min", 60.0, (0, 0, -1)), ("1/s", 3600.0, (0, 0, -1)),
    ("nM", 1.0, (1, 0, 0)), ("pM", 1e-3, (1, 0, 0)), ("uM", 1e3, (1, 0, 0)),
    ("1/(nM*min)", 60.0, (-1, 0, -1)), ("nM/h", 1.0, (1, 0, -1)), ("molecules/h", 1.0, (0, 1, -1)),
    ("1/(nM^2*h)", 1.0, (-2, 0, -1)), ("1", 1.0, (0, 0, 0)), ("1/d", 1 / 24, (0, 0, -1)),
])
def test_units_parse_to_hours_nanomolar_and_molecules(text, factor, dims):
    unit = parse_unit(text)
    assert unit.factor == pytest.approx(factor) and unit.dims == dims


@pytest.mark.parametrize("text", ["furlongs", "1/(nM", "nM^x", "", "nM nM"])
def test_bad_units_are_refused(text):
    with pytest.raises(UnitError):
        parse_unit(text)


def test_compiled_constants_are_in_molecules_and_hours():
    network = network_from_dict(GOOD)
    a = network.arrays
    assert a.rate_constant[0] == pytest.approx(3 * 10)  # 3 nM/h × 10 molecules/nM
    assert a.rate_constant[1] == pytest.approx(120)  # 2/min
    assert a.modifier_K[0] == pytest.approx(5)  # 1 nM of Z in Z's module (5 per nM)
    assert list(a.volume_exponent) == [1.0, 0.0]


def test_unknown_species_names_the_reaction():
    message = broken(lambda d: d["reactions"][1].update(products={"Q": 1}))
    assert "reaction convert: unknown product species 'Q'" in message


def test_negative_stoichiometry_is_refused():
    assert "stoichiometry -1" in broken(lambda d: d["reactions"][1].update(products={"B": -1}))


def test_missing_parameter_names_the_reaction():
    assert "reaction convert: missing parameter 'k9'" in broken(lambda d: d["reactions"][1].update(k="k9"))


def test_unknown_unit_names_the_parameter():
    message = broken(lambda d: d["parameters"]["k1"].update(unit="1/fortnight"))
    assert "parameter k1" in message and "unknown unit 'fortnight'" in message


def test_inconsistent_unit_names_reaction_and_expectation():
    message = broken(lambda d: d["parameters"]["k1"].update(unit="nM/h"))
    assert "reaction convert: rate constant k1 has unit 'nM/h'" in message and "expected a unit like 1/h" in message


def test_one_event_cannot_mean_different_amounts_in_different_modules():
    message = broken(lambda d: d["reactions"][1].update(products={"Z": 1}))
    assert "different molecules_per_nM" in message


def test_every_parameter_needs_a_source():
    with pytest.raises(NetworkError, match="source"):
        network_from_dict({**GOOD, "parameters": {**GOOD["parameters"], "k1": {"value": 2, "unit": "1/h"}}})


def test_unknown_keys_are_refused():
    with pytest.raises(NetworkError, match=r"speceis: unknown key \(did you mean 'species'\?\); allowed here: "):
        network_from_dict({**GOOD, "speceis": {}})


def test_the_rank_network_loads_with_every_stage():
    network = load_network("rank")
    for name in ["RANK", "RANK_L", "TRAF6_a", "TAK1_a", "NFkB_n", "MAPK_a", "cFos", "Gab2", "DAP12_p", "FcRg_p",
                 "BtkTec_a", "BLNK", "PLCg2_a", "CaN_a", "NFATc1", "NFATc1_n", "Blimp1", "IRF8", "MafB", "Bcl6",
                 "DC_STAMP", "OC_STAMP", "Atp6v0d2", "TRAP", "CtsK", "Itgb3"]:
        assert name in network.species
    for p in network.spec.parameters.values():
        assert p.source.startswith("calibrated") or any(ch.isdigit() for ch in p.source) or "Hill" in p.source
    assert set(network.inputs) == {"rankl_nM", "mcsf_nM", "itam_ligand"}
    # a knockout switches off synthesis into the gene's pool only
    traf6 = network.resolve_gene("Traf6")
    names = [network.reactions[j] for j in network.synthesis_reactions(traf6)]
    assert names == ["traf6_synthesis"]


def test_boneabm_network_fits_a_terminal_and_keeps_every_source_visible(capsys):
    """The default text output fits the terminal's width, wrapping long sources under their column, so no
    parameter's source is cut off; markdown and csv give the same tables for documents and pandas."""
    import io

    import pandas as pd

    from boneabm.cli import main
    from boneabm.signaling.describe import describe, parameter_table

    rank = load_network("rank")
    for width in (80, 120):
        text = describe(rank, "text", width)
        assert max(len(line) for line in text.splitlines()) <= width
        flat = " ".join(text.split())
        for source in parameter_table(rank)["source"]:
            assert " ".join(str(source).split()) in flat  # every word of every source, in order
    assert main(["network", "--format", "csv", "--table", "parameters"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(table.columns) == ["parameter", "value", "unit", "source"] and len(table) == len(rank.spec.parameters)
    assert main(["network", "--format", "markdown"]) == 0
    assert "| parameter | value | unit | source |" in capsys.readouterr().out
    assert main(["network", "--format", "csv"]) == 2


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_network_numbers_are_finite(value):
    """A NaN or infinite rate made `boneabm network` and `check` hang in the kernel's first simulation."""
    data = yaml.safe_load(network_path("rank").read_text())
    data["parameters"]["k_cfos_syn"]["value"] = value
    with pytest.raises(NetworkError, match=r"parameters\.k_cfos_syn\.value.*finite number"):
        network_from_dict(data, "bad")


@pytest.mark.parametrize("change, says", [
    (lambda d: d["parameters"]["k_cfos_syn"].update(value=1e300),
     "reaction cfos_synthesis: rate constant k_cfos_syn = 1e+300 nM/h is 1e+301 per hour per molecule"),
    (lambda d: d.update(cell_volume_pl=1e300), "cell_volume_pl = 1e+300: Input should be less than or equal to 10000"),
    (lambda d: d.update(reactions=[], counters={}), "reactions = []: List should have at least 1 item"),
    (lambda d: d["species"]["cFos"].update(module="nowhere"), "species cFos: unknown module 'nowhere'; modules: "),
    (lambda d: d["species"]["TRAF6"].update(initial=-3), "species.TRAF6.initial.mean = -3: Input should be greater"),
    (lambda d: d["species"]["TRAF6"].update(initial={"distribution": "poisson", "mean": 1e300}),
     "species.TRAF6.initial.mean = 1e+300: Input should be less than or equal to 1000000000"),
])
def test_networks_that_could_only_hang_or_crash_are_refused_naming_the_culprit(change, says):
    """Each of these hung `boneabm network` and `check`, or ended in a KeyError, ValueError or a raw pydantic
    error (issue 16)."""
    data = yaml.safe_load(network_path("rank").read_text())
    change(data)
    with pytest.raises(NetworkError) as info:
        network_from_dict(data, "bad")
    assert says in str(info.value)


_RANK = yaml.safe_load(network_path("rank").read_text())
_RANK.pop("reference_inputs")  # compile only: no solver run per example
_RANK_PATHS = sorted(key_paths(_RANK), key=repr)


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_RANK_PATHS), FUZZ_VALUES), min_size=1, max_size=3))
def test_malformed_networks_never_raise_anything_but_a_network_error(edits):
    """A fuzzer over the shipped network's own keys (issue 16): any value anywhere is compiled or refused with a
    NetworkError; what compiles stays within the limits that keep the kernel from hanging."""
    data = edited(_RANK, edits)
    try:
        network = network_from_dict(data, "fuzzed")
    except NetworkError:
        return
    assert np.all(np.isfinite(network.arrays.rate_constant)) and network.arrays.rate_constant.max() <= 1e5
    assert network.spec.cell_volume_pl <= 1e4
