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

from boneabm.cells import osteoclast as oc
from boneabm.cells.placement import claim_free_neighbours
from boneabm.cells.population import Population
from boneabm.cells.precursor import (
    LineageCell,
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
from boneabm.units import MCSF_HOMODIMER_DA, RANKL_MONOMER_DA, nM_to_ng_ml

# Network inputs read from (and given back to) the fields; other inputs come from the config.
_FIELD_OF_INPUT = {"mcsf_nM": "mcsf", "rankl_nM": "rankl"}
# Uniforms each living cell draws from its own stream per tick, by column.
_U_DEATH, _U_DIVIDE, _U_HOP, _U_SITE, _U_ORDER, _U_MODE, _U_MODE_CHOICE, _U_FUSE, _U_PARTNER = range(9)


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
        self.species = {name: self.network.species_index(name) for name in oc.STAGE_SPECIES}
        self.divisions_total = 0
        self.deaths_total = 0
        self.fusions_total = 0
        # osteoclast id -> formed_h, died_h, fate; the rest is read from the arrays and the bone at the end
        self.osteoclast_records: dict[int, dict] = {}
        self.ssa_events_total = 0
        self.cell_hours = 0.0
        self.ssa_events_by_reaction = np.zeros(self.network.n_reactions, dtype=np.int64)
        self.counter_totals = np.zeros(len(self.network.counters), dtype=np.int64)
        # (time_h, event, cell_id, partner_id, value); the recorder takes them after each tick
        self.events: list[tuple[float, str, int, int, float]] = []
        self._plate(experiment.n_plated)

    def _plate(self, n_cells: int) -> None:
        width, height = self.experiment.domain.shape
        cells = [LineageCell(self, self.grid[(int(site) // height, int(site) % height)], born_h=0.0, generation=0)
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
        self._resorb()

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
        pop, p, q = self.population, self.experiment.precursors, self.experiment.osteoclasts
        rows = pop.rows
        if rows.size == 0:
            return
        u = draw_uniforms(pop.rng_state, rows, 9)
        x, y = pop.x[rows], pop.y[rows]
        mcsf_ng_ml = nM_to_ng_ml(self.fields.sites["mcsf"][x, y], MCSF_HOMODIMER_DA)
        rankl_ng_ml = nM_to_ng_ml(self.fields.sites["rankl"][x, y], RANKL_MONOMER_DA)
        nuclei = pop.nuclei[rows]
        multinucleated = nuclei > 1
        per_nucleus = {name: pop.molecules[rows, i] / nuclei for name, i in self.species.items()}
        # TRAP⁺ cells commit for good and stop dividing
        pop.committed[rows] |= per_nucleus["TRAP"] >= q.trap_positive_molecules
        committed = pop.committed[rows]

        committed_death = oc.death_rate_per_h(rankl_ng_ml, mcsf_ng_ml, q) * np.where(
            multinucleated, q.multinucleated_death_factor, 1.0)
        death_rate = np.where(committed, committed_death, death_rate_per_h(mcsf_ng_ml, p))
        dies = u[:, _U_DEATH] < probability(death_rate, self.dt_h)
        division_rate = division_rate_per_h(mcsf_ng_ml, per_nucleus["cFos"], p)
        divides = ~dies & ~committed & (u[:, _U_DIVIDE] < probability(division_rate, self.dt_h))
        hop_rate = np.where(multinucleated, self._switch_modes(rows, u), self.hop_rate_per_h)
        hops = ~dies & ~divides & (u[:, _U_HOP] < probability(hop_rate, self.dt_h))
        drive = np.where(committed & ~dies, oc.fusion_factor(per_nucleus["DC_STAMP"], per_nucleus["OC_STAMP"], q),
                         0.0)

        for row in rows[dies]:
            self.events.append((self.time_h, "death", int(pop.cell_id[row]), 0,
                                self.time_h - float(pop.born_h[row])))
            self._close_osteoclast_record(row, "apoptosis")
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

        self._fuse(rows[drive > 0], drive[drive > 0], u[drive > 0])

        alive = pop.alive[rows]
        for row, site in self._claim_sites(rows[hops & alive], u[hops & alive], vacate=True):
            pop.agent[row].move_to_site(site)

    def _switch_modes(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Advance multinucleated cells' modes (migrating ⇄ resorbing a pit or a trench) and return the hop
        rate each mode gives: fast while migrating, slow along a trench, none in a pit."""
        pop, q, dt = self.population, self.experiment.osteoclasts, self.dt_h
        mode = pop.mode[rows]
        leave = np.select([mode == oc.NEW, mode == oc.MIGRATING, mode == oc.PIT, mode == oc.TRENCH],
                          [np.inf, q.migrating_to_resorbing_per_h, q.pit_to_migrating_per_h,
                           q.trench_to_migrating_per_h])
        switch = u[:, _U_MODE] < probability(leave, dt)
        settle = np.where(u[:, _U_MODE_CHOICE] < q.trench_fraction, oc.TRENCH, oc.PIT)
        mode = np.where(switch, np.where(mode == oc.MIGRATING, settle, oc.MIGRATING), mode)
        multinucleated = pop.nuclei[rows] > 1
        pop.mode[rows[multinucleated]] = mode[multinucleated]
        spacing = self.experiment.domain.grid_spacing_um
        return np.select([mode == oc.MIGRATING, mode == oc.TRENCH],
                         [q.migration_speed_um_per_h / spacing, q.trench_speed_um_per_h / spacing], 0.0)

    def _fuse(self, rows: np.ndarray, drive: np.ndarray, u: np.ndarray) -> None:
        """Fusion-competent neighbours fuse; the partner with more nuclei (the lower id on a tie) survives,
        keeping its id and random stream."""
        if rows.size < 2:
            return
        pop, q = self.population, self.experiment.osteoclasts
        order = np.argsort(u[:, _U_ORDER], kind="stable")
        rank = np.full(pop.alive.shape[0], -1, dtype=np.int64)
        rank[rows[order]] = np.arange(rows.size)
        drive_of_row = np.zeros(pop.alive.shape[0])
        drive_of_row[rows] = drive
        site_row = np.full(self.experiment.domain.shape, -1, dtype=np.int64)
        living = pop.rows
        site_row[pop.x[living], pop.y[living]] = living
        first, second = oc.choose_fusions(site_row, pop.x, pop.y, rows[order], rank, drive_of_row,
                                          u[order, _U_FUSE], u[order, _U_PARTNER],
                                          q.fusion_rate_per_h * self.dt_h, self.experiment.domain.periodic)
        for a, b in zip(first, second):
            key = lambda r: (-pop.nuclei[r], pop.cell_id[r])  # noqa: E731
            survivor, absorbed = (a, b) if key(a) <= key(b) else (b, a)
            self._close_osteoclast_record(absorbed, "fused")
            self.events.append((self.time_h, "fusion", int(pop.cell_id[survivor]), int(pop.cell_id[absorbed]),
                                float(pop.nuclei[survivor] + pop.nuclei[absorbed])))
            pop.agent[survivor].absorb(pop.agent[absorbed])
            if pop.nuclei[survivor] >= q.min_nuclei and np.isnan(pop.formed_h[survivor]):
                pop.formed_h[survivor] = self.time_h
                self.osteoclast_records[int(pop.cell_id[survivor])] = {
                    "formed_h": self.time_h, "died_h": np.nan, "fate": "alive"}
        self.fusions_total += len(first)

    def _close_osteoclast_record(self, row: int, fate: str) -> None:
        record = self.osteoclast_records.get(int(self.population.cell_id[row]))
        if record is not None:
            record.update(died_h=self.time_h, fate=fate, max_nuclei=int(self.population.max_nuclei[row]),
                          distance_um=float(self.population.distance_um[row]))

    # 5 ---------------------------------------------------------------------------------------------------
    def _resorb(self) -> None:
        """Osteoclasts in a pit or on a trench remove bone under their footprint."""
        pop, q = self.population, self.experiment.osteoclasts
        rows = pop.rows
        rows = rows[(pop.nuclei[rows] >= q.min_nuclei) & np.isin(pop.mode[rows], (oc.PIT, oc.TRENCH))]
        if rows.size == 0:
            return
        molecules = pop.molecules[rows]
        nuclei = pop.nuclei[rows].astype(np.float64)
        mineral, collagen = oc.resorption_um3_per_h(
            nuclei, *(molecules[:, self.species[name]] for name in ("TRAP", "CtsK", "Atp6v0d2", "Itgb3")), q)
        speed = np.where(pop.mode[rows] == oc.TRENCH, q.trench_rate_factor, 1.0) * self.dt_h
        radius = oc.footprint_radius_um(nuclei, q)
        spacing = self.experiment.domain.grid_spacing_um
        for k, row in enumerate(rows):
            self.bone.resorb(int(pop.cell_id[row]), (pop.x[row] + 0.5) * spacing, (pop.y[row] + 0.5) * spacing,
                             radius[k], mineral[k] * speed[k], collagen[k] * speed[k])

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
