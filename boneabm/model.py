"""BoneModel: the order of things in one tick, and nothing else.

Each tick covers (t, t + dt] and runs:
  1 schedule   medium changes and drug doses due at t; perturbations (knockouts, inhibitors, clamps) in force
  2 signaling  one SSA kernel call advances every cell's network by dt with the M-CSF and free RANKL at its
               site; what the cells took up leaves their sites
  3 fields     M-CSF, RANKL, OPG (and antibody): binding, diffusion, decay, exchange with the medium
  4 fates      death, division into a free neighbouring site (molecules shared binomially), a random-walk hop
  5 bone       osteoclasts resorb (from the osteoclastogenesis issue on; the slice is in place and measured)
Events are stamped with the tick's end time. The recorder reads the model after the tick.
"""

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from boneabm.cells.placement import claim_free_neighbours
from boneabm.cells.population import Population
from boneabm.cells.precursor import (
    Precursor,
    death_rate_per_h,
    division_rate_per_h,
    hop_rate_per_h,
    probability,
)
from boneabm.config import Experiment
from boneabm.environment.bone import Bone
from boneabm.environment.fields import Fields
from boneabm.rng import draw_uniforms
from boneabm.signaling.network import Network, load_network
from boneabm.signaling.perturbations import PerturbationSchedule
from boneabm.signaling.ssa import advance, split_molecules
from boneabm.units import MCSF_HOMODIMER_DA, nM_to_ng_ml

# Network inputs read from (and given back to) the fields; other inputs come from the config.
_FIELD_OF_INPUT = {"mcsf_nM": "mcsf", "rankl_nM": "rankl"}
# Uniforms each living cell draws from its own stream per tick, by column.
_U_DEATH, _U_DIVIDE, _U_HOP, _U_SITE, _U_ORDER = range(5)


