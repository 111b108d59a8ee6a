"""Reaction networks as data: the network file's schema, its validation and its compilation to kernel arrays.

A network file (YAML) declares a cell volume, modules with their copy-number scaling, external inputs, species
(with initial counts, fixed or drawn per cell), parameters (value, unit, source or "calibrated") and
reactions. A reaction's propensity is

    a = k · Π_reactants mass action · Π_modifiers f(modifier) · rate factor

with modifiers linear (a catalyst or an input, not consumed), Hill activation x^n/(K^n + x^n) or Hill
repression K^n/(K^n + x^n). A Hill modifier with a ``basal`` fraction b is b + (1 - b)·(its Hill factor): a
cooperating partner that raises a rate without being required for it (an activator's partner on a promoter that
the main activator can also drive alone; a repressor that leaves a leak). Units are converted on loading to molecules and hours: a concentration of a
species becomes molecules through its module's ``molecules_per_nM``; a reaction's constant is scaled by the
cell's volume to the power 1 - (reactant order) - (linear species modifiers), so a fused cell twice as large
makes zero-order products twice as fast and meets a bimolecular partner half as often.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from boneabm.errors import UserError, did_you_mean, validation_lines
from boneabm.signaling.units import DIMENSIONLESS, UnitError, parse_unit
from boneabm.units import MAX_MOLECULES
from boneabm.yamlio import read_yaml

NETWORKS_DIR = Path(__file__).resolve().parent / "networks"
MOLECULES_PER_NM_PER_PL = 602.214076  # 1 nM in 1 pL
# Beyond these a network cannot be run, only hang: a reaction faster than 1e5 per hour per molecule (a time scale
# of 36 ms) costs a thousand times the event budget (counts: boneabm.units.MAX_MOLECULES).
MAX_RATE_PER_H = 1e5
_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ModuleSpec(_Strict):
    molecules_per_nM: float = Field(gt=0, description="Copy-number scaling: simulated molecules per nM.")
    description: str = ""


class InputSpec(_Strict):
    unit: Literal["nM", "1"] = Field(description="nM for a concentration, 1 for a dimensionless level.")
    description: str = ""


class InitialSpec(_Strict):
    distribution: Literal["fixed", "poisson", "gamma"] = "fixed"
    mean: float = Field(ge=0, le=MAX_MOLECULES, description="Mean initial count, molecules.")
    cv: float = Field(0.0, ge=0, description="Coefficient of variation (gamma only).")


class SpeciesSpec(_Strict):
    module: str
    initial: InitialSpec = InitialSpec(mean=0)
    description: str = ""

    @field_validator("initial", mode="before")
    @classmethod
    def _number_is_a_fixed_count(cls, value):
        """``initial: 10`` is ``{distribution: fixed, mean: 10}``: one schema, so a bad number gets one message."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"distribution": "fixed", "mean": value}
        return value


class ParameterSpec(_Strict):
    value: float
    unit: str
    source: str = Field(min_length=1, description='A citation, or the word "calibrated".')


class ModifierSpec(_Strict):
    species: str | None = None
    input: str | None = None
    law: Literal["linear", "hill", "repression"]
    K: str | None = None
    n: str | None = None
    basal: str | None = Field(
        None, description="A dimensionless parameter b in [0, 1): the factor is b + (1 - b)·(Hill factor), so the "
        "reaction keeps the fraction b of its rate without the activator (or under full repression).")

    @model_validator(mode="after")
    def _one_target(self) -> ModifierSpec:
        if (self.species is None) == (self.input is None):
            raise ValueError("a modifier names exactly one of species or input")
        if self.law != "linear" and (self.K is None or self.n is None):
            raise ValueError(f"a {self.law} modifier needs K and n parameters")
        if self.law == "linear" and (self.K is not None or self.n is not None):
            raise ValueError("a linear modifier takes no K or n")
        if self.law == "linear" and self.basal is not None:
            raise ValueError("a linear modifier takes no basal fraction")
        return self


