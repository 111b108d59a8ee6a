"""Networks out as SBML Level 3 Version 2 (python-libsbml); ``sbml_import`` reads them back, and other models in.

The exported model is one cell of the network's volume (compartment ``cell``, pL) in hours. Species are amounts
in the network's molecule scaling: one unit of species of module m is one simulated molecule, which stands for
602.214·V/molecules_per_nM(m) real molecules (the unit ``molecules_m``). Inputs in nM are constant boundary
species in a compartment ``medium`` of 1 L (so their concentration reads in nM), dimensionless inputs constant
parameters; both hold the network's reference_inputs (or 0). Parameters are written in the network's canonical
units (nM, molecules, hours); each keeps its value, unit and source as written in an annotation.

Every kinetic law is the reaction's propensity in simulated molecules per hour, so an SBML Gillespie engine
that evaluates kinetic laws as propensities (libRoadRunner's) runs the network's stochastic process:

    k · S_r^(1 - o - l) · Π reactants (A, or A·(A - 1) for a reactant of stoichiometry 2) · Π linear
    species modifiers M · Π inputs u · Π Hill factors

for a k in concentration units, with S_x the parameter ``molecules_per_nM_<module>`` of the species' module (of
the reaction's for S_r); a k in molecule units has no S factors. A Hill factor of a species reads its
concentration X/S_X against K in nM (X against K for K in molecules); ``basal`` b makes it b + (1 - b)·(Hill).
Under ``dimer_propensity: per_pair`` a reactant of stoichiometry 2 has a factor 1/2 more. A reaction that
``consumes`` an input has that boundary species as a reactant, one that ``releases`` it as a product (boundary
species are not changed by reactions: the lineage accounts for the molecules).

Genes, roles, observables, counters, inhibitors, modules and each element's boneabm form ride in annotations
(namespace ``ANNOTATION_NS``), so YAML -> SBML -> network compiles to the same arrays.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape
from typing import TYPE_CHECKING

import libsbml

from boneabm.errors import UserError
from boneabm.signaling.units import parse_unit

if TYPE_CHECKING:
    from boneabm.signaling.network import Network, NetworkSpec

ANNOTATION_NS = "https://github.com/boneabm/boneabm/sbml"
ANNOTATION_PREFIX = "boneabm"
AVOGADRO = 6.02214076e23
MOLECULES_PER_NM_PER_PL = 602.214076
SCALE_PREFIX = "molecules_per_nM_"


def annotation_xml(tag: str, data: dict) -> str:
    """An element's boneabm annotation: its YAML-side form as JSON text in our namespace."""
    text = escape(json.dumps(data))  # keys in the order written: observables become table columns in it
    return f'<{ANNOTATION_PREFIX}:{tag} xmlns:{ANNOTATION_PREFIX}="{ANNOTATION_NS}">{text}</{ANNOTATION_PREFIX}:{tag}>'


def read_annotation(element, tag: str) -> dict | None:
    """The boneabm annotation ``tag`` of an SBML element, or None."""
    node = element.getAnnotation()
    if node is None:
        return None
    for i in range(node.getNumChildren()):
        child = node.getChild(i)
        if child.getName() == tag and child.getURI() == ANNOTATION_NS:
            text = "".join(child.getChild(j).getCharacters() for j in range(child.getNumChildren()))
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise UserError(f"SBML element {element.getId() or element.getElementName()!r}: boneabm "
                                f"annotation {tag} is not valid JSON ({exc})") from None
    return None


def _annotate(element, text: str) -> None:
    _check(element.setAnnotation(text), f"the annotation of {element.getId() or element.getElementName()}")


