"""What every lineage has: a population on the grid, a network bound to the lineage's contract, the
perturbations acting on it, and the signaling step that advances every cell's network by one tick.

A lineage subclass adds its contract, its own columns, its agent class, its network file and initial cells
(``network_file``, ``plate_initial``) and what its cells do each tick (``fates``, ``act_on_bone``); what it
reports to the tables is its own (the osteoclast lineage's ``counts``, ``cell_states``, ``osteoclast_rows``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from boneabm.cells.agent import Cell
from boneabm.cells.contract import Contract, bind
from boneabm.cells.placement import claim_free_neighbours
from boneabm.cells.population import Population
from boneabm.cells.recruitment import MarrowPool
from boneabm.signaling.codegen import kernel
from boneabm.signaling.network import Network, load_network
from boneabm.signaling.perturbations import Perturbation, PerturbationSchedule
from boneabm.signaling.ssa import split_molecules


class Lineage:
    name: str = ""
    contract: Contract
    agent_class: type[Cell] = Cell
    columns: dict[str, tuple] = {}  # the lineage's own population columns: name -> (dtype, shape, birth value)
    # the role whose species carries the signal of the receptor that recruits the lineage's marrow cells (None:
    # recruitment reads the factor alone)
    recruitment_role: str | None = None

    def __init__(self, model, network, perturbations: list[Perturbation], config_inputs: dict[str, float],
                 capacity: int):
        self.model = model
        self.network = network
        self.advance = kernel(network)  # the SSA kernel with code generated for this network
        self.counted_reactions = network.counted_reactions
        self.binding = bind(network, self.contract)
        self.perturbations = PerturbationSchedule(network, perturbations)
        self.effect = self.perturbations.at(0.0)
        self.config_inputs = config_inputs  # input role -> value, for inputs that do not come from a field
        self.population = Population(model.experiment.seed, capacity, network.n_species, len(network.counters),
                                     self.columns)
        self.divisions_total = 0
        self.deaths_total = 0
        self.ssa_events_total = 0
        self.cell_hours = 0.0
        self.ssa_events_by_reaction = np.zeros(network.n_reactions, dtype=np.int64)
        self.counter_totals = np.zeros(len(network.counters), dtype=np.int64)
        self.tick = None  # (rows, cell ids, x, y, counted firings) of the last signaling step
        self.marrow: MarrowPool | None = None  # where the lineage's cells come from, if they are recruited
        self._transmission: dict[tuple[int, str], float] = {}  # by (effect, role): effects change only at switches
        self.recruited_total = 0

    @classmethod
    def present(cls, experiment) -> bool:
        """Whether the experiment has this lineage (every lineage, unless it says)."""
        return True

    @classmethod
    def network_file(cls, experiment) -> str:
        """The network the experiment gives this lineage (a built-in name or a path)."""
        raise NotImplementedError

    @classmethod
    def network_for(cls, experiment) -> Network:
        """The compiled network the experiment gives this lineage (its file, unless the lineage adds to it)."""
        return load_network(cls.network_file(experiment))

    def plate_initial(self) -> None:
        """Place the lineage's cells at t = 0 (none, unless the lineage says)."""

    def fields_read(self) -> set[str]:
        """The field species the lineage reads: its contract's inputs that come from a field, and the factor that
        recruits its marrow cells (the fields carry no species that no lineage reads)."""
        read = {supplied.field for supplied in self.contract.inputs.values() if supplied.field is not None}
        return read | ({self.marrow.field} if self.marrow is not None else set())

    def free_sites(self, n_cells: int) -> list:
        """``n_cells`` free grid sites drawn at random from the model's generator."""
        free = np.flatnonzero(self.model.grid.empty.data.ravel())
        if n_cells > free.size:
            raise ValueError(f"{self.name}: {n_cells} cells to place, {free.size} free sites")
        return list(self.model.site_cells.ravel()[self.model.rng.choice(free, size=n_cells, replace=False)])

    def plate(self, sites: list) -> list[Cell]:
        """New cells of generation 0 on ``sites``, their molecules drawn from the network's initial rules."""
        cells = [self.agent_class(self, site, born_h=self.model.time_h, generation=0) for site in sites]
        rows = np.array([cell.row for cell in cells], dtype=np.int64)
        self.population.molecules[rows] = self.network.draw_initial(len(cells), self.model.rng)
        return cells

    def die(self, rows: np.ndarray) -> None:
        """The cells in ``rows`` die by apoptosis: a ``death`` event each, then they leave the grid."""
        pop, now = self.population, self.model.time_h
        for row in rows:
            self.record("death", int(pop.cell_id[row]), None, int(pop.nuclei[row]), int(pop.generation[row]),
                        now - float(pop.born_h[row]))
            self.closing(row, "apoptosis")
            pop.agent[row].die()
        self.deaths_total += int(rows.size)

    def closing(self, row: int, fate: str) -> None:
        """What the lineage books of a cell that leaves (nothing, unless the lineage says)."""

    def divide(self, rows: np.ndarray, u_order: np.ndarray, u_site: np.ndarray) -> None:
        """The cells in ``rows`` that find a free neighbouring site (``claim_sites``) divide into it: a
        ``division`` event each, every molecule to either cell with probability ½ (from the mother's stream)."""
        model, pop = self.model, self.population
        dividing, tx, ty = self.claim_sites(rows, u_order, u_site, vacate=False)
        mothers, daughters = [], []
        for row, site in zip(dividing, model.site_cells[tx, ty]):
            daughter = pop.agent[row].divide(site)
            mothers.append(row)
            daughters.append(daughter.row)
            self.record("division", int(pop.cell_id[row]), daughter.unique_id, int(pop.nuclei[row]),
                        int(pop.generation[row]), np.nan)
        if mothers:
            split_molecules(pop.molecules, pop.rng_state, np.array(mothers), np.array(daughters),
                            self.effect.clamped)
            self.divisions_total += len(mothers)

    def claim_sites(self, rows: np.ndarray, u_order: np.ndarray, u_site: np.ndarray, vacate: bool):
        """Rows of the cells in ``rows`` that find a free neighbouring site, in the order of their per-cell draws
        ``u_order`` (contact inhibition and crowding in one rule), each choosing by ``u_site``, and the sites' x
        and y; ``vacate``: a move (the cell's own site frees) rather than a division."""
        model = self.model
        order = np.argsort(u_order, kind="stable")
        tx, ty = claim_free_neighbours(model.grid.empty.data.copy(), self.population.x[rows],
                                       self.population.y[rows], order, u_site, model.experiment.domain.periodic,
                                       vacate)
        found = tx >= 0
        return rows[order[found]], tx[found], ty[found]

    def record(self, event: str, cell_id: int, partner_id: int | None, nuclei: int, generation: int,
               age_h: float = np.nan) -> None:
        """An event of this lineage at the tick's end, as ``events.csv`` holds it (``boneabm/columns.py``)."""
        self.model.events.append((self.model.time_h, event, cell_id, partner_id, nuclei, generation, age_h,
                                  self.name))

    def recruit(self, fields, dt_h: float) -> None:
        """Cells from the marrow pool settle on the free sites its factor recruits them to (none without a
        pool); each is a new cell of generation 0 with the network's initial molecules."""
        if self.marrow is None:
            return
        model = self.model
        signal = 1.0 if self.recruitment_role is None else self.transmission(self.recruitment_role)
        x, y = self.marrow.recruit(fields, model.grid.empty.data, model.rng, dt_h, signal)
        for cell in self.plate(list(model.site_cells[x, y])):
            self.record("recruitment", cell.unique_id, None, 1, 0, np.nan)
        self.recruited_total += int(x.size)

    def transmission(self, role: str) -> float:
        """The share of the ``role`` species' production that the perturbations now in force leave, read from the
        network's structure: the largest rate scale among the reactions that make it, none from a reaction whose
        reactant or species modifier is knocked out. Marrow cells have no networks running, so this is how an
        inhibitor or knockout of their receptor's signaling reaches their recruitment. Read once per effect (the
        schedule keeps one object per combination of perturbations in force)."""
        key = (id(self.effect), role)
        if key not in self._transmission:
            self._transmission[key] = self._share_left(role)
        return self._transmission[key]

    def _share_left(self, role: str) -> float:
        a, effect = self.network.arrays, self.effect
        target = self.binding.species[role]
        gone = effect.clamped & (effect.clamp_values == 0)
        best = 0.0
        for j in range(self.network.n_reactions):
            changes = a.change_species[a.change_ptr[j]:a.change_ptr[j + 1]]
            deltas = a.change_delta[a.change_ptr[j]:a.change_ptr[j + 1]]
            if not np.any((changes == target) & (deltas > 0)):
                continue
            needs = np.concatenate([a.reactant_species[a.reactant_ptr[j]:a.reactant_ptr[j + 1]],
                                    a.modifier_index[a.modifier_ptr[j]:a.species_modifier_end[j]]])
            if needs.size and gone[needs].any():
                continue
            best = max(best, float(effect.rate_scale[j]))
        return best

    def apply_schedule(self, start_h: float) -> None:
        self.effect = self.perturbations.at(start_h)

    def signal(self, fields, start_h: float, dt_h: float) -> None:
        """Advance every awake cell's network from ``start_h`` by ``dt_h`` with the inputs at its site (split
        where a perturbation switches within the tick, as pulses do); what the cells took up (or released)
        leaves (or enters) the fields at their sites."""
        pop = self.population
        rows = self.awake(pop.rows)
        self.tick = None
        if rows.size == 0:
            return
        x, y = pop.x[rows], pop.y[rows]
        counted, consumed = self.advance_rows(rows, self.inputs(fields, x, y), start_h, dt_h)
        # what each cell's counted reactions fired this tick, and where: acts on the bone after the fates
        self.tick = (rows, pop.cell_id[rows], x, y, counted)
        for i, role in enumerate(self.binding.inputs):
            field = self.contract.inputs[role].field
            if field is not None:  # OPG and the antibody are held as their RANKL-binding sites
                fields.exchange_with_cells(field, x, y, consumed[:, i] * fields.binding_sites.get(field, 1))

    def awake(self, rows: np.ndarray) -> np.ndarray:
        """The rows whose networks run this tick: all, unless the lineage has quiescent cells."""
        return rows

    def yielding(self, rows: np.ndarray) -> np.ndarray:
        """Which cells of ``rows`` a migrating osteoclast crawls over (``motility.occupancy``): mononuclear cells on
        the remodeling surface, unless the lineage says otherwise."""
        return self.population.nuclei[rows] == 1

    def advance_rows(self, rows: np.ndarray, inputs: np.ndarray, start_h: float, dt_h: float
                     ) -> tuple[np.ndarray, np.ndarray]:
        """Advance the networks of ``rows`` from ``start_h`` by ``dt_h`` with ``inputs`` (one row per cell),
        split where a perturbation switches; the counted firings and the inputs consumed, per cell."""
        pop, network = self.population, self.network
        n = rows.size
        fired = np.zeros(network.n_reactions, dtype=np.int64)
        counted = np.zeros((n, len(network.counters)), dtype=np.int64)
        consumed = np.zeros((n, len(network.inputs)))
        nuclei = pop.nuclei[rows]
        volume = nuclei.astype(np.float64)  # the kernel's cell volume, once for every piece of the tick
        pieces = self.perturbations.segments(start_h, start_h + dt_h)
        for piece_start_h, piece_end_h in pieces:
            effect = self.perturbations.at(piece_start_h)
            effect.apply_clamps(pop.molecules, rows, nuclei)
            events = np.zeros(n, dtype=np.int64)
            piece_h = dt_h if len(pieces) == 1 else piece_end_h - piece_start_h  # a whole tick exactly, if whole
            self.advance(pop.molecules, pop.rng_state, rows, volume, inputs, piece_h, effect.rate_scale,
                         effect.clamped, network.arrays, events, fired, self.counted_reactions, counted, consumed)
            self.ssa_events_total += _total(events)
        self.cell_hours += n * dt_h
        self.ssa_events_by_reaction += fired
        _add_counted(rows, counted, pop.counters, self.counter_totals)
        return counted, consumed

    def inputs(self, fields, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """What each cell's network reads, one column per network input: a field's value at its site, a contact
        map's value there (what touches it), or a value from the config."""
        # filled in place, each map read by flat index: 2-D fancy indexing, stacking and a contiguous copy cost
        # ≈ 30 µs a tick on maps the kernel has just evicted
        values = np.empty((x.size, len(self.binding.inputs)))
        flat = None
        for i, role in enumerate(self.binding.inputs):
            supplied = self.contract.inputs[role]
            if supplied.field is None and supplied.contact is None:
                values[:, i] = self.config_inputs[role]
                continue
            site_map = (fields.sites[supplied.field] if supplied.field is not None
                        else self.model.contacts[supplied.contact])
            if flat is None:
                flat = np.ravel_multi_index((x, y), site_map.shape)
            values[:, i] = site_map.ravel()[flat]
        return values

    def fates(self, dt_h: float) -> None:
        raise NotImplementedError

    def act_on_bone(self, bone, dt_h: float) -> None:
        """What the lineage's cells do to the bone in one tick (nothing, unless the lineage says)."""

    # ----------------------------------------------------------------------------------------------- state
    _TOTALS = ("divisions_total", "deaths_total", "ssa_events_total", "cell_hours", "recruited_total")
    _TOTAL_ARRAYS = ("ssa_events_by_reaction", "counter_totals")

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays, meta = self.population.state()
        arrays = {f"population/{name}": values for name, values in arrays.items()}
        arrays.update({name: getattr(self, name).copy() for name in self._TOTAL_ARRAYS})
        return arrays, {"population": meta, **{name: getattr(self, name) for name in self._TOTALS},
                        "marrow_cells": None if self.marrow is None else self.marrow.cells}

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        """Take a ``state``; the agents of the living cells are rebuilt on their sites."""
        self.population.restore({name.removeprefix("population/"): values for name, values in arrays.items()
                                 if name.startswith("population/")}, meta["population"])
        for name in self._TOTAL_ARRAYS:
            getattr(self, name)[:] = arrays[name]
        for name in self._TOTALS:
            setattr(self, name, meta.get(name, 0))  # a state from before recruitment has recruited none
        if self.marrow is not None and meta.get("marrow_cells") is not None:
            self.marrow.cells = float(meta["marrow_cells"])
        pop = self.population
        for row in pop.rows:
            self.agent_class.attach(self, int(row), self.model.site_cells[pop.x[row], pop.y[row]])


# The tallies after each kernel call, compiled: numpy's reductions and fancy-indexed additions on what the kernel
# has just written took ≈ 35 µs a tick in a run (cold code and data), these ≈ 15 (one numba thread, process CPU).
@nb.njit(cache=True)
def _total(events):
    """The events of a kernel call, summed over its cells (an int)."""
    return events.sum()


@nb.njit(cache=True)
def _add_counted(rows, counted, counters, totals):
    """Each cell's counted firings (``counted``, a row per cell of ``rows``) into its population row of
    ``counters`` and into ``totals``."""
    for k in range(rows.shape[0]):
        for j in range(counted.shape[1]):
            counters[rows[k], j] += counted[k, j]
            totals[j] += counted[k, j]