class ReactionSpec(_Strict):
    name: str = Field(pattern=_NAME)
    module: str | None = None
    reactants: dict[str, int] = {}
    products: dict[str, int] = {}
    k: str
    modifiers: list[ModifierSpec] = []
    consumes: str | None = Field(None, description="An input of which each event binds or takes up one molecule.")
    releases: str | None = Field(None, description="An input of which each event gives back one molecule.")
    description: str = ""


class InhibitorSpec(_Strict):
    reactions: list[str] = Field(min_length=1)
    description: str = ""


class NetworkSpec(_Strict):
    name: str
    description: str = ""
    cell_volume_pl: float = Field(gt=0, le=1e4, description="Cytoplasmic volume of one mononuclear cell, pL "
                                  "(at most 10 nL: a mammalian cell is 0.1-10 pL).")
    modules: dict[str, ModuleSpec]
    inputs: dict[str, InputSpec] = {}
    genes: dict[str, list[str]] = {}
    species: dict[str, SpeciesSpec]
    parameters: dict[str, ParameterSpec]
    reactions: list[ReactionSpec] = Field(min_length=1)
    inhibitors: dict[str, InhibitorSpec] = {}
    observables: dict[str, list[str]] = {}
    counters: dict[str, str] = {}
    roles: dict[str, str] = Field(
        {}, description="What a lineage reads or supplies, bound to this network's names: role -> species "
        "(or input, or counter). The lineages' contracts list their roles (boneabm network FILE shows them).")
    dimer_propensity: Literal["rate_law", "per_pair"] = Field(
        "rate_law", description="How k of a reactant with stoichiometry 2 (2 A -> ...) is read. rate_law: k is the "
        "constant of the rate law k·[A]² (SBML's kinetic law, the ODE's), so the propensity is k·a·(a - 1) in "
        "molecules. per_pair: k is Gillespie's stochastic constant per distinct pair, so the propensity is "
        "k·a·(a - 1)/2. Say which when translating a published model: they differ by a factor of 2.")
    reference_inputs: dict[str, float] = Field(
        {}, description="The condition the network is calibrated for; a short simulation there orders the "
        "kernel's reaction search by firing frequency (speed only: results are exact in any order).")


class NetworkError(UserError):
    """A network file that cannot be used; the message names the reaction, species or parameter."""


# ----------------------------------------------------------------------------------------------------------


class KernelArrays(NamedTuple):
    """Everything the SSA kernel needs, as flat arrays (CSR layouts where a reaction has several entries)."""

    rate_constant: np.ndarray  # [R] molecules/h at unit volume and unit modifiers
    volume_exponent: np.ndarray  # [R]
    reactant_ptr: np.ndarray  # [R+1]
    reactant_species: np.ndarray
    reactant_order: np.ndarray  # 1 or 2 per entry
    modifier_ptr: np.ndarray  # [R+1]
    modifier_kind: np.ndarray  # 0 linear species, 1 hill species, 2 repression species, 3-5 same for inputs
    modifier_index: np.ndarray  # species or input index
    modifier_K: np.ndarray  # molecules at unit volume (species) or input units
    modifier_n: np.ndarray
    modifier_basal: np.ndarray  # fraction b of a Hill modifier's factor that needs no modifier (0: a plain Hill)
    change_ptr: np.ndarray  # [R+1]
    change_species: np.ndarray
    change_delta: np.ndarray
    dependents_ptr: np.ndarray  # [R+1]
    dependents: np.ndarray  # reactions whose propensity a reaction's firing can change
    consumed_input: np.ndarray  # [R] input index or -1
    consumed_molecules: np.ndarray  # [R] real molecules of that input taken (+) or given back (-) per event
    search_order: np.ndarray  # [R] reactions by decreasing firing frequency in the reference condition
    species_modifier_end: np.ndarray  # [R] end of each reaction's species modifiers (input modifiers follow)
    simple_species: np.ndarray  # [R] the reactant of a first-order reaction without species modifiers, else -1


