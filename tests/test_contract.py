"""A network declares what the lineage that runs it reads (roles) and needs (inputs); the model never assumes
our species names. A network that breaks the contract is refused before any work, naming the role or input, the
network file and the lineage."""

import copy
from pathlib import Path

import pytest
import yaml

from boneabm.cells.contract import ContractError, bind
from boneabm.cells.osteoclast.contract import CONTRACT
from boneabm.cli import main
from boneabm.signaling.network import NetworkError, load_network, network_from_dict, network_path

RANK = yaml.safe_load(network_path("rank").read_text())


def renamed(network: dict, old: str, new: str) -> dict:
    """``network`` with species ``old`` called ``new`` everywhere it is named."""
    text = yaml.safe_dump(network, sort_keys=False)
    data = yaml.safe_load(text)
    data["species"] = {(new if k == old else k): v for k, v in data["species"].items()}
    for reaction in data["reactions"]:
        for side in ("reactants", "products"):
            if old in reaction.get(side, {}):
                reaction[side] = {(new if k == old else k): v for k, v in reaction[side].items()}
        for modifier in reaction.get("modifiers", []):
            if modifier.get("species") == old:
                modifier["species"] = new
    for table in ("genes", "observables"):
        data[table] = {k: [new if s == old else s for s in v] for k, v in data.get(table, {}).items()}
    data["roles"] = {k: (new if v == old else v) for k, v in data["roles"].items()}
    return data


def write(tmp_path: Path, network: dict, small_yaml) -> Path:
    (tmp_path / "net.yaml").write_text(yaml.safe_dump(network, sort_keys=False))
    return small_yaml(signaling={"network": str(tmp_path / "net.yaml")}, time={"duration_h": 6})


def test_a_network_with_its_own_species_names_runs_exactly_as_ours(tmp_path, small_yaml):
    """TRAP called Acp5_protein and c-Fos called Fos_protein, bound through roles: the same model, the same
    tables (observables keep their names)."""
    network = renamed(renamed(RANK, "TRAP", "Acp5_protein"), "cFos", "Fos_protein")
    config = write(tmp_path, network, small_yaml)
    assert main(["run", str(config), "--out", str(tmp_path / "theirs"), "--quiet"]) == 0
    ours = small_yaml(time={"duration_h": 6})
    assert main(["run", str(ours), "--out", str(tmp_path / "ours"), "--quiet"]) == 0
    for table in ("timeseries", "events", "osteoclasts"):
        assert (tmp_path / "theirs" / f"{table}.csv").read_bytes() == (tmp_path / "ours" / f"{table}.csv").read_bytes()


@pytest.mark.parametrize("change, says", [
    (lambda n: n["roles"].pop("commitment_marker"), "role 'commitment_marker'"),
    (lambda n: n["roles"].pop("fusion_gene_2"), "role 'fusion_gene_2'"),
    (lambda n: n["inputs"].update(tgfb_nM={"unit": "nM"}), "input 'tgfb_nM' is not supplied by the lineage"),
    (lambda n: (n["inputs"].update(costim_nM={"unit": "nM"}), n["roles"].update(itam_ligand="costim_nM")),
     "input 'costim_nM' is in 'nM' but the lineage supplies itam_ligand in '1'"),
])
def test_a_broken_contract_is_refused_before_any_work(tmp_path, small_yaml, capsys, change, says):
    network = copy.deepcopy(RANK)
    change(network)
    for name in set(network["inputs"]) - set(network["reference_inputs"]):
        network["reference_inputs"][name] = 0.0
    config = write(tmp_path, network, small_yaml)
    for command in (["check", str(config)], ["run", str(config), "--out", str(tmp_path / "run")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert says in err and "lineage osteoclast" in err and str(tmp_path / "net.yaml") in err
        assert "Traceback" not in err
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()


def test_an_input_bound_by_role_under_another_name():
    network = copy.deepcopy(RANK)
    network["inputs"]["free_rankl"] = network["inputs"].pop("rankl_nM")
    network["reference_inputs"]["free_rankl"] = network["reference_inputs"].pop("rankl_nM")
    for reaction in network["reactions"]:
        for key in ("consumes", "releases"):
            if reaction.get(key) == "rankl_nM":
                reaction[key] = "free_rankl"
        for modifier in reaction.get("modifiers", []):
            if modifier.get("input") == "rankl_nM":
                modifier["input"] = "free_rankl"
    with pytest.raises(ContractError, match="input 'free_rankl' is not supplied"):
        bind(network_from_dict(network, "renamed"), CONTRACT)
    network["roles"]["rankl_nM"] = "free_rankl"
    binding = bind(network_from_dict(network, "renamed"), CONTRACT)
    assert binding.inputs[list(network["inputs"]).index("free_rankl")] == "rankl_nM"


def test_a_role_bound_to_nothing_in_the_network_is_a_network_error():
    network = copy.deepcopy(RANK)
    network["roles"]["collagenase"] = "CathepsinK"
    with pytest.raises(NetworkError, match="role collagenase: 'CathepsinK' is neither a species, an input nor a counter"):
        network_from_dict(network, "bad")


def test_the_builtin_network_binds_every_role_to_the_species_the_biology_names():
    binding = bind(load_network("rank"), CONTRACT)
    species = load_network("rank").species
    named = {role: species[i] for role, i in binding.species.items()}
    assert named == {"mitogenic_signal": "CSF1R_M", "commitment_marker": "TRAP", "arrest_signal": "cFos",
                     "fusion_gene_1": "DC_STAMP", "fusion_gene_2": "OC_STAMP", "acid_phosphatase": "TRAP", "proton_pump": "Atp6v0d2",
                     "sealing_integrin": "Itgb3", "collagenase": "CtsK", "apoptosis_signal": "Bim"}


def test_boneabm_network_prints_the_roles_a_network_binds(capsys):
    assert main(["network", "rank", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "## Roles" in out and "- commitment_marker: TRAP" in out and "- collagenase: CtsK" in out


def test_a_built_in_network_file_can_be_found_to_copy(capsys):
    assert main(["network", "rank", "--path"]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed == load_network("rank").path == network_path("rank").resolve()
    assert yaml.safe_load(printed.read_text())["name"] == load_network("rank").spec.name
