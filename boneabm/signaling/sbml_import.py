"""SBML in: a model file read into a network mapping (``NetworkSpec``'s shape) that ``network_from_dict`` compiles.

The supported subset, and what is refused (a ``UserError`` naming the element and why; nothing is approximated):

- One compartment holds the reacting species; constant boundary species (in any compartment) are the network's
  inputs in nM, and parameters a sidecar lists under ``inputs`` are dimensionless inputs.
- Kinetic laws are products of: numbers and constant parameters (global or local) and compartment sizes, in any
  arithmetic; each reactant to the power of its stoichiometry (``A^2``, ``A*A`` or ``A*(A - 1)`` for 2); other
  species or inputs to the power 1 (a linear modifier); Hill terms ``x^n/(K^n + x^n)``, ``K^n/(K^n + x^n)``,
  ``1/(1 + (x/K)^n)`` in any arrangement, a denominator ``C + c·x^n`` being one Hill term; and ``b + c·(Hill
  term)`` (a Hill term with a basal fraction). Anything else (a difference of terms, a reversible law, a sum
  of two species, a species to a non-integer power) is refused.
- Refused outright: events, rules of any kind, initial assignments, constraints, delays, fast reactions,
  non-integer or variable stoichiometry, conversion factors, species in several compartments, reactions with
  more than two reactant molecules, and species units that are not amounts of substance (mole or item).

A kinetic law is a deterministic rate law in the model's units; it becomes a propensity in molecules per hour
by converting amounts to molecules (moles × Avogadro, items as they are; concentrations times the compartment
volume) and time to hours. A reactant of stoichiometry 2 in ``k·A²`` becomes the propensity ``k·a·(a - 1)``
(in molecules, with k scaled by the volume): the rate law's k, as ``dimer_propensity: rate_law`` reads it.

Undeclared units are read as they stand: amounts as molecules, time as hours, the compartment's size as its
volume in pL, and a boundary species' value as its input's value.

A sidecar ``<model>.boneabm.yaml`` beside the file binds what a lineage needs (``roles``, ``inputs``,
``genes``, ``observables``, ``counters``, ``inhibitors``, ``reference_inputs``) and may set ``name``,
``cell_volume_pl`` and ``molecules_per_nM`` (default: real molecules, 602.214 per nM per pL). A model written
by ``boneabm network --to-sbml`` carries all of these in annotations; where its kinetic laws still say what its
annotations say (they were not edited), its parameters keep their names, units and sources exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import libsbml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from boneabm.errors import UserError, validation_lines
from boneabm.signaling.sbml import AVOGADRO, MOLECULES_PER_NM_PER_PL, read_annotation
from boneabm.yamlio import read_yaml

SIDECAR_SUFFIX = ".boneabm.yaml"
_TOLERANCE = 1e-9  # an exported model's derived and annotated rate constants agree to round-off


class Sidecar(BaseModel):
    """What a lineage needs that plain SBML does not say."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str | None = None
    description: str | None = None
    cell_volume_pl: float | None = Field(None, gt=0, le=1e4)
    molecules_per_nM: float | None = Field(None, gt=0, description="Simulated molecules per nM (all species).")
    inputs: list[str] = Field([], description="Parameters that are dimensionless inputs, by SBML id.")
    roles: dict[str, str] = {}
    genes: dict[str, list[str]] = {}
    observables: dict[str, list[str]] = {}
    counters: dict[str, str] = {}
    inhibitors: dict[str, dict] = {}
    reference_inputs: dict[str, float] = {}


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + SIDECAR_SUFFIX)


class SBMLError(UserError):
    """An SBML model boneabm cannot run exactly; the message names the element."""