@dataclass(frozen=True)
class Network:
    """A validated, compiled network: names, initial-count rules and the kernel's arrays."""

    spec: NetworkSpec
    species: list[str]
    reactions: list[str]
    inputs: list[str]
    arrays: KernelArrays
    initial: list[InitialSpec]
    genes: dict[str, list[str]]
    inhibitors: dict[str, list[str]]
    observables: dict[str, list[int]]
    counters: dict[str, int]  # name -> reaction index whose firings are counted per cell
    source: str = ""

    @property
    def path(self) -> Path | None:
        """The file the network was loaded from (a built-in one inside the installed package), or None."""
        path = Path(self.source)
        return path if path.is_file() else None

    @property
    def roles(self) -> dict[str, str]:
        return dict(self.spec.roles)

    def to_sbml(self) -> str:
        """The network as SBML Level 3 Version 2 text (``boneabm.signaling.sbml``)."""
        from boneabm.signaling.sbml import to_sbml

        return to_sbml(self)

    @property
    def n_species(self) -> int:
        return len(self.species)

    @property
    def n_reactions(self) -> int:
        return len(self.reactions)

    @property
    def counted_reactions(self) -> np.ndarray:
        """The reaction each counter counts, in the counters' order (what the SSA kernel counts per cell)."""
        return np.array(list(self.counters.values()), dtype=np.int64)

    def species_index(self, name: str) -> int:
        return self.species.index(name)

    def reaction_indices(self, names: list[str]) -> list[int]:
        return [self.reactions.index(n) for n in names]

    def resolve_gene(self, name: str) -> list[int]:
        """Species indices a knockout of ``name`` (a gene or a species) removes."""
        if name in self.genes:
            return [self.species_index(s) for s in self.genes[name]]
        if name in self.species:
            return [self.species_index(name)]
        raise UserError(f"knockout {name!r}: not a gene or species of network {self.spec.name!r}"
                        f"{_suggest(name, set(self.genes) | set(self.species))}")

    def resolve_inhibitor(self, target: str) -> list[int]:
        """Reaction indices an inhibitor of ``target`` (a named inhibitor or a reaction) acts on."""
        if target in self.inhibitors:
            return self.reaction_indices(self.inhibitors[target])
        if target in self.reactions:
            return [self.reactions.index(target)]
        raise UserError(f"inhibitor target {target!r}: not an inhibitor or reaction of network "
                        f"{self.spec.name!r}{_suggest(target, set(self.inhibitors) | set(self.reactions))}")

    def synthesis_reactions(self, species: list[int]) -> list[int]:
        """Reactions that create any of ``species`` from outside that set: what a knockout switches off."""
        removed, out = set(species), []
        a = self.arrays
        for j in range(self.n_reactions):
            changes = dict(zip(a.change_species[a.change_ptr[j]:a.change_ptr[j + 1]],
                               a.change_delta[a.change_ptr[j]:a.change_ptr[j + 1]]))
            reactants = set(a.reactant_species[a.reactant_ptr[j]:a.reactant_ptr[j + 1]])
            if any(changes.get(s, 0) > 0 for s in removed) and not reactants & removed:
                out.append(j)
        return out

    def draw_initial(self, n_cells: int, rng: np.random.Generator) -> np.ndarray:
        """Initial counts for ``n_cells`` cells, shape (n_cells, n_species), drawn species by species (numpy's
        own draws: the same numbers scipy.stats gives from the same generator, without its 1 s import)."""
        X = np.zeros((n_cells, self.n_species), dtype=np.int64)
        for i, rule in enumerate(self.initial):
            if rule.distribution == "fixed" or rule.mean == 0:
                X[:, i] = round(rule.mean)
            elif rule.distribution == "poisson":
                X[:, i] = rng.poisson(rule.mean, size=n_cells)
            else:  # gamma with the given mean and CV, rounded to whole molecules
                if rule.cv == 0:
                    X[:, i] = round(rule.mean)
                else:
                    shape = 1 / rule.cv**2
                    X[:, i] = np.rint(rng.gamma(shape, rule.mean / shape, size=n_cells))
        return X


def _suggest(name: str, known: set[str]) -> str:
    return f"{did_you_mean(name, sorted(known), n=3)}; known: {', '.join(sorted(known))}"


