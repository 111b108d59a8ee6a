"""Networks in and out as SBML: the export passes libSBML's checks and reads back to the same kernel arrays, other
people's models import and simulate to their known means and variances, and what the SSA cannot run exactly is
refused by name. The cross-check against libRoadRunner is in test_sbml_roadrunner.py."""

import subprocess
import sys
from pathlib import Path

import libsbml
import numpy as np
import pytest
from scipy import stats

from boneabm.cli import main
from boneabm.signaling import load_network, network_from_dict, simulate
from boneabm.signaling.network import builtin_networks
from boneabm.signaling.sbml import to_sbml_document
from boneabm.signaling.sbml_import import SBMLError

DATA = Path(__file__).parent / "data"


def roadrunner_model(name: str) -> Path:
    """A model bundled with libRoadRunner (Apache-2.0; in the test extra): only these tests skip without it."""
    return Path(pytest.importorskip("roadrunner").__file__).parent / "tests" / name

N_CELLS = 1000


def z_ok(observed, expected, standard_error, n_tests, alpha=1e-3):
    """Two-sided z-test, Bonferroni over ``n_tests``: a bug of a few standard errors fails, chance fails 0.1 %."""
    return abs(observed - expected) <= stats.norm.isf(alpha / (2 * n_tests)) * standard_error


def variance_se(x):
    """Standard error of the sample variance, from the sample's fourth central moment."""
    d = x - x.mean()
    return np.sqrt(max(np.mean(d**4) - np.mean(d**2) ** 2, 1e-12) / x.size)


def written(tmp_path, network, name="model.xml", edit=None):
    document = to_sbml_document(network)
    if edit is not None:
        edit(document.getModel())
    path = tmp_path / name
    libsbml.writeSBMLToFile(document, str(path))
    return path