def read_sbml(path: str | Path, compile_network: Callable[[dict, str], object]) -> dict:
    """The network mapping of the SBML file ``path`` (and its sidecar, if any). ``compile_network`` (network.py's
    ``network_from_dict``, passed in: network.py reads SBML through this module) checks an exported reaction's
    annotation against its kinetic law."""
    path = Path(path)
    document = libsbml.readSBMLFromFile(str(path))
    where = str(path)
    log = document.getErrorLog()
    fatal = [log.getError(i) for i in range(log.getNumErrors()) if log.getError(i).getSeverity()
             >= libsbml.LIBSBML_SEV_ERROR]
    if fatal or document.getModel() is None:
        lines = [f"line {e.getLine()}: {e.getMessage().strip()}" for e in fatal[:5]] or ["no model in the file"]
        raise SBMLError(f"{where}: not readable SBML:\n  " + "\n  ".join(lines))
    sidecar = Sidecar()
    if sidecar_path(path).is_file():
        try:
            sidecar = Sidecar.model_validate(read_yaml(sidecar_path(path)) or {})
        except ValidationError as exc:
            lines = validation_lines(exc.errors(include_url=False), Sidecar)
            raise SBMLError(f"{sidecar_path(path)}: invalid sidecar:\n  " + "\n  ".join(lines)) from None
    if document.getModel().getNumFunctionDefinitions():  # Hill functions are often written as functions
        properties = libsbml.ConversionProperties()
        properties.addOption("expandFunctionDefinitions", True)
        if document.convert(properties) != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise SBMLError(f"{where}: its function definitions cannot be expanded into the kinetic laws")
    return _Reader(document.getModel(), where, sidecar, compile_network).network()


@dataclass
class _Product:
    """A kinetic law factored: a number times powers of species and inputs, (x - 1) factors and sums."""

    coefficient: float = 1.0
    powers: dict[str, float] = field(default_factory=dict)
    falling: list[str] = field(default_factory=list)  # species with a factor (x - 1): x·(x - 1) for a dimer
    sums: list[tuple[object, float]] = field(default_factory=list)  # (AST node of a sum, its exponent)


@dataclass
class _Hill:
    symbol: str
    law: str  # hill or repression
    K: float  # in the symbol's own units: molecules for a species, the input's unit for an input
    n: float
    basal: float | None = None