def _modifier_kind(law: str, on_input: bool) -> int:
    return {"linear": 0, "hill": 1, "repression": 2}[law] + (3 if on_input else 0)


def compile_network(spec: NetworkSpec, source: str = "network", search_order: list[int] | None = None) -> Network:
    """Validate the network's references and units and build the kernel's arrays; ``search_order`` is a known
    order of the reaction search (a checkpoint's), else it is found (or read from the cache)."""
    problems: list[str] = []
    species = list(spec.species)
    inputs = list(spec.inputs)
    s_index = {name: i for i, name in enumerate(species)}
    i_index = {name: i for i, name in enumerate(inputs)}

    for name, sp in spec.species.items():
        if sp.module not in spec.modules:
            problems.append(f"species {name}: unknown module {sp.module!r}; modules: {', '.join(spec.modules)}")
    units = {}
    for name, p in spec.parameters.items():
        try:
            units[name] = parse_unit(p.unit)
        except UnitError as exc:
            problems.append(f"parameter {name}: {exc}")

    def scale(species_name: str) -> float:  # an unknown module is reported above; 1 lets the checks go on
        module = spec.modules.get(spec.species[species_name].module)
        return module.molecules_per_nM if module is not None else 1.0

    names = [r.name for r in spec.reactions]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"reaction {dup}: defined more than once")

    rate_constant, volume_exponent = [], []
    reactant_ptr, reactant_species, reactant_order = [0], [], []
    modifier_ptr, modifier_kind, modifier_index, modifier_K, modifier_n, modifier_basal = [0], [], [], [], [], []
    change_ptr, change_species, change_delta = [0], [], []
    consumed_input, consumed_molecules = [], []

    for r in spec.reactions:
        where = f"reaction {r.name}"
        bad = False
        for role, stoich in (("reactant", r.reactants), ("product", r.products)):
            for s, n in stoich.items():
                if s not in s_index:
                    problems.append(f"{where}: unknown {role} species {s!r}")
                    bad = True
                if n <= 0:
                    problems.append(f"{where}: {role} {s} has stoichiometry {n}; it must be a positive integer")
                    bad = True
        order = sum(r.reactants.values())
        if order > 2 or any(n > 2 for n in r.reactants.values()):
            problems.append(f"{where}: reactant order {order}; at most bimolecular reactions are allowed")
            bad = True
        for m in r.modifiers:
            if m.species is not None and m.species not in s_index:
                problems.append(f"{where}: unknown modifier species {m.species!r}")
                bad = True
            if m.input is not None and m.input not in i_index:
                problems.append(f"{where}: unknown input {m.input!r}; inputs: {', '.join(inputs) or 'none'}")
                bad = True
        for p in [r.k] + [x for m in r.modifiers for x in (m.K, m.n, m.basal) if x is not None]:
            if p not in spec.parameters:
                problems.append(f"{where}: missing parameter {p!r}")
                bad = True
            elif p not in units:
                bad = True
        for which in (r.consumes, r.releases):
            if which is not None and which not in i_index:
                problems.append(f"{where}: consumes/releases unknown input {which!r}")
                bad = True
        if r.module is not None and r.module not in spec.modules:
            problems.append(f"{where}: unknown module {r.module!r}")
            bad = True
        if bad:
            continue

        delta: dict[str, int] = {}
        for s, n in r.reactants.items():
            delta[s] = delta.get(s, 0) - n
        for s, n in r.products.items():
            delta[s] = delta.get(s, 0) + n
        changed = [s for s, d in delta.items() if d != 0]
        scales = {scale(s) for s in changed}
        if r.module is not None:
            scales.add(spec.modules[r.module].molecules_per_nM)
        if len(scales) > 1:
            problems.append(f"{where}: changes species of modules with different molecules_per_nM; one event must "
                            "mean the same amount for every species it changes")
            continue
        if not scales:
            problems.append(f"{where}: changes no species; give it a module to set its scale")
            continue
        s_r = scales.pop()

        linear_species = [m for m in r.modifiers if m.law == "linear" and m.species is not None]
        linear_inputs = [m for m in r.modifiers if m.law == "linear" and m.input is not None]
        input_conc = sum(1 for m in linear_inputs if spec.inputs[m.input].unit == "nM")
        e = 1 - order - len(linear_species)
        k_unit = units[r.k]
        if k_unit.dims == (e - input_conc, 0, -1):  # species as concentrations
            factor = s_r * s_r ** -order
            for m in linear_species:
                factor /= scale(m.species)
        elif k_unit.dims == (-input_conc, e, -1):  # species as molecule counts
            factor = 1.0
        else:
            conc = {1: "nM/h", 0: "1/h", -1: "1/(nM*h)", -2: "1/(nM^2*h)"}.get(e - input_conc, "?")
            problems.append(
                f"{where}: rate constant {r.k} has unit {spec.parameters[r.k].unit!r}, inconsistent with its "
                f"{order} reactant(s), {len(linear_species)} linear species modifier(s) and {input_conc} nM "
                f"input(s); expected a unit like {conc}")
            continue
        if spec.dimer_propensity == "per_pair" and 2 in r.reactants.values():
            factor /= 2  # a·(a - 1)/2 distinct pairs
        k_compiled = spec.parameters[r.k].value * k_unit.factor * factor
        if k_compiled > MAX_RATE_PER_H:
            problems.append(f"{where}: rate constant {r.k} = {spec.parameters[r.k].value:g} "
                            f"{spec.parameters[r.k].unit} is {k_compiled:.3g} per hour per molecule in this "
                            f"network's scaling, faster than the {MAX_RATE_PER_H:.0e} a cell's SSA can afford; "
                            "lump the fast step (its quasi-steady state) into the slower ones")
            continue
        rate_constant.append(k_compiled)
        volume_exponent.append(float(e))

        for s, n in r.reactants.items():
            reactant_species.append(s_index[s])
            reactant_order.append(n)
        reactant_ptr.append(len(reactant_species))
        # species modifiers first: the kernel's propensity loop stops where the input modifiers begin
        for m in sorted(r.modifiers, key=lambda mod: mod.input is not None):
            on_input = m.input is not None
            modifier_kind.append(_modifier_kind(m.law, on_input))
            modifier_index.append(i_index[m.input] if on_input else s_index[m.species])
            modifier_basal.append(spec.parameters[m.basal].value if m.basal is not None else 0.0)
            if m.basal is not None and (units[m.basal] != DIMENSIONLESS
                                        or not 0 <= spec.parameters[m.basal].value < 1):
                problems.append(f"{where}: basal fraction {m.basal} must be a dimensionless number in [0, 1)")
            if m.law == "linear":
                modifier_K.append(0.0)
                modifier_n.append(1.0)
                continue
            K_unit, n_unit = units[m.K], units[m.n]
            if n_unit != DIMENSIONLESS or spec.parameters[m.n].value <= 0:
                problems.append(f"{where}: Hill coefficient {m.n} must be a positive dimensionless number")
            if on_input:
                expected = (1, 0, 0) if spec.inputs[m.input].unit == "nM" else (0, 0, 0)
                if K_unit.dims != expected:
                    problems.append(f"{where}: K {m.K} has unit {spec.parameters[m.K].unit!r}; input {m.input} "
                                    f"is in {spec.inputs[m.input].unit}")
                modifier_K.append(spec.parameters[m.K].value * K_unit.factor)
            elif K_unit.dims == (1, 0, 0):
                modifier_K.append(spec.parameters[m.K].value * K_unit.factor * scale(m.species))
            elif K_unit.dims == (0, 1, 0):
                modifier_K.append(spec.parameters[m.K].value * K_unit.factor)
            else:
                problems.append(f"{where}: K {m.K} has unit {spec.parameters[m.K].unit!r}; expected a "
                                "concentration (nM) or a count (molecules)")
                modifier_K.append(1.0)
            if spec.parameters[m.K].value <= 0:
                problems.append(f"{where}: K {m.K} must be positive")
            modifier_n.append(spec.parameters[m.n].value)
        modifier_ptr.append(len(modifier_kind))
        for s in changed:
            change_species.append(s_index[s])
            change_delta.append(delta[s])
        change_ptr.append(len(change_species))
        if r.consumes is not None and r.releases is not None:
            problems.append(f"{where}: give consumes or releases, not both")
        which, sign = (r.consumes, 1.0) if r.consumes is not None else (r.releases, -1.0)
        consumed_input.append(i_index[which] if which is not None else -1)
        consumed_molecules.append(sign * MOLECULES_PER_NM_PER_PL * spec.cell_volume_pl / s_r if which else 0.0)
        if spec.parameters[r.k].value < 0:
            problems.append(f"{where}: rate constant {r.k} = {spec.parameters[r.k].value} is negative")

    named_sets = (("gene", spec.genes, s_index, "species"), ("observable", spec.observables, s_index, "species"),
                  ("inhibitor", {k: v.reactions for k, v in spec.inhibitors.items()}, names, "reaction"))
    for label, table, known, kind in named_sets:
        problems += [f"{label} {name}: unknown {kind} {member!r}"
                     for name, members in table.items() for member in members if member not in known]
    for name, value in spec.reference_inputs.items():
        if name not in i_index:
            problems.append(f"reference_inputs: unknown input {name!r}")
        elif value < 0:
            problems.append(f"reference_inputs: {name} = {value} is negative")
    if spec.reference_inputs and set(spec.reference_inputs) != set(inputs):
        problems.append(f"reference_inputs: give every input ({', '.join(inputs)})")
    for role, name in spec.roles.items():
        if name not in s_index and name not in i_index and name not in spec.counters:
            problems.append(f"role {role}: {name!r} is neither a species, an input nor a counter of the network")
    for name, reaction in spec.counters.items():
        if reaction not in names:
            problems.append(f"counter {name}: unknown reaction {reaction!r}")
    if problems:
        raise NetworkError(f"{source}: invalid network:\n  " + "\n  ".join(problems))

    species_modifier_end = [modifier_ptr[j] + sum(1 for m in range(modifier_ptr[j], modifier_ptr[j + 1])
                                                  if modifier_kind[m] < 3) for j in range(len(spec.reactions))]
    simple_species = [reactant_species[reactant_ptr[j]] if reactant_ptr[j + 1] - reactant_ptr[j] == 1
                      and reactant_order[reactant_ptr[j]] == 1 and species_modifier_end[j] == modifier_ptr[j]
                      else -1 for j in range(len(spec.reactions))]
    # dependency graph: firing j changes species C_j; reaction i reads species D_i (reactants, species modifiers)
    n_r = len(spec.reactions)
    reads = []
    for j in range(n_r):
        d = set(reactant_species[reactant_ptr[j]:reactant_ptr[j + 1]])
        for m in range(modifier_ptr[j], modifier_ptr[j + 1]):
            if modifier_kind[m] < 3:
                d.add(modifier_index[m])
        reads.append(d)
    dependents_ptr, dependents = [0], []
    for j in range(n_r):
        changed = set(change_species[change_ptr[j]:change_ptr[j + 1]])
        dependents.extend(i for i in range(n_r) if reads[i] & changed)
        dependents_ptr.append(len(dependents))

    i64 = lambda x: np.asarray(x, dtype=np.int64)  # noqa: E731
    f64 = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
    arrays = KernelArrays(
        f64(rate_constant), f64(volume_exponent), i64(reactant_ptr), i64(reactant_species), i64(reactant_order),
        i64(modifier_ptr), i64(modifier_kind), i64(modifier_index), f64(modifier_K), f64(modifier_n),
        f64(modifier_basal),
        i64(change_ptr), i64(change_species), i64(change_delta), i64(dependents_ptr), i64(dependents),
        i64(consumed_input), f64(consumed_molecules), np.arange(n_r, dtype=np.int64),
        i64(species_modifier_end), i64(simple_species))
    initial = [sp.initial for sp in spec.species.values()]
    network = Network(spec=spec, species=species, reactions=names, inputs=inputs, arrays=arrays, initial=initial,
                   genes=dict(spec.genes), inhibitors={k: list(v.reactions) for k, v in spec.inhibitors.items()},
                   observables={k: [s_index[s] for s in v] for k, v in spec.observables.items()},
                   counters={k: names.index(v) for k, v in spec.counters.items()},
                   source=source)
    if search_order is not None:
        if sorted(search_order) != list(range(n_r)):
            raise NetworkError(f"{source}: search order {search_order} is not an order of its {n_r} reactions")
        network = dataclasses.replace(network, arrays=arrays._replace(
            search_order=np.asarray(search_order, dtype=np.int64)))
    elif spec.reference_inputs:
        from boneabm.signaling.search_order import search_order as find_order  # cached: no solver run once known

        network = dataclasses.replace(network, arrays=arrays._replace(search_order=find_order(network)))
    return network