def _check(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:  # a bug here, not bad input: the spec was validated
        raise RuntimeError(f"libSBML refused {what}: {libsbml.OperationReturnValue_toString(code)}")


def _unit(model, unit_id: str, parts: list[tuple[int, float, int, float]]) -> str:
    """Define unit ``unit_id`` once from (kind, exponent, scale, multiplier) parts."""
    if model.getUnitDefinition(unit_id) is None:
        definition = model.createUnitDefinition()
        _check(definition.setId(unit_id), f"unit {unit_id}")
        for kind, exponent, scale, multiplier in parts or [(libsbml.UNIT_KIND_DIMENSIONLESS, 1, 0, 1.0)]:
            unit = definition.createUnit()
            unit.setKind(kind)
            unit.setExponent(exponent)
            unit.setScale(scale)
            unit.setMultiplier(multiplier)
    return unit_id


def _canonical_unit(model, dims: tuple[int, int, int]) -> str:
    """The unit of a quantity with canonical dimensions (nM^a · molecules^b · h^c); molecules are items."""
    a, b, c = dims
    parts, names = [], []
    if a:
        parts += [(libsbml.UNIT_KIND_MOLE, a, -9, 1.0), (libsbml.UNIT_KIND_LITRE, -a, 0, 1.0)]
        names.append(f"nM{a}".replace("-", "_"))
    if b:
        parts.append((libsbml.UNIT_KIND_ITEM, b, 0, 1.0))
        names.append(f"item{b}".replace("-", "_"))
    if c:
        parts.append((libsbml.UNIT_KIND_SECOND, c, 0, 3600.0))
        names.append(f"h{c}".replace("-", "_"))
    return _unit(model, "u_" + "_".join(names) if names else "u_dimensionless", parts)


def to_sbml_document(network: Network) -> libsbml.SBMLDocument:
    """The network as an SBML L3V2 document (see the module docstring for the mapping)."""
    spec = network.spec
    document = libsbml.SBMLDocument(3, 2)
    model = document.createModel()
    model.setId(spec.name if libsbml.SyntaxChecker.isValidSBMLSId(spec.name) else "network")
    model.setName(spec.name)
    _unit(model, "hour", [(libsbml.UNIT_KIND_SECOND, 1, 0, 3600.0)])
    _unit(model, "pL", [(libsbml.UNIT_KIND_LITRE, 1, -12, 1.0)])
    _unit(model, "nmole", [(libsbml.UNIT_KIND_MOLE, 1, -9, 1.0)])
    _unit(model, "molecules_per_nM", [(libsbml.UNIT_KIND_ITEM, 1, 0, 1.0), (libsbml.UNIT_KIND_MOLE, -1, -9, 1.0),
                                      (libsbml.UNIT_KIND_LITRE, 1, 0, 1.0)])
    model.setTimeUnits("hour")
    model.setVolumeUnits("pL")
    _annotate(model, annotation_xml("network", {
        "name": spec.name, "description": spec.description, "cell_volume_pl": spec.cell_volume_pl,
        "modules": {k: v.model_dump() for k, v in spec.modules.items()}, "genes": spec.genes,
        "inhibitors": {k: v.model_dump() for k, v in spec.inhibitors.items()}, "observables": spec.observables,
        "counters": spec.counters, "roles": spec.roles, "dimer_propensity": spec.dimer_propensity,
        "reference_inputs": spec.reference_inputs}))

    cell = model.createCompartment()
    cell.setId("cell"), cell.setName("one cell"), cell.setSize(spec.cell_volume_pl), cell.setUnits("pL")
    cell.setSpatialDimensions(3), cell.setConstant(True)
    nM_inputs = [name for name, i in spec.inputs.items() if i.unit == "nM"]
    if nM_inputs:
        medium = model.createCompartment()
        medium.setId("medium"), medium.setName("the cell's surroundings (inputs, in nM)")
        medium.setSize(1.0), medium.setUnits("litre"), medium.setSpatialDimensions(3), medium.setConstant(True)

    for module, m in spec.modules.items():
        _unit(model, f"molecules_{module}",
              [(libsbml.UNIT_KIND_ITEM, 1, 0, MOLECULES_PER_NM_PER_PL * spec.cell_volume_pl / m.molecules_per_nM)])
        scale = model.createParameter()
        scale.setId(SCALE_PREFIX + module), scale.setValue(m.molecules_per_nM), scale.setConstant(True)
        scale.setUnits("molecules_per_nM")
        scale.setName(f"simulated molecules per nM in module {module}")

    for name, sp in spec.species.items():
        species = model.createSpecies()
        species.setId(name), species.setCompartment("cell"), species.setInitialAmount(sp.initial.mean)
        species.setSubstanceUnits(f"molecules_{sp.module}"), species.setHasOnlySubstanceUnits(True)
        species.setBoundaryCondition(False), species.setConstant(False)
        _annotate(species, annotation_xml("species", sp.model_dump()))
    for name, spec_input in spec.inputs.items():
        value = spec.reference_inputs.get(name, 0.0)
        if spec_input.unit == "nM":
            species = model.createSpecies()
            species.setId(name), species.setCompartment("medium"), species.setInitialConcentration(value)
            species.setSubstanceUnits("nmole"), species.setHasOnlySubstanceUnits(False)
            species.setBoundaryCondition(True), species.setConstant(True)
            _annotate(species, annotation_xml("input", spec_input.model_dump()))
        else:
            parameter = model.createParameter()
            parameter.setId(name), parameter.setValue(value), parameter.setConstant(True)
            parameter.setUnits("dimensionless")
            _annotate(parameter, annotation_xml("input", spec_input.model_dump()))

    for name, p in spec.parameters.items():
        unit = parse_unit(p.unit)
        parameter = model.createParameter()
        parameter.setId(name), parameter.setValue(p.value * unit.factor), parameter.setConstant(True)
        parameter.setUnits(_canonical_unit(model, unit.dims))
        _annotate(parameter, annotation_xml("parameter", p.model_dump()))

    for r in spec.reactions:
        _reaction(model, spec, r)

    problems = [line for line in _errors(document)]
    if problems:  # the mapping's own bug, never the user's: the network was valid
        raise RuntimeError(f"exported SBML of {spec.name} fails libSBML's checks:\n  " + "\n  ".join(problems))
    return document


def _reaction(model, spec: NetworkSpec, r) -> None:
    reaction = model.createReaction()
    reaction.setId(r.name), reaction.setReversible(False)
    _annotate(reaction, annotation_xml("reaction", r.model_dump()))
    for species, n in r.reactants.items():
        reference = reaction.createReactant()
        reference.setSpecies(species), reference.setStoichiometry(n), reference.setConstant(True)
    for species, n in r.products.items():
        reference = reaction.createProduct()
        reference.setSpecies(species), reference.setStoichiometry(n), reference.setConstant(True)
    for which, create in ((r.consumes, reaction.createReactant), (r.releases, reaction.createProduct)):
        if which is not None and spec.inputs[which].unit == "nM":
            reference = create()
            reference.setSpecies(which), reference.setStoichiometry(1), reference.setConstant(True)
    # Modifiers named in the law must be listed (SBML's rule); an input parameter is not a species
    listed = set(r.reactants) | set(r.products)
    for m in r.modifiers:
        name = m.species if m.species is not None else m.input
        if name not in listed and (m.species is not None or spec.inputs[m.input].unit == "nM"):
            reference = reaction.createModifier()
            reference.setSpecies(name)
            listed.add(name)

    def module_of(species):
        return spec.species[species].module

    delta = {}
    for s, n in r.reactants.items():
        delta[s] = delta.get(s, 0) - n
    for s, n in r.products.items():
        delta[s] = delta.get(s, 0) + n
    changed = [s for s, d in delta.items() if d != 0]
    reaction_module = r.module if r.module is not None else module_of(changed[0])
    order = sum(r.reactants.values())
    linear_species = [m for m in r.modifiers if m.law == "linear" and m.species is not None]
    input_conc = sum(1 for m in r.modifiers if m.law == "linear" and m.input is not None
                     and spec.inputs[m.input].unit == "nM")
    factors = [r.k]
    # compile_network's rule: a k in concentration units is scaled by S_r^(1 - o) / Π S_(linear species)
    if parse_unit(spec.parameters[r.k].unit).dims == (1 - order - len(linear_species) - input_conc, 0, -1):
        if order != 1:
            factors.append(f"{SCALE_PREFIX}{reaction_module}^({1 - order})")
        factors += [f"{SCALE_PREFIX}{module_of(m.species)}^(-1)" for m in linear_species]
    for s, n in r.reactants.items():
        factors.append(s if n == 1 else f"{s} * ({s} - 1)")
    if spec.dimer_propensity == "per_pair" and 2 in r.reactants.values():
        factors.append("0.5")
    for m in r.modifiers:
        name = m.species if m.species is not None else m.input
        if m.law == "linear":
            factors.append(name)
            continue
        level = name
        if m.species is not None and parse_unit(spec.parameters[m.K].unit).dims == (1, 0, 0):
            level = f"({name} / {SCALE_PREFIX}{module_of(m.species)})"
        term = (f"{level}^{m.n} / ({m.K}^{m.n} + {level}^{m.n})" if m.law == "hill"
                else f"{m.K}^{m.n} / ({m.K}^{m.n} + {level}^{m.n})")
        factors.append(f"({m.basal} + (1 - {m.basal}) * {term})" if m.basal is not None else f"({term})")
    law = reaction.createKineticLaw()
    math_ast = libsbml.parseL3Formula(" * ".join(factors))
    if math_ast is None:
        raise RuntimeError(f"reaction {r.name}: cannot parse {' * '.join(factors)}: {libsbml.getLastParseL3Error()}")
    _check(law.setMath(math_ast), f"the kinetic law of {r.name}")


def _errors(document) -> list[str]:
    """libSBML's consistency checks (units included): the errors, not the warnings."""
    document.checkConsistency()
    log = document.getErrorLog()
    return [f"{e.getSeverityAsString()} {e.getErrorId()} (line {e.getLine()}): {e.getMessage().strip()}"
            for e in (log.getError(i) for i in range(log.getNumErrors()))
            if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]


def to_sbml(network: Network) -> str:
    """The network as SBML L3V2 text."""
    return libsbml.writeSBMLToString(to_sbml_document(network))