@pytest.mark.parametrize("name", builtin_networks())
def test_export_passes_libsbml_consistency_checks(name):
    document = to_sbml_document(load_network(name))
    assert (document.getLevel(), document.getVersion()) == (3, 2)
    assert document.checkConsistency() >= 0
    log = document.getErrorLog()
    errors = [log.getError(i).getMessage() for i in range(log.getNumErrors())
              if log.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert errors == []
    model = document.getModel()
    network = load_network(name)
    assert model.getNumReactions() == network.n_reactions and model.getCompartment("cell").getSize() == \
        network.spec.cell_volume_pl
    assert all(model.getReaction(r).getKineticLaw().getMath() is not None for r in network.reactions)


@pytest.mark.parametrize("name", builtin_networks())
def test_round_trip_gives_the_same_network_and_arrays(name, tmp_path):
    network = load_network(name)
    path = tmp_path / f"{name}.xml"
    path.write_text(network.to_sbml())
    back = load_network(path)
    assert back.spec == network.spec  # names, units, sources, genes, roles, observables, counters: all kept
    assert back.spec.model_dump_json() == network.spec.model_dump_json()  # in the same order (table columns)
    for field in network.arrays._fields:
        np.testing.assert_array_equal(getattr(back.arrays, field), getattr(network.arrays, field), err_msg=field)


EVERY_LAW = {
    "name": "every_law", "cell_volume_pl": 2.0, "dimer_propensity": "per_pair",
    "modules": {"m": {"molecules_per_nM": 10}, "other": {"molecules_per_nM": 5}},
    "inputs": {"L": {"unit": "nM"}, "level": {"unit": "1"}},
    "species": {"A": {"module": "m", "initial": {"distribution": "poisson", "mean": 20}}, "B": {"module": "m"},
                "Z": {"module": "other", "initial": {"distribution": "gamma", "mean": 8, "cv": 0.3}}},
    "parameters": {"k1": {"value": 2, "unit": "1/min", "source": "calibrated"},
                   "k0": {"value": 3, "unit": "1/h", "source": "calibrated"},
                   "kd": {"value": 0.5, "unit": "1/(nM*h)", "source": "calibrated"},
                   "kc": {"value": 4, "unit": "molecules/h", "source": "calibrated"},
                   "kb": {"value": 0.01, "unit": "1/(molecules*h)", "source": "calibrated"},
                   "K": {"value": 1, "unit": "nM", "source": "calibrated"},
                   "Km": {"value": 7, "unit": "molecules", "source": "calibrated"},
                   "n": {"value": 2.5, "unit": "1", "source": "calibrated"},
                   "b": {"value": 0.2, "unit": "1", "source": "calibrated"},
                   "unused": {"value": 9, "unit": "1/h", "source": "kept though no reaction reads it"}},
    "reactions": [
        {"name": "make", "products": {"A": 1}, "k": "k0", "consumes": "L",
         "modifiers": [{"species": "Z", "law": "hill", "K": "K", "n": "n", "basal": "b"},
                       {"input": "L", "law": "linear"}, {"input": "level", "law": "repression", "K": "b", "n": "n"}]},
        {"name": "dimerise", "reactants": {"A": 2}, "products": {"B": 1}, "k": "kd", "releases": "L"},
        {"name": "catalysed", "reactants": {"A": 1}, "products": {"B": 1}, "k": "kb",
         "modifiers": [{"species": "B", "law": "linear"}, {"species": "A", "law": "repression", "K": "Km", "n": "n"}]},
        {"name": "counted", "module": "other", "k": "kc", "products": {"Z": 1}},
        {"name": "convert", "reactants": {"B": 1}, "k": "k1"},
        {"name": "z_decay", "reactants": {"Z": 1}, "k": "k1"}],
    "observables": {"total": ["A", "B"]}, "counters": {"made": "make"}, "genes": {"Zg": ["Z"]},
    "inhibitors": {"stop": {"reactions": ["make"]}}, "roles": {"marker": "B"},
}


def test_every_rate_law_round_trips(tmp_path):
    """Per-pair dimers, inputs consumed and released, basal Hill terms, Hill terms on inputs, counts and
    concentrations, several modules, a parameter no reaction reads: all come back."""
    network = network_from_dict(EVERY_LAW)
    assert _errors_of(to_sbml_document(network)) == []
    back = load_network(written(tmp_path, network))
    assert back.spec.model_dump_json() == network.spec.model_dump_json()
    for field in network.arrays._fields:
        np.testing.assert_array_equal(getattr(back.arrays, field), getattr(network.arrays, field), err_msg=field)
    # and from the kinetic laws alone, to round-off
    bare = load_network(written(tmp_path, network, "bare.xml",
                                edit=lambda m: [r.unsetAnnotation() for r in m.getListOfReactions()]))
    for field in ("rate_constant", "modifier_K", "modifier_n", "modifier_basal", "consumed_molecules"):
        np.testing.assert_allclose(getattr(bare.arrays, field), getattr(network.arrays, field), rtol=1e-14,
                                   err_msg=field)
    for field in ("reactant_order", "modifier_kind", "change_delta", "consumed_input", "volume_exponent"):
        np.testing.assert_array_equal(getattr(bare.arrays, field), getattr(network.arrays, field), err_msg=field)


def _errors_of(document):
    document.checkConsistency()
    log = document.getErrorLog()
    return [log.getError(i).getMessage() for i in range(log.getNumErrors())
            if log.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]


@pytest.mark.parametrize("name", builtin_networks())
def test_kinetic_laws_alone_give_the_arrays_to_round_off(name, tmp_path):
    """Without the reactions' annotations the importer reads only the MathML: every propensity, Hill threshold
    and exponent must come out of the kinetic laws (to float round-off: products taken in another order)."""
    network = load_network(name)
    path = written(tmp_path, network, edit=lambda m: [r.unsetAnnotation() for r in m.getListOfReactions()])
    back = load_network(path)
    assert back.reactions == network.reactions
    for field in network.arrays._fields:
        mine, theirs = getattr(back.arrays, field), getattr(network.arrays, field)
        if field == "search_order":
            continue
        if mine.dtype.kind == "f":
            np.testing.assert_allclose(mine, theirs, rtol=1e-14, atol=0, err_msg=field)
        else:
            np.testing.assert_array_equal(mine, theirs, err_msg=field)


def test_an_edited_kinetic_law_wins_over_the_annotation(tmp_path):
    """Change a rate in the SBML (as in COPASI): the import follows the SBML, not the stale annotation."""
    network = load_network("rank")

    def edit(model):
        model.getParameter("k_cfos_deg").setValue(1.0)  # was 0.5/h

    back = load_network(written(tmp_path, network, edit=edit))
    j = back.reactions.index("cfos_degradation")
    assert back.arrays.rate_constant[j] == pytest.approx(1.0, rel=1e-14)
    assert back.spec.reactions[j].k == "k_cfos_degradation"
    unchanged = back.reactions.index("cfos_synthesis")
    assert back.spec.reactions[unchanged].k == "k_cfos_syn"


def test_cli_writes_sbml_once_and_never_overwrites(tmp_path, capsys):
    out = tmp_path / "rank.xml"
    assert main(["network", "rank", "--to-sbml", str(out)]) == 0
    first = out.read_text()
    assert first.startswith("<?xml") and 'level="3" version="2"' in first
    out.write_text("mine")
    assert main(["network", "rank", "--to-sbml", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "mine"
    assert main(["network", "rank", "--to-sbml", str(tmp_path / "no_dir" / "x.xml")]) == 2
    assert not (tmp_path / "no_dir").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["rank.xml"]
    # and reading it back from the command line
    (tmp_path / "again.xml").write_text(first)
    assert main(["network", str(tmp_path / "again.xml"), "--table", "reactions", "--format", "csv"]) == 0
    assert "nfatc1_autoamplification" in capsys.readouterr().out


def test_a_lineage_runs_an_sbml_network_as_it_runs_the_yaml(tmp_path, small_yaml):
    """``signaling.network: rank.xml`` beside the experiment: the same model, byte for byte, and the run directory
    keeps the network as YAML (what a resume or fork reloads)."""
    import yaml

    (tmp_path / "rank.xml").write_text(load_network("rank").to_sbml())
    config = small_yaml(signaling={"network": "rank.xml"}, time={"duration_h": 4})
    assert main(["run", str(config), "--out", str(tmp_path / "sbml"), "--quiet"]) == 0
    ours = small_yaml(time={"duration_h": 4})
    assert main(["run", str(ours), "--out", str(tmp_path / "yaml"), "--quiet"]) == 0
    for table in ("timeseries", "events"):
        assert (tmp_path / "sbml" / f"{table}.csv").read_bytes() == (tmp_path / "yaml" / f"{table}.csv").read_bytes()
    kept = tmp_path / "sbml" / "network.yaml"
    assert kept.read_text().startswith("# read from the SBML file")
    assert network_from_dict(yaml.safe_load(kept.read_text())).spec == load_network("rank").spec


# ---------------------------------------------------------------------------------- other people's models
def test_immigration_death_from_libroadrunner_is_poisson():
    """libRoadRunner's linearPathwayOpen.xml (Antimony-generated, no units): S1 (boundary, 10) -> S2 -> S3
    (boundary) at k1 = 0.1, k2 = 0.2. From S2 = 0, S2(t) is Poisson with mean 5·(1 - exp(-0.2 t))."""
    network = load_network(roadrunner_model("linearPathwayOpen.xml"))
    assert network.inputs == ["S1", "S3"] and network.species == ["S2"]
    assert network.spec.reference_inputs == {"S1": 10.0, "S3": 0.0}
    times = [2.0, 5.0, 20.0]
    frame = simulate(network, N_CELLS, times, inputs=network.spec.reference_inputs, seed=11)
    for t in times:
        x = frame.loc[frame.time_h == t, "S2"].to_numpy(float)
        mean = 5 * (1 - np.exp(-0.2 * t))
        assert z_ok(x.mean(), mean, np.sqrt(mean / x.size), 2 * len(times))
        assert z_ok(x.var(ddof=1), mean, variance_se(x), 2 * len(times))


def test_closed_pathway_from_libroadrunner_is_multinomial():
    """linearPathwayClosed.xml: 10 molecules of S1 -> S2 -> S3, each independently: S1 ~ Binomial(10, p1),
    S2 ~ Binomial(10, p2) with p1 = exp(-k1 t), p2 = k1/(k2 - k1)·(exp(-k1 t) - exp(-k2 t))."""
    network = load_network(roadrunner_model("linearPathwayClosed.xml"))
    times = [3.0, 10.0, 25.0]
    frame = simulate(network, N_CELLS, times, seed=12)
    k1, k2 = 0.1, 0.2
    for t in times:
        at = frame[frame.time_h == t]
        for species, p in (("S1", np.exp(-k1 * t)), ("S2", k1 / (k2 - k1) * (np.exp(-k1 * t) - np.exp(-k2 * t)))):
            x = at[species].to_numpy(float)
            assert z_ok(x.mean(), 10 * p, np.sqrt(10 * p * (1 - p) / x.size), 4 * len(times))
            assert z_ok(x.var(ddof=1), 10 * p * (1 - p), variance_se(x), 4 * len(times))
        assert (at[["S1", "S2", "S3"]].sum(axis=1) == 10).all()


def test_two_stage_gene_expression_has_thattai_s_fano_factor():
    """Thattai & van Oudenaarden 2001 (tests/data, written from the paper, in seconds and items): at steady state
    protein has mean k_R k_P/(gamma_R gamma_P) = 36 and Fano factor 1 + b/(1 + eta) = 1 + 1/(1 + 1/20)."""
    network = load_network(DATA / "thattai2001_gene_expression.xml")
    assert network.arrays.rate_constant == pytest.approx([36.0, 20.0, 20.0, 1.0], rel=1e-12)  # per hour
    frame = simulate(network, N_CELLS, [12.0], seed=13)
    x = frame["protein"].to_numpy(float)
    mean, fano = 36.0, 1 + 1 / (1 + 1 / 20)
    assert z_ok(x.mean(), mean, np.sqrt(mean * fano / x.size), 2)
    assert z_ok(x.var(ddof=1), mean * fano, variance_se(x), 2)
    # Poisson (Fano 1) is far outside: the test can tell translational bursts from none
    assert not z_ok(x.var(ddof=1), mean, variance_se(x), 2)


# ---------------------------------------------------------------------------------- dimers and Hill laws
DIMER = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
  <model id="dimer" substanceUnits="nmole" timeUnits="minute" volumeUnits="picolitre">
    <listOfUnitDefinitions>
      <unitDefinition id="nmole"><listOfUnits><unit kind="mole" exponent="1" scale="-9" multiplier="1"/></listOfUnits></unitDefinition>
      <unitDefinition id="minute"><listOfUnits><unit kind="second" exponent="1" scale="0" multiplier="60"/></listOfUnits></unitDefinition>
      <unitDefinition id="picolitre"><listOfUnits><unit kind="litre" exponent="1" scale="-12" multiplier="1"/></listOfUnits></unitDefinition>
    </listOfUnitDefinitions>
    <listOfCompartments><compartment id="c" spatialDimensions="3" size="2" constant="true"/></listOfCompartments>
    <listOfSpecies>
      <species id="A" compartment="c" initialConcentration="5e-12" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="A2" compartment="c" initialConcentration="0" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>
      <species id="L" compartment="c" initialConcentration="1e-12" hasOnlySubstanceUnits="false" boundaryCondition="true" constant="true"/>
    </listOfSpecies>
    <listOfParameters>
      <parameter id="kf" value="%(kf)s" constant="true"/>
      <parameter id="K" value="2e-12" constant="true"/>
    </listOfParameters>
    <listOfReactions>
      <reaction id="dimerise" reversible="false">
        <listOfReactants><speciesReference species="A" stoichiometry="2" constant="true"/></listOfReactants>
        <listOfProducts><speciesReference species="A2" stoichiometry="1" constant="true"/></listOfProducts>
        <listOfModifiers><modifierSpeciesReference species="L"/></listOfModifiers>
        <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">%(law)s</math></kineticLaw>
      </reaction>
    </listOfReactions>
  </model>
</sbml>
"""
SQUARE = "<apply><times/><ci>c</ci><ci>kf</ci><apply><power/><ci>A</ci><cn>2</cn></apply></apply>"
HILL_L = ("<apply><divide/><apply><times/><ci>c</ci><ci>kf</ci><ci>A</ci><ci>A</ci><apply><power/><ci>L</ci><cn>3</cn>"
          "</apply></apply><apply><plus/><apply><power/><ci>K</ci><cn>3</cn></apply><apply><power/><ci>L</ci>"
          "<cn>3</cn></apply></apply></apply>")


def test_a_dimerisation_rate_law_becomes_the_pair_propensity(tmp_path):
    """c·kf·[A]² (nmol/min with [A] in nmol/pL) is a deterministic rate law: d[A]/dt = -2·kf·[A]². Its
    propensity in molecules is kf/(N_A·V)·a·(a - 1) events per time: reactant order 2 and that constant."""
    path = tmp_path / "dimer.xml"
    kf = 2.0e8  # pL/(nmol·min)
    path.write_text(DIMER % {"kf": kf, "law": SQUARE})
    network = load_network(path)
    a = network.arrays
    molecules_per_nmol = 6.02214076e23 * 1e-9
    volume = 2.0  # pL, and concentrations are nmol/pL
    assert list(a.reactant_order) == [2] and network.species == ["A", "A2"]
    assert a.rate_constant[0] == pytest.approx(kf * 60 / (molecules_per_nmol * volume), rel=1e-12)
    assert network.initial[0].mean == pytest.approx(5e-12 * volume * molecules_per_nmol, rel=1e-12)  # 6022
    # the kernel fires k·a·(a - 1) events per hour: in 0.01 h (A falls by 0.1 %) a loses 2 per event
    frame = simulate(network, 400, [0.01], inputs={"L": 1.0}, seed=3)
    lost = 6022 - frame["A"].to_numpy(float)
    rate = 2 * a.rate_constant[0] * 6022 * 6021 * 0.01
    assert z_ok(lost.mean(), rate, np.sqrt(2 * rate / lost.size), 1)


def test_a_hill_term_on_an_input_and_a_dimer_in_one_law(tmp_path):
    path = tmp_path / "dimer.xml"
    path.write_text(DIMER % {"kf": 2.0e8, "law": HILL_L})
    network = load_network(path)
    a = network.arrays
    assert network.inputs == ["L"] and list(a.modifier_kind) == [4]  # a Hill activation on an input
    assert a.modifier_K[0] == pytest.approx(2.0, rel=1e-12)  # 2e-12 nmol/pL is 2 nM
    assert a.modifier_n[0] == 3 and network.spec.reference_inputs == {"L": pytest.approx(1.0)}


# ---------------------------------------------------------------------------------- refusals
def _model_with(tmp_path, change) -> Path:
    path = written(tmp_path, load_network("rank"))
    document = libsbml.readSBMLFromFile(str(path))
    change(document.getModel())
    libsbml.writeSBMLToFile(document, str(path))
    return path


def _law(model, reaction, formula):
    model.getReaction(reaction).getKineticLaw().setMath(libsbml.parseL3Formula(formula))


@pytest.mark.parametrize("change, names", [
    (lambda m: (lambda e: (e.setId("pulse"), e.setUseValuesFromTriggerTime(True),
                           e.createTrigger().setMath(libsbml.parseL3Formula("time > 1")),
                           e.getTrigger().setInitialValue(False), e.getTrigger().setPersistent(True)))
     (m.createEvent()), ["event 'pulse'", "events"]),
    (lambda m: (lambda r: (r.setVariable("cFos"), r.setMath(libsbml.parseL3Formula("1"))))(m.createRateRule()),
     ["rule 'cFos'"]),
    (lambda m: (lambda r: (r.setSymbol("k_cfos_deg"), r.setMath(libsbml.parseL3Formula("0.1"))))
     (m.createInitialAssignment()), ["initial assignment 'k_cfos_deg'"]),
    (lambda m: _law(m, "cfos_degradation", "delay(cFos, 1) * k_cfos_deg"), ["cfos_degradation", "delay"]),
    (lambda m: _law(m, "cfos_degradation", "k_cfos_deg * cFos - k_cfos_syn * MAPK_a"),
     ["cfos_degradation", "reversible"]),
    (lambda m: _law(m, "cfos_degradation", "k_cfos_deg * cFos^1.5"), ["cfos_degradation", "power 1.5"]),
    (lambda m: _law(m, "cfos_degradation", "k_cfos_deg"), ["cfos_degradation", "reactant cFos", "mass action"]),
    (lambda m: _law(m, "cfos_degradation", "k_cfos_deg * cFos / (1 + cFos + MAPK_a)"),
     ["cfos_degradation", "denominator"]),
    (lambda m: m.getReaction("cfos_degradation").getReactant(0).setStoichiometry(1.5),
     ["cfos_degradation", "cFos", "stoichiometry 1.5"]),
])
def test_what_the_ssa_cannot_run_is_refused_by_name(tmp_path, change, names):
    path = _model_with(tmp_path, change)
    with pytest.raises(SBMLError) as info:
        load_network(path)
    for name in names:
        assert name in str(info.value)


def test_a_foreign_reversible_model_is_refused_from_the_cli():
    """libRoadRunner's feedback.xml (JDesigner, SBML L2): reversible, saturating laws the SSA cannot run."""
    process = subprocess.run([sys.executable, "-m", "boneabm", "network", str(roadrunner_model("feedback.xml"))],
                             capture_output=True, text=True)
    assert process.returncode == 2 and "Traceback" not in process.stderr
    assert "reaction 'J0'" in process.stderr and "reversible" in process.stderr


def test_sidecar_binds_roles_and_inputs(tmp_path):
    """A sidecar beside a foreign model names what a lineage reads and which parameters are inputs."""
    model = tmp_path / "gene.xml"
    model.write_text((DATA / "thattai2001_gene_expression.xml").read_text())
    (tmp_path / "gene.boneabm.yaml").write_text(
        "name: bursty\nroles: {commitment_marker: protein}\ninputs: [k_R]\nobservables: {protein_total: [protein]}\n")
    network = load_network(model)
    assert network.spec.name == "bursty" and network.roles == {"commitment_marker": "protein"}
    assert network.inputs == ["k_R"] and network.spec.inputs["k_R"].unit == "1"
    assert network.observables == {"protein_total": [network.species_index("protein")]}
    (tmp_path / "gene.boneabm.yaml").write_text("roles: {x: protein}\ncolour: red\n")
    with pytest.raises(SBMLError, match="colour"):
        load_network(model)