def builtin_networks() -> list[str]:
    return sorted(p.stem for p in NETWORKS_DIR.glob("*.yaml"))


def network_path(name_or_path: str | Path) -> Path:
    """A built-in network's file (``rank``) or a path to a network file."""
    text = str(name_or_path)
    if text in builtin_networks():
        return NETWORKS_DIR / f"{text}.yaml"
    path = Path(text)
    if not path.is_file():
        raise UserError(f"network {text!r}: no such file and not a built-in network "
                        f"({', '.join(builtin_networks())})")
    return path


def is_sbml(path: Path) -> bool:
    """An SBML file: ``.xml``/``.sbml``, or XML whose root is ``<sbml``; anything else is read as YAML."""
    if path.suffix.lower() in (".xml", ".sbml"):
        return True
    with open(path, "rb") as handle:
        head = handle.read(512).lstrip()
    return head.startswith(b"<?xml") or head.startswith(b"<sbml")


_LOADED: dict[tuple, Network] = {}


def load_network(name_or_path: str | Path = "rank") -> Network:
    """Load, validate and compile a network file (YAML, or SBML: ``sbml_import``); every problem is a
    ``UserError`` naming its place.

    Compiled networks are kept per file version (path, modification time, size): validating an experiment and
    building its model load the file once.
    """
    path = network_path(name_or_path).resolve()
    sbml = is_sbml(path)
    if sbml:  # libSBML takes half a second to import: only for SBML
        from boneabm.signaling.sbml_import import read_sbml, sidecar_path
    versions = [path, sidecar_path(path)] if sbml else [path]
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else (str(p),) for p in versions)
    if key not in _LOADED:
        _LOADED[key] = network_from_dict(read_sbml(path, network_from_dict) if sbml else read_yaml(path), str(path))
    return _LOADED[key]


