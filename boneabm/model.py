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

from boneabm.cells import fates
from boneabm.cells import osteoclast as oc
from boneabm.cells.placement import claim_free_neighbours
from boneabm.cells.population import Population
from boneabm.cells.precursor import LineageCell, hop_rate_per_h, move
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
        # the grid's cells by site, so a batch of moves looks its targets up with one fancy index
        self.site_cells = np.empty(experiment.domain.shape, dtype=object)
        for cell in self.grid:
            self.site_cells[cell.coordinate] = cell
        self.network = network or load_network(experiment.signaling.network)
        self.perturbations = PerturbationSchedule(self.network, experiment.signaling.perturbations())
        self.effect = self.perturbations.at(0.0)
        self.population = Population(experiment.seed, capacity=2 * experiment.n_plated,
                                     n_species=self.network.n_species, n_counters=len(self.network.counters))
        self.fields = Fields(experiment)
        self.bone = Bone(experiment.bone, experiment.domain)
        self.hop_rate_per_h = hop_rate_per_h(experiment.precursors, experiment.domain.grid_spacing_um)
        self.precursor_parameters = fates.precursor_parameters(experiment.precursors)
        self.osteoclast_parameters = fates.osteoclast_parameters(experiment.osteoclasts)
        self.species = {name: self.network.species_index(name) for name in oc.STAGE_SPECIES}
        self.stage_columns = np.array([self.species[name] for name in ("TRAP", "cFos", "DC_STAMP", "OC_STAMP")])
        self.divisions_total = 0
        self.deaths_total = 0
        self.fusions_total = 0
        # osteoclast id -> formed_h, died_h, fate; the rest is read from the arrays and the bone at the end
        self.osteoclast_records: dict[int, dict] = {}
        self.ssa_events_total = 0
        self.cell_hours = 0.0
        self.ssa_events_by_reaction = np.zeros(self.network.n_reactions, dtype=np.int64)
        self.counter_totals = np.zeros(len(self.network.counters), dtype=np.int64)
        # (time_h, event, cell_id, partner_id or None, nuclei, generation, age_h or NaN): the columns of
        # events.csv (boneabm/columns.py); the recorder takes them after each tick
        self.events: list[tuple[float, str, int, int | None, int, int, float]] = []
        self._plate(experiment.n_plated)

    def _plate(self, n_cells: int) -> None:
        width, height = self.experiment.domain.shape
        cells = [LineageCell(self, cell, born_h=0.0, generation=0)
                 for cell in self.site_cells.ravel()[self.rng.choice(width * height, size=n_cells, replace=False)]]
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
        pop = self.population
        rows = pop.rows
        if rows.size == 0:
            return
        u = draw_uniforms(pop.rng_state, rows, fates.N_UNIFORMS)
        x, y = pop.x[rows], pop.y[rows]
        dies, divides, hops, drive = fates.decide(
            u, rows, nM_to_ng_ml(self.fields.sites["mcsf"][x, y], MCSF_HOMODIMER_DA),
            nM_to_ng_ml(self.fields.sites["rankl"][x, y], RANKL_MONOMER_DA), pop.nuclei, pop.molecules,
            self.stage_columns, pop.committed, pop.mode, self.dt_h, self.hop_rate_per_h,
            self.experiment.domain.grid_spacing_um, self.precursor_parameters, self.osteoclast_parameters)

        for row in rows[dies]:
            self.events.append((self.time_h, "death", int(pop.cell_id[row]), None, int(pop.nuclei[row]),
                                int(pop.generation[row]), self.time_h - float(pop.born_h[row])))
            self._close_osteoclast_record(row, "apoptosis")
            pop.agent[row].die()
        self.deaths_total += int(dies.sum())

        mothers, daughters = [], []
        dividing, tx, ty = self._claim_sites(rows[divides], u[divides], vacate=False)
        for row, site in zip(dividing, self.site_cells[tx, ty]):
            mother = pop.agent[row]
            daughter = mother.divide(site)
            mothers.append(row)
            daughters.append(daughter.row)
            self.events.append((self.time_h, "division", mother.unique_id, daughter.unique_id,
                                int(pop.nuclei[row]), int(pop.generation[row]), np.nan))
        if mothers:
            split_molecules(pop.molecules, pop.rng_state, np.array(mothers), np.array(daughters),
                            self.effect.clamped)
            self.divisions_total += len(mothers)

        fusing = drive > 0
        self._fuse(rows[fusing], drive[fusing], u[fusing])

        alive = pop.alive[rows]
        move(self, *self._claim_sites(rows[hops & alive], u[hops & alive], vacate=True))

    def _fuse(self, rows: np.ndarray, drive: np.ndarray, u: np.ndarray) -> None:
        """Fusion-competent neighbours fuse; the partner with more nuclei (the lower id on a tie) survives,
        keeping its id and random stream."""
        if rows.size < 2:
            return
        pop, q = self.population, self.experiment.osteoclasts
        order = np.argsort(u[:, fates.U_ORDER], kind="stable")
        rank = np.full(pop.alive.shape[0], -1, dtype=np.int64)
        rank[rows[order]] = np.arange(rows.size)
        drive_of_row = np.zeros(pop.alive.shape[0])
        drive_of_row[rows] = drive
        site_row = np.full(self.experiment.domain.shape, -1, dtype=np.int64)  # only competent cells are partners
        site_row[pop.x[rows], pop.y[rows]] = rows
        first, second = oc.choose_fusions(site_row, pop.x, pop.y, rows[order], rank, drive_of_row,
                                          u[order, fates.U_FUSE], u[order, fates.U_PARTNER],
                                          q.fusion_rate_per_h * self.dt_h, self.experiment.domain.periodic)
        for a, b in zip(first, second):
            key = lambda r: (-pop.nuclei[r], pop.cell_id[r])  # noqa: E731
            survivor, absorbed = (a, b) if key(a) <= key(b) else (b, a)
            self._close_osteoclast_record(absorbed, "fused")
            self.events.append((self.time_h, "fusion", int(pop.cell_id[survivor]), int(pop.cell_id[absorbed]),
                                int(pop.nuclei[survivor] + pop.nuclei[absorbed]), int(pop.generation[survivor]),
                                np.nan))
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
        mode = pop.mode[rows]
        rows = rows[((mode == fates.PIT) | (mode == fates.TRENCH)) & (pop.nuclei[rows] >= q.min_nuclei)]
        if rows.size == 0:
            return
        molecules = pop.molecules[rows]
        nuclei = pop.nuclei[rows].astype(np.float64)
        mineral, collagen = oc.resorption_um3_per_h(
            nuclei, *(molecules[:, self.species[name]] for name in ("TRAP", "CtsK", "Atp6v0d2", "Itgb3")), q)
        speed = np.where(pop.mode[rows] == fates.TRENCH, q.trench_rate_factor, 1.0) * self.dt_h
        radius = oc.footprint_radius_um(nuclei, q)
        spacing = self.experiment.domain.grid_spacing_um
        self.bone.resorb_many(pop.cell_id[rows], (pop.x[rows] + 0.5) * spacing, (pop.y[rows] + 0.5) * spacing,
                              radius, mineral * speed, collagen * speed)

    def _claim_sites(self, rows: np.ndarray, u: np.ndarray, vacate: bool):
        """Rows of the cells in ``rows`` that find a free neighbouring site, in the order of their per-cell
        draws (contact inhibition and crowding in one rule), and the sites' x and y."""
        order = np.argsort(u[:, fates.U_ORDER], kind="stable")
        tx, ty = claim_free_neighbours(
            self.grid.empty.data.copy(), self.population.x[rows], self.population.y[rows], order,
            u[:, fates.U_SITE], self.experiment.domain.periodic, vacate)
        found = tx >= 0
        return rows[order[found]], tx[found], ty[found]