class BoneModel(mesa.Model):
    def __init__(self, experiment: Experiment, network: Network | None = None):
        if experiment.seed is None:
            raise ValueError("BoneModel needs an experiment with its seed fixed (config.with_seed)")
        super().__init__(rng=experiment.seed)
        self.experiment = experiment
        self.dt_h = experiment.time.dt_h
        self.time_h = 0.0
        self.grid = OrthogonalMooreGrid(
            experiment.domain.shape, torus=experiment.domain.periodic, capacity=1, random=self.random)
        self.network = network or load_network(experiment.signaling.network)
        self.perturbations = PerturbationSchedule(self.network, experiment.signaling.perturbations())
        self.effect = self.perturbations.at(0.0)
        self.population = Population(experiment.seed, capacity=2 * experiment.n_plated,
                                     n_species=self.network.n_species, n_counters=len(self.network.counters))
        self.fields = Fields(experiment)
        self.bone = Bone(experiment.bone, experiment.domain)
        self.hop_rate_per_h = hop_rate_per_h(experiment.precursors, experiment.domain.grid_spacing_um)
        self.divisions_total = 0
        self.deaths_total = 0
        self.ssa_events_total = 0
        self.cell_hours = 0.0
        self.ssa_events_by_reaction = np.zeros(self.network.n_reactions, dtype=np.int64)
        self.counter_totals = np.zeros(len(self.network.counters), dtype=np.int64)
        # (time_h, event, cell_id, partner_id, value); the recorder takes them after each tick
        self.events: list[tuple[float, str, int, int, float]] = []
        self._plate(experiment.n_plated)

    def _plate(self, n_cells: int) -> None:
        width, height = self.experiment.domain.shape
        cells = [Precursor(self, self.grid[(int(site) // height, int(site) % height)], born_h=0.0, generation=0)
                 for site in self.rng.choice(width * height, size=n_cells, replace=False)]
        rows = np.array([cell.row for cell in cells], dtype=np.int64)
        self.population.molecules[rows] = self.network.draw_initial(n_cells, self.rng)

    def step(self) -> None:
        start_h = (self.steps - 1) * self.dt_h  # Mesa counts this tick already
        self.time_h = self.steps * self.dt_h
        self._apply_schedule(start_h)
        self._signal()
        self.fields.step()
        self._cell_fates()

    # 1 ---------------------------------------------------------------------------------------------------
    def _apply_schedule(self, start_h: float) -> None:
        tick = round(start_h / self.dt_h)
        every_h = self.experiment.medium.change_every_h
        if every_h is not None and tick > 0 and tick % round(every_h / self.dt_h) == 0:
            self.fields.change_medium()
        for dose in self.experiment.doses:
            first, every = round(dose.at_h / self.dt_h), dose.every_h and round(dose.every_h / self.dt_h)
            if tick == first or (every and tick > first and (tick - first) % every == 0):
                self.fields.dose(dose.drug, dose.ng_ml)
        self.effect = self.perturbations.at(start_h)

    # 2 (3 is Fields.step) ----------------------------------------------------------------------------------
    def _signal(self) -> None:
        pop, network = self.population, self.network
        rows = pop.rows
        n = rows.size
        if n == 0:
            return
        self.effect.apply_clamps(pop.molecules, rows)
        events = np.zeros(n, dtype=np.int64)
        fired = np.zeros((n, network.n_reactions), dtype=np.int64)
        consumed = np.zeros((n, len(network.inputs)))
        x, y = pop.x[rows], pop.y[rows]
        advance(pop.molecules, pop.rng_state, rows, pop.nuclei[rows].astype(np.float64), self._inputs(x, y),
                self.dt_h, self.effect.rate_scale, self.effect.clamped, network.arrays, events, fired, consumed)
        self.ssa_events_total += int(events.sum())
        self.cell_hours += n * self.dt_h
        self.ssa_events_by_reaction += fired.sum(axis=0)
        counted = fired[:, list(network.counters.values())]
        pop.counters[rows] += counted
        self.counter_totals += counted.sum(axis=0)
        for i, name in enumerate(network.inputs):
            if name in _FIELD_OF_INPUT:
                self.fields.exchange_with_cells(_FIELD_OF_INPUT[name], x, y, consumed[:, i])

    def _inputs(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """What each cell's network reads: M-CSF and free RANKL at its site, and the ITAM ligand level."""
        columns = [self.fields.sites[_FIELD_OF_INPUT[name]][x, y] if name in _FIELD_OF_INPUT
                   else np.full(x.size, self.experiment.signaling.itam_ligand) for name in self.network.inputs]
        return np.ascontiguousarray(np.column_stack(columns), dtype=np.float64)

    # 4 ---------------------------------------------------------------------------------------------------
    def _cell_fates(self) -> None:
        pop, p = self.population, self.experiment.precursors
        rows = pop.rows
        if rows.size == 0:
            return
        u = draw_uniforms(pop.rng_state, rows, 5)
        mcsf_ng_ml = nM_to_ng_ml(self.fields.sites["mcsf"][pop.x[rows], pop.y[rows]], MCSF_HOMODIMER_DA)
        dies = u[:, _U_DEATH] < probability(death_rate_per_h(mcsf_ng_ml, p), self.dt_h)
        divides = ~dies & (u[:, _U_DIVIDE] < probability(division_rate_per_h(mcsf_ng_ml, p), self.dt_h))
        hops = ~dies & ~divides & (u[:, _U_HOP] < probability(self.hop_rate_per_h, self.dt_h))

        for row in rows[dies]:
            self.events.append((self.time_h, "death", int(pop.cell_id[row]), 0,
                                self.time_h - float(pop.born_h[row])))
            pop.agent[row].die()
        self.deaths_total += int(dies.sum())

        mothers, daughters = [], []
        for row, site in self._claim_sites(rows[divides], u[divides], vacate=False):
            mother = pop.agent[row]
            daughter = mother.divide(site)
            mothers.append(row)
            daughters.append(daughter.row)
            self.events.append((self.time_h, "division", mother.unique_id, daughter.unique_id,
                                float(pop.generation[row])))
        if mothers:
            split_molecules(pop.molecules, pop.rng_state, np.array(mothers), np.array(daughters),
                            self.effect.clamped)
            self.divisions_total += len(mothers)

        for row, site in self._claim_sites(rows[hops], u[hops], vacate=True):
            pop.agent[row].move_to_site(site)

    def _claim_sites(self, rows: np.ndarray, u: np.ndarray, vacate: bool):
        """(row, grid cell) for each cell in ``rows`` that finds a free neighbouring site, in the order of
        their per-cell draws: contact inhibition and crowding in one rule."""
        if rows.size == 0:
            return []
        order = np.argsort(u[:, _U_ORDER], kind="stable")
        tx, ty = claim_free_neighbours(
            self.grid.empty.data.copy(), self.population.x[rows], self.population.y[rows], order,
            u[:, _U_SITE], self.experiment.domain.periodic, vacate)
        return [(rows[order[k]], self.grid[(int(tx[k]), int(ty[k]))]) for k in np.flatnonzero(tx >= 0)]