class _Reader:
    def __init__(self, model, where: str, sidecar: Sidecar, compile_network):
        self.model, self.where, self.sidecar, self.compile_network = model, where, sidecar, compile_network
        self.annotation = read_annotation(model, "network") or {}
        self._refuse_what_the_ssa_cannot_run()
        self.compartment = self._compartment()
        self.cell_volume_pl = (sidecar.cell_volume_pl or self.annotation.get("cell_volume_pl")
                               or self._volume_pl(self.compartment))
        self.time_per_hour = self._time_units_per_hour()
        self.inputs: dict[str, dict] = {}  # input name -> {unit, ...}
        self.input_scale: dict[str, float] = {}  # the value a law sees per unit of input (nM or 1)
        self.species: dict[str, dict] = {}
        self.molecules_per_unit: dict[str, float] = {}  # species -> simulated molecules per model amount
        self.symbol_scale: dict[str, float] = {}  # species -> the law's value per simulated molecule
        self.modules = self._modules()
        self._read_species_and_inputs()
        self.constants = self._constants()

    # ------------------------------------------------------------------------------------------ refusals
    def fail(self, element: str, why: str):
        raise SBMLError(f"{self.where}: {element}: {why}; boneabm runs only what its exact SSA can (see "
                        "boneabm.signaling.sbml_import or the README's SBML section)")

    def _refuse_what_the_ssa_cannot_run(self) -> None:
        m = self.model
        for items, kind, why in ((m.getListOfEvents(), "event", "events change the state at discrete times"),
                                 (m.getListOfRules(), "rule", "rules set values by equations, not reactions"),
                                 (m.getListOfInitialAssignments(), "initial assignment",
                                  "initial values must be numbers"),
                                 (m.getListOfConstraints(), "constraint", "constraints stop a simulation")):
            for item in items:
                ident = item.getId() or (item.getVariable() if hasattr(item, "getVariable") else "") or \
                    (item.getSymbol() if hasattr(item, "getSymbol") else "")
                self.fail(f"{kind} {ident!r}", why)
        for p in m.getListOfParameters():
            if not p.getConstant() and p.getId() not in self.sidecar.inputs:
                self.fail(f"parameter {p.getId()!r}", "a parameter that is not constant")
        for attribute in ("getConversionFactor",):
            if getattr(m, attribute)():
                self.fail(f"model conversionFactor {getattr(m, attribute)()!r}", "conversion factors are not "
                          "supported")

    def _compartment(self):
        used = {s.getCompartment() for s in self.model.getListOfSpecies() if not s.getBoundaryCondition()}
        if len(used) > 1:
            self.fail(f"compartments {', '.join(sorted(used))}", "reacting species in several compartments; a "
                      "cell is one well-mixed compartment")
        if not used:
            self.fail("model", "no species that reactions change")
        compartment = self.model.getCompartment(used.pop())
        if not compartment.isSetSize() or not compartment.getSize() > 0:
            self.fail(f"compartment {compartment.getId()!r}", "its size must be a positive number")
        return compartment

    # ------------------------------------------------------------------------------------------ units
    def _definition(self, unit_id: str):
        """(kind, factor) of a unit made of one base unit (to the power 1), or None if undeclared."""
        if not unit_id:
            return None
        builtin = {"mole": (libsbml.UNIT_KIND_MOLE, 1.0), "item": (libsbml.UNIT_KIND_ITEM, 1.0),
                   "litre": (libsbml.UNIT_KIND_LITRE, 1.0), "second": (libsbml.UNIT_KIND_SECOND, 1.0),
                   "dimensionless": (libsbml.UNIT_KIND_DIMENSIONLESS, 1.0)}
        if unit_id in builtin:
            return builtin[unit_id]
        definition = self.model.getUnitDefinition(unit_id)
        if definition is None or definition.getNumUnits() != 1 or definition.getUnit(0).getExponent() != 1:
            return ("other", unit_id)
        unit = definition.getUnit(0)
        return unit.getKind(), unit.getMultiplier() * 10.0 ** unit.getScale()

    def _volume_pl(self, compartment) -> float:
        unit = self._definition(compartment.getUnits() or self.model.getVolumeUnits())
        if unit is None:
            return compartment.getSize()  # undeclared: pL as it stands
        if unit[0] != libsbml.UNIT_KIND_LITRE:
            self.fail(f"compartment {compartment.getId()!r}", f"units {compartment.getUnits()!r} are not a volume")
        return compartment.getSize() * unit[1] * 1e12

    def _time_units_per_hour(self) -> float:
        unit = self._definition(self.model.getTimeUnits())
        if unit is None:
            return 1.0
        if unit[0] != libsbml.UNIT_KIND_SECOND:
            self.fail(f"model timeUnits {self.model.getTimeUnits()!r}", "not a unit of time")
        return 3600.0 / unit[1]

    def _substance_molecules(self, species) -> float:
        """Real molecules per unit amount of ``species``."""
        unit_id = species.getSubstanceUnits() or self.model.getSubstanceUnits()
        unit = self._definition(unit_id)
        if unit is None:
            return 1.0  # undeclared: molecules
        if unit[0] == libsbml.UNIT_KIND_MOLE:
            return unit[1] * AVOGADRO
        if unit[0] == libsbml.UNIT_KIND_ITEM:
            return unit[1]
        self.fail(f"species {species.getId()!r}", f"substance units {unit_id!r} are neither mole nor item")

    # ------------------------------------------------------------------------------------------ species
    def _modules(self) -> dict[str, dict]:
        modules = self.annotation.get("modules")
        if modules and self.sidecar.molecules_per_nM is None:
            return modules
        scale = self.sidecar.molecules_per_nM or MOLECULES_PER_NM_PER_PL * self.cell_volume_pl
        return {self.compartment.getId(): {"molecules_per_nM": scale,
                                           "description": f"the species of compartment {self.compartment.getId()}"}}

    def _read_species_and_inputs(self) -> None:
        real_per_nM = MOLECULES_PER_NM_PER_PL * self.cell_volume_pl
        default_module = next(iter(self.modules))
        for s in self.model.getListOfSpecies():
            name = s.getId()
            if s.isSetConversionFactor():
                self.fail(f"species {name!r}", "conversion factors are not supported")
            amount = (s.getInitialAmount() if s.isSetInitialAmount() else
                      s.getInitialConcentration() * self.model.getCompartment(s.getCompartment()).getSize()
                      if s.isSetInitialConcentration() else None)
            if s.getBoundaryCondition():  # an input: the law reads its concentration (or amount) in the model's units
                compartment = self.model.getCompartment(s.getCompartment())
                annotated = read_annotation(s, "input") or {}
                per_nM = self._input_per_nM(s, compartment)
                self.inputs[name] = {"unit": "nM", "description": annotated.get("description", "")}
                self.input_scale[name] = per_nM
                value = (s.getInitialConcentration() if s.isSetInitialConcentration() else
                         (amount / compartment.getSize() if amount is not None else None))
                if value is not None:
                    self.inputs[name]["reference"] = value / (per_nM if not s.getHasOnlySubstanceUnits()
                                                              else per_nM / compartment.getSize())
                continue
            if s.getConstant():
                self.fail(f"species {name!r}", "a constant species that is not a boundary condition")
            if amount is None:
                self.fail(f"species {name!r}", "no initial amount or concentration")
            annotated = read_annotation(s, "species") or {}
            module = annotated.get("module", default_module)
            if module not in self.modules:
                module = default_module
            # simulated molecules per model amount: real molecules scaled to the module's molecules per nM
            per_unit = self._substance_molecules(s) * self.modules[module]["molecules_per_nM"] / real_per_nM
            if abs(per_unit - 1.0) < 1e-12:
                per_unit = 1.0
            self.molecules_per_unit[name] = per_unit
            size = self.compartment.getSize()
            self.symbol_scale[name] = 1.0 / per_unit if s.getHasOnlySubstanceUnits() else 1.0 / (per_unit * size)
            count = amount * per_unit
            initial = annotated.get("initial")
            if not (initial and abs(initial.get("mean", -1) - count) <= 1e-9 * max(1.0, count)):
                initial = {"distribution": "fixed", "mean": count}
            self.species[name] = {"module": module, "initial": initial,
                                  "description": annotated.get("description", s.getName() or "")}
        for p in self.model.getListOfParameters():
            annotated = read_annotation(p, "input")
            if annotated is not None or p.getId() in self.sidecar.inputs:
                self.inputs[p.getId()] = {"unit": "1", "description": (annotated or {}).get("description", ""),
                                          "reference": p.getValue()}
                self.input_scale[p.getId()] = 1.0
        unknown = sorted(set(self.sidecar.inputs) - set(self.inputs))
        if unknown:
            self.fail(f"sidecar inputs {unknown}", "not parameters of the model")

    def _input_per_nM(self, species, compartment) -> float:
        """What the law reads (concentration, or amount) per nM of the input."""
        unit = self._definition(species.getSubstanceUnits() or self.model.getSubstanceUnits())
        volume = self._definition(compartment.getUnits() or self.model.getVolumeUnits())
        if unit is None or volume is None:
            return 1.0  # undeclared: the value is the input's
        if unit[0] not in (libsbml.UNIT_KIND_MOLE, libsbml.UNIT_KIND_ITEM) or volume[0] != libsbml.UNIT_KIND_LITRE:
            self.fail(f"species {species.getId()!r}", "units that are not an amount per volume")
        molar_per_unit = unit[1] * (1.0 if unit[0] == libsbml.UNIT_KIND_MOLE else 1 / AVOGADRO) / volume[1]
        per_nM = 1e-9 / molar_per_unit  # concentration in model units per nM
        if abs(per_nM - 1.0) < 1e-12:
            per_nM = 1.0
        return per_nM

    def _constants(self) -> dict[str, float]:
        values = {c.getId(): c.getSize() for c in self.model.getListOfCompartments()}
        values.update({p.getId(): p.getValue() for p in self.model.getListOfParameters()
                       if p.getId() not in self.inputs})
        return values

    # ------------------------------------------------------------------------------------------ laws
    def network(self) -> dict:
        reactions, parameters = [], {}
        for reaction in self.model.getListOfReactions():
            reactions.append(self._reaction(reaction, parameters))
        names = [r["name"] for r in reactions]
        for reaction, name in zip(self.model.getListOfReactions(), names):
            if names.count(name) > 1:
                self.fail(f"reaction {reaction.getId()!r}", f"its name without leading underscores, {name!r}, is "
                          "another reaction's")
        parameters = self._in_model_order(parameters)
        a = self.annotation
        sidecar = self.sidecar
        reference = {n: i.pop("reference") for n, i in self.inputs.items() if "reference" in i}
        spec = {
            "name": sidecar.name or a.get("name") or self.model.getId() or Path(self.where).stem,
            "description": sidecar.description or a.get("description", self.model.getName() or ""),
            "cell_volume_pl": self.cell_volume_pl,
            "modules": self.modules, "inputs": self.inputs, "species": self.species,
            "parameters": parameters, "reactions": reactions,
            "genes": sidecar.genes or a.get("genes", {}),
            "inhibitors": sidecar.inhibitors or a.get("inhibitors", {}),
            "observables": sidecar.observables or a.get("observables", {}),
            "counters": sidecar.counters or a.get("counters", {}),
            "roles": sidecar.roles or a.get("roles", {}),
            "dimer_propensity": a.get("dimer_propensity", "rate_law"),
            "reference_inputs": sidecar.reference_inputs or (
                a["reference_inputs"] if "reference_inputs" in a else
                reference if reference and set(reference) == set(self.inputs) else {}),
        }
        return spec

    def _in_model_order(self, used: dict) -> dict:
        """The parameters in the SBML's order (derived ones after), with an exported network's parameters that
        no kinetic law reads (a network may declare more than it uses)."""
        read = set()
        for reaction in self.model.getListOfReactions():
            read |= _names(reaction.getKineticLaw().getMath())
        ordered = {}
        for p in self.model.getListOfParameters():
            name = p.getId()
            if name in used:
                ordered[name] = used[name]
            elif name not in read and (form := read_annotation(p, "parameter")) is not None:
                ordered[name] = form
        return {**ordered, **{k: v for k, v in used.items() if k not in ordered}}

    def _dynamic(self, node) -> bool:
        if node.getType() == libsbml.AST_NAME:
            return node.getName() in self.species or node.getName() in self.inputs
        return any(self._dynamic(node.getChild(i)) for i in range(node.getNumChildren()))

    def _evaluate(self, node, where: str, local: dict[str, float]) -> float:
        kind = node.getType()
        children = [node.getChild(i) for i in range(node.getNumChildren())]
        if node.isNumber():
            return node.getValue()
        if kind == libsbml.AST_NAME:
            name = node.getName()
            if name in local:
                return local[name]
            if name in self.constants:
                return self.constants[name]
            self.fail(where, f"{name!r} is not a constant parameter or compartment")
        values = [self._evaluate(c, where, local) for c in children]
        if kind == libsbml.AST_PLUS:
            return sum(values)
        if kind == libsbml.AST_MINUS:
            return -values[0] if len(values) == 1 else values[0] - values[1]
        if kind == libsbml.AST_TIMES:
            out = 1.0
            for v in values:
                out *= v
            return out
        if kind == libsbml.AST_DIVIDE:
            return values[0] / values[1]
        if kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            return values[0] ** values[1]
        self.fail(where, f"{libsbml.formulaToL3String(node)!r} is not arithmetic of numbers and parameters")

    def _factor(self, node, exponent: float, product: _Product, where: str, local: dict[str, float]) -> None:
        """Multiply ``product`` by ``node`` to the power ``exponent``."""
        kind = node.getType()
        text = libsbml.formulaToL3String(node)
        if kind in (libsbml.AST_FUNCTION_DELAY,) or kind == libsbml.AST_NAME_TIME:
            self.fail(where, f"{text!r}: delays and explicit time are not supported")
        if not self._dynamic(node):
            product.coefficient *= self._evaluate(node, where, local) ** exponent
            return
        children = [node.getChild(i) for i in range(node.getNumChildren())]
        if kind == libsbml.AST_TIMES:
            for child in children:
                self._factor(child, exponent, product, where, local)
        elif kind == libsbml.AST_DIVIDE:
            self._factor(children[0], exponent, product, where, local)
            self._factor(children[1], -exponent, product, where, local)
        elif kind in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            if self._dynamic(children[1]):
                self.fail(where, f"{text!r}: an exponent that depends on a species")
            power = self._evaluate(children[1], where, local)
            if children[0].getType() in (libsbml.AST_PLUS, libsbml.AST_MINUS) and power * exponent not in (1, -1):
                self.fail(where, f"{text!r}: a sum raised to a power")
            self._factor(children[0], exponent * power, product, where, local)
        elif kind == libsbml.AST_NAME:
            name = node.getName()
            product.powers[name] = product.powers.get(name, 0.0) + exponent
            product.coefficient *= (self.symbol_scale.get(name) or self.input_scale.get(name)) ** exponent
        elif kind == libsbml.AST_MINUS and len(children) == 1:
            product.coefficient *= (-1.0) ** exponent
            self._factor(children[0], exponent, product, where, local)
        elif (kind == libsbml.AST_MINUS and exponent == 1 and children[0].getType() == libsbml.AST_NAME
              and children[0].getName() in self.species and not self._dynamic(children[1])
              and self._evaluate(children[1], where, local) == 1.0):
            name = children[0].getName()
            if self.symbol_scale[name] != 1.0:
                self.fail(where, f"{text!r}: (x - 1) needs {name} as an amount in molecules")
            product.falling.append(name)
        elif kind in (libsbml.AST_PLUS, libsbml.AST_MINUS) and exponent in (1, -1):
            product.sums.append((node, exponent))
        else:
            self.fail(where, f"{text!r} is not a product of constants, species and Hill terms")

    def _terms(self, node, where: str, local) -> list[_Product]:
        """The terms of a sum, each factored."""
        kind = node.getType()
        if kind == libsbml.AST_PLUS:
            return [t for i in range(node.getNumChildren()) for t in self._terms(node.getChild(i), where, local)]
        if kind == libsbml.AST_MINUS and node.getNumChildren() == 2:
            negative = self._terms(node.getChild(1), where, local)
            for t in negative:
                t.coefficient = -t.coefficient
            return self._terms(node.getChild(0), where, local) + negative
        product = _Product()
        self._factor(node, 1.0, product, where, local)
        return [product]

    def _resolve(self, product: _Product, reactant_powers: dict[str, int], where: str, local) -> list[_Hill]:
        """Turn ``product``'s sums into Hill terms (and its coefficient accordingly); what is left in its powers
        is mass action and linear modifiers."""
        hills: list[_Hill] = []
        for node, exponent in product.sums:
            text = libsbml.formulaToL3String(node)
            terms = self._terms(node, where, local)
            constant = [t for t in terms if not t.powers and not t.sums and not t.falling]
            dynamic = [t for t in terms if t not in constant]
            if exponent == -1:
                C = sum(t.coefficient for t in constant)
                if (len(dynamic) != 1 or dynamic[0].sums or dynamic[0].falling or len(dynamic[0].powers) != 1
                        or not C > 0 or not dynamic[0].coefficient > 0):
                    self.fail(where, f"denominator {text!r} is not a Hill term's K^n + x^n (one species or "
                              "input, positive constants)")
                (symbol, n), = dynamic[0].powers.items()
                if not n > 0:
                    self.fail(where, f"denominator {text!r}: the Hill exponent must be positive")
                K = (C / dynamic[0].coefficient) ** (1.0 / n)
                product.coefficient /= C
                hills.append(_Hill(symbol, "repression", K, n))
            else:  # b + c·H: a Hill term with a basal fraction
                if len(dynamic) != 1 or not constant:
                    reversible = " (a reversible law's difference: write each direction as its own reaction)" \
                        if any(t.coefficient < 0 for t in terms) else ""
                    self.fail(where, f"{text!r} is not a basal fraction plus a Hill term (b + c·H){reversible}")
                inner = dynamic[0]
                inner_hills = self._resolve(inner, {}, where, local)
                b, c = sum(t.coefficient for t in constant), inner.coefficient
                if len(inner_hills) != 1 or any(inner.powers.values()) or inner.falling or not b >= 0 or not c > 0:
                    self.fail(where, f"{text!r} is not a basal fraction plus one Hill term (b + c·H)")
                hill = inner_hills[0]
                hill.basal = b / (b + c)
                product.coefficient *= b + c
                hills.append(hill)
        # x^n times K^n/(K^n + x^n) is K^n times the activation x^n/(K^n + x^n)
        for hill in hills:
            spare = product.powers.get(hill.symbol, 0.0) - reactant_powers.get(hill.symbol, 0)
            if hill.law == "repression" and hill.basal is None and spare == hill.n:
                product.powers[hill.symbol] -= hill.n
                product.coefficient *= hill.K ** hill.n
                hill.law = "hill"
        return hills

    def _reaction(self, reaction, parameters: dict) -> dict:
        rid = reaction.getId()
        where = f"reaction {rid!r}"
        if reaction.isSetFast() and reaction.getFast():
            self.fail(where, "a fast reaction (an equilibrium assumption, not a stochastic process)")
        law = reaction.getKineticLaw()
        if law is None or law.getMath() is None:
            self.fail(where, "no kinetic law")
        local = {p.getId(): p.getValue() for p in law.getListOfLocalParameters()}
        local.update({p.getId(): p.getValue() for p in law.getListOfParameters()})
        stoichiometry = {"reactants": {}, "products": {}}
        consumes = releases = None
        for side, references in (("reactants", reaction.getListOfReactants()),
                                 ("products", reaction.getListOfProducts())):
            for ref in references:
                name = ref.getSpecies()
                n = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
                if hasattr(ref, "isSetStoichiometryMath") and ref.isSetStoichiometryMath():
                    self.fail(f"{where}, species reference {name!r}", "a stoichiometry that varies")
                if n != int(n) or n <= 0:
                    self.fail(f"{where}, species reference {name!r}", f"stoichiometry {n:g}; the SSA needs "
                              "positive whole numbers")
                if name in self.inputs:
                    if int(n) != 1:
                        self.fail(f"{where}, boundary species {name!r}", "an input taken or given in a "
                                  f"stoichiometry of {n:g}; one molecule per event is supported")
                    if side == "reactants":
                        consumes = name
                    else:
                        releases = name
                    continue
                stoichiometry[side][name] = stoichiometry[side].get(name, 0) + int(n)
        reactants = stoichiometry["reactants"]
        if sum(reactants.values()) > 2:
            self.fail(where, f"{sum(reactants.values())} reactant molecules; the SSA runs at most bimolecular "
                      "reactions")
        if consumes and releases:
            self.fail(where, "consumes one input and releases another")
        product = _Product()
        self._factor(law.getMath(), 1.0, product, where, local)
        hills = self._resolve(product, reactants, where, local)
        formula = libsbml.formulaToL3String(law.getMath())
        for name, n in reactants.items():
            power = product.powers.pop(name, 0.0) + product.falling.count(name)
            if power != n or (name in product.falling and n != 2):
                self.fail(where, f"reactant {name} (stoichiometry {n}) appears to the power {power:g} in "
                          f"{formula!r}; the SSA's reactants act by mass action")
        for name in product.falling:
            if name not in reactants:
                self.fail(where, f"({name} - 1) in {formula!r}, but {name} is not a reactant of stoichiometry 2")
        linear = []
        for name, power in product.powers.items():
            if power == 0:
                continue
            if power != 1:
                self.fail(where, f"{name} to the power {power:g} in {formula!r}; a modifier acts linearly or "
                          "through a Hill term")
            linear.append(name)
        if not product.coefficient >= 0:
            self.fail(where, f"{formula!r} is negative")
        # the reaction's molecules per model amount (one event changes its species by whole molecules)
        changed = {s for s in set(reactants) | set(stoichiometry["products"])
                   if reactants.get(s, 0) != stoichiometry["products"].get(s, 0)}
        per_unit = {self.molecules_per_unit[s] for s in changed} or {1.0}
        if len(per_unit) > 1:
            self.fail(where, "changes species whose amounts are in different units")
        events_per_law = per_unit.pop() * self.time_per_hour
        derived = self._derived(rid.lstrip("_"), reactants, stoichiometry["products"], product.coefficient * events_per_law,
                                linear, hills, consumes, releases)
        annotated = read_annotation(reaction, "reaction")
        if annotated is not None:  # list the modifiers in the annotation's order, so the arrays can match
            order = [_target(m) for m in annotated.get("modifiers", [])]
            derived["modifiers"].sort(key=lambda m: order.index(_target(m)) if _target(m) in order else len(order))
        chosen = derived
        if annotated is not None and self._same(annotated, derived, rid):
            chosen = annotated
            for name in {annotated["k"]} | {m[key] for m in annotated.get("modifiers", [])
                                             for key in ("K", "n", "basal") if m.get(key)}:
                parameters[name] = read_annotation(self.model.getParameter(name), "parameter")
        else:
            parameters.update(derived.pop("_parameters"))
        chosen.pop("_parameters", None)
        return {k: v for k, v in chosen.items() if v not in (None, [], {}, "")}

    def _derived(self, rid, reactants, products, k_molecules, linear, hills, consumes, releases) -> dict:
        """The reaction with its constants in molecules and hours, as new parameters named after it."""
        order = sum(reactants.values())
        if self.annotation.get("dimer_propensity") == "per_pair" and 2 in reactants.values():
            k_molecules *= 2  # the law's k·a·(a - 1)/2 is per_pair's reading of 2·k
        linear_species = [s for s in linear if s in self.species]
        nM_inputs = [u for u in linear if u in self.inputs and self.inputs[u]["unit"] == "nM"]
        e = 1 - order - len(linear_species)
        parameters = {f"k_{rid}": {"value": k_molecules, "unit": _count_unit(e, len(nM_inputs)),
                                   "source": f"SBML kinetic law of reaction {rid}"}}
        modifiers = [{"species" if s in self.species else "input": s, "law": "linear"} for s in linear]
        for hill in hills:
            on_species = hill.symbol in self.species
            tag = f"{rid}_{hill.symbol}"
            K_unit = "molecules" if on_species else self.inputs[hill.symbol]["unit"]
            parameters[f"K_{tag}"] = {"value": hill.K, "unit": K_unit, "source": f"SBML kinetic law of reaction {rid}"}
            parameters[f"n_{tag}"] = {"value": hill.n, "unit": "1", "source": f"SBML kinetic law of reaction {rid}"}
            modifier = {"species" if on_species else "input": hill.symbol, "law": hill.law, "K": f"K_{tag}",
                        "n": f"n_{tag}"}
            if hill.basal is not None:
                parameters[f"basal_{tag}"] = {"value": hill.basal, "unit": "1",
                                              "source": f"SBML kinetic law of reaction {rid}"}
                modifier["basal"] = f"basal_{tag}"
            modifiers.append(modifier)
        return {"name": rid.lstrip("_"), "reactants": reactants, "products": products, "k": f"k_{rid}",
                "modifiers": modifiers, "consumes": consumes, "releases": releases, "_parameters": parameters}

    def _same(self, annotated: dict, derived: dict, rid: str) -> bool:
        """Whether an exported reaction's annotation still says what its kinetic law says (not edited)."""
        def compiled(reaction: dict, parameters: dict):
            spec = {"name": "check", "cell_volume_pl": self.cell_volume_pl, "modules": self.modules,
                    "inputs": {n: {"unit": i["unit"]} for n, i in self.inputs.items()},
                    "species": {n: {"module": s["module"]} for n, s in self.species.items()},
                    "parameters": parameters, "dimer_propensity": self.annotation.get("dimer_propensity",
                                                                                        "rate_law"),
                    "reactions": [{k: v for k, v in reaction.items() if k != "_parameters"}]}
            return self.compile_network(spec, f"{self.where} ({rid})").arrays

        names = {annotated.get("k")} | {m.get(key) for m in annotated.get("modifiers", [])
                                        for key in ("K", "n", "basal")}
        parameters = {}
        for name in names - {None}:
            element = self.model.getParameter(name)
            form = read_annotation(element, "parameter") if element is not None else None
            if form is None:
                return False
            parameters[name] = form
        try:
            mine, theirs = compiled(annotated, parameters), compiled(derived, derived["_parameters"])
        except UserError:
            return False
        for a, b in zip(mine, theirs):
            if a.shape != b.shape or (a.dtype.kind == "f" and not (abs(a - b) <= _TOLERANCE * abs(b)).all()) \
                    or (a.dtype.kind != "f" and not (a == b).all()):
                return False
        return True


def _names(node) -> set[str]:
    """The identifiers a MathML expression reads."""
    found = {node.getName()} if node.getType() == libsbml.AST_NAME else set()
    for i in range(node.getNumChildren()):
        found |= _names(node.getChild(i))
    return found


def _target(modifier: dict) -> tuple[str, str]:
    return modifier.get("species") or modifier.get("input"), modifier["law"]


def _count_unit(e: int, nM_inputs: int) -> str:
    """The unit of a rate constant in molecules (molecules^e per nM of each input per hour)."""
    numerator = "molecules" if e == 1 else f"molecules^{e}" if e > 1 else "1"
    denominator = [f"molecules^{-e}" if e < -1 else "molecules"] if e < 0 else []
    denominator += ["nM"] * nM_inputs + ["h"]
    return f"{numerator}/({'*'.join(denominator)})" if len(denominator) > 1 else f"{numerator}/h"