def with_outputs(network: Network, observables: dict[str, list[str]], counters: dict[str, str]) -> Network:
    """The network with more observables (name -> species summed) and counters (name -> reaction counted):
    readouts only, so its dynamics and reaction search order are the network's own. A name the network already
    uses is refused, like an unknown species or reaction."""
    if not observables and not counters:
        return network
    taken = sorted((set(observables) | set(counters)) & (set(network.observables) | set(network.counters)))
    if taken:
        raise NetworkError(f"{network.spec.name}: {', '.join(taken)} already named by the network's own outputs "
                           f"({', '.join([*network.observables, *network.counters])}); choose another name")
    spec = network.spec.model_copy(update={"observables": {**network.spec.observables, **observables},
                                           "counters": {**network.spec.counters, **counters}})
    return compile_network(spec, network.source, list(network.arrays.search_order))


def network_from_dict(data: dict, source: str = "network", search_order: list[int] | None = None) -> Network:
    """Compile a network given as a mapping (tests, notebooks, checkpoints)."""
    try:
        spec = NetworkSpec.model_validate(data)
    except ValidationError as exc:
        lines = validation_lines(exc.errors(include_url=False), NetworkSpec)
        raise NetworkError(f"{source}: invalid network:\n  " + "\n  ".join(lines)) from None
    return compile_network(spec, source, search_order)
