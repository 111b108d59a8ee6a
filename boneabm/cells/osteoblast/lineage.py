"""The osteoblast lineage in the model: plating, one tick of fates (death, division, hops, commitment) and of
matrix laid down, and what the lineage reports."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from boneabm.cells.lineage import Lineage
from boneabm.cells.motility import hop_rate_per_h, move
from boneabm.cells.osteoblast import fates
from boneabm.cells.osteoblast.contract import CONTRACT
from boneabm.cells.osteoblast.stages import stages
from boneabm.cells.recruitment import marrow_pool, settling_probability
from boneabm.rng import draw_uniforms


# the lineage's columns of a timeseries row, as ``counts`` gives them (zeros for an experiment without it)
COUNTS = ("osteoprogenitors_recruited_total", "n_osteoprogenitors", "n_osteoblasts", "n_lining_cells",
          "lining_lifted_total", "n_canopy_cells", "lining_settled_total", "canopy_descended_total",
          "osteocytes_embedded_total",
          "osteoblasts_flattened_total", "osteoblast_apoptoses_total", "osteoblast_divisions_total",
          "osteoblast_deaths_total", "matrix_formed_um3", "remnants_cleared_um3")


class OsteoblastLineage(Lineage):
    name = "osteoblast"
    contract = CONTRACT
    recruitment_role = "proliferation_signal"  # TGF-β recruits progenitors through SMAD2/3 (Tang et al. 2009)
    columns = {
        "committed": (np.bool_, (), False),  # Osterix-committed for good: no longer divides or wanders
        "matrix_um3": (np.float64, (), 0.0),  # matrix the cell has laid down
        "lining": (np.bool_, (), False),  # a flat lining cell covering quiescent surface
        "quiescent_since_h": (np.float64, (), np.nan),  # when its network stopped running (NaN: awake)
    }

    def __init__(self, model, network):
        experiment = model.experiment
        config = experiment.osteoblasts
        # the inputs no field or contact map supplies: the blood's, from the config
        inputs = {role: getattr(config.signaling, role) for role, supplied in CONTRACT.inputs.items()
                  if supplied.field is None and supplied.contact is None}
        # the inputs a quiescent cell's network holds until it wakes, one per network input
        self.columns = {**self.columns, "held_inputs": (np.float64, (len(network.inputs),), 0.0)}
        n_lining = self.n_lining(experiment)
        super().__init__(model, network, config.signaling.perturbations(), inputs,
                         capacity=max(16, 2 * self.n_initial(experiment) + n_lining))
        self.lifted_total = 0
        self.settled_total = 0
        # lining cells lifted into the canopy, per site: they make M-CSF there and settle back when it goes
        self.canopy_cells = np.zeros(experiment.domain.shape)
        self.canopy_mcsf_per_cell_h = config.canopy_mcsf_per_cell_h
        self.embedded_total = 0
        # how the matrix-making osteoblasts ended, by fate (embedding is embedded_total): Manolagas 2000's split
        self.apoptoses_total = 0
        self.flattened_total = 0
        self.burial_height_um = config.burial_height_um
        self.hop_rate_per_h = hop_rate_per_h(config.motility_um2_per_h, experiment.domain.grid_spacing_um)
        self.parameters = fates.osteoblast_parameters(config)
        self.stage_columns = self.binding.columns("proliferation_signal", "commitment_marker", "survival_signal")
        self.collagen_counter = self.binding.counters["collagen_secretion"]
        self.osteoid_um3_per_secretion = config.osteoid_um3_per_collagen_secretion
        self.remnant_clearance_um3_per_cell_h = config.remnant_clearance_um3_per_cell_h
        self.cement_um3_per_cell_h = config.cement_um3_per_cell_h
        self.cement_line_um = config.cement_line_um
        self.canopy_descent_per_h = config.canopy_descent_per_h
        self.recruitment_tgfb_half_nM = config.recruitment_tgfb_half_nM
        self.descended_total = 0
        self.matrix_um3_total = 0.0
        self.remnants_cleared_um3_total = 0.0
        # the matrix the last signaling step laid: which of its rows (committed cells that secreted collagen) and
        # how much each, µm³; the bone takes it after the fates, which embed cells in proportion to it
        self.making: np.ndarray | None = None
        self.making_um3: np.ndarray | None = None
        self.marrow = marrow_pool("tgfb", config.recruitment_tgfb_half_nM, config.marrow_progenitors_per_mm2,
                                  config.recruitment_per_mm2_per_h, config.marrow_renewal_per_h, experiment)

    @classmethod
    def present(cls, experiment) -> bool:
        return experiment.osteoblasts.enabled

    @classmethod
    def network_file(cls, experiment) -> str:
        return experiment.osteoblasts.signaling.network

    @staticmethod
    def n_initial(experiment) -> int:
        return round(experiment.osteoblasts.initial_progenitors_per_mm2 * experiment.domain.area_cm2 * 100)

    @staticmethod
    def n_lining(experiment) -> int:
        return round(experiment.osteoblasts.lining_cells_per_mm2 * experiment.domain.area_cm2 * 100)

    def plate_initial(self) -> None:
        """Mesenchymal progenitors at the initial density, uniformly at random on free sites; then lining cells
        on the quiescent surface, quiescent from the start."""
        self.plate(self.free_sites(self.n_initial(self.model.experiment)))
        self.plate_lining(self.free_sites(self.n_lining(self.model.experiment)))

    def plate_lining(self, sites: list) -> list:
        """Lining cells on ``sites``, committed and quiescent from the start."""
        cells = self.plate(sites)
        rows = np.array([cell.row for cell in cells], dtype=np.int64)
        self.population.committed[rows] = True
        self.population.lining[rows] = True
        self.quiesce(rows)
        return cells

    # ----------------------------------------------------------------------------------------------- quiescence
    def yielding(self, rows: np.ndarray) -> np.ndarray:
        """Every cell but lining cells, which cover the quiescent surface and keep osteoclasts off it (Everts et
        al. 2002)."""
        return ~self.population.lining[rows]

    def awake(self, rows: np.ndarray) -> np.ndarray:
        return rows[np.isnan(self.population.quiescent_since_h[rows])]

    def quiesce(self, rows: np.ndarray) -> None:
        """Stop the networks of ``rows`` now, holding the inputs at their sites: a quiescent cell fires no
        events and neither takes from nor gives to the fields until it wakes."""
        pop = self.population
        pop.held_inputs[rows] = self.inputs(self.model.fields, pop.x[rows], pop.y[rows])
        pop.quiescent_since_h[rows] = self.model.time_h

    def wake(self, rows: np.ndarray) -> None:
        """Bring the networks of quiescent ``rows`` to now: each catches up, in one stretch, over the time it
        slept with the inputs it held — the state it would have reached running all along with them (what it
        would have exchanged with the fields meanwhile is dropped)."""
        pop, now = self.population, self.model.time_h
        since = pop.quiescent_since_h[rows]
        for start_h in np.unique(since):
            group = rows[since == start_h]
            if now > start_h:
                self.advance_rows(group, np.ascontiguousarray(pop.held_inputs[group]), float(start_h),
                                  now - float(start_h))
        pop.quiescent_since_h[rows] = np.nan

    def lining_map(self) -> np.ndarray:
        """The sites a lining cell holds now."""
        pop = self.population
        return pop.site_map(pop.rows[pop.lining[pop.rows]], self.model.experiment.domain.shape)

    # ----------------------------------------------------------------------------------------------- fates
    def fates(self, dt_h: float) -> None:
        model, pop = self.model, self.population
        rows = pop.rows
        if rows.size == 0:
            return
        lifting = rows[pop.lining[rows] & model.fields.canopy[pop.x[rows], pop.y[rows]]]
        np.add.at(self.canopy_cells, (pop.x[lifting], pop.y[lifting]), 1.0)
        for row in lifting:  # lining cells under the canopy lift off the surface to form it
            self.record("lifting", int(pop.cell_id[row]), None, 1,
                        int(pop.generation[row]), np.nan)
            pop.agent[row].die()
        self.lifted_total += int(lifting.size)
        self._settle()
        rows = self.awake(pop.rows)
        if rows.size == 0:
            return
        u = draw_uniforms(pop.rng_state, rows, fates.N_UNIFORMS)
        dies, divides, hops, flattens, embeds = fates.decide(
            u, rows, pop.nuclei, pop.molecules, self.stage_columns, pop.committed, self._laid_um3(), dt_h,
            self.hop_rate_per_h, self.parameters)
        self.die(rows[dies])
        self.divide(rows[divides], u[divides, fates.U_ORDER], u[divides, fates.U_SITE])

        moving, mx, my = self.claim_sites(rows[hops], u[hops, fates.U_ORDER], u[hops, fates.U_SITE],
                                          vacate=True)
        move(pop, model, moving, mx, my)

        flattening = rows[flattens & ~dies]
        for row in flattening:
            self.record("flattening", int(pop.cell_id[row]), None, 1, int(pop.generation[row]),
                        model.time_h - float(pop.born_h[row]))
        pop.lining[flattening] = True
        self.flattened_total += int(flattening.size)
        self.quiesce(flattening)
        self._embed(rows[embeds & ~dies])
        self._bury(rows[~flattens & ~embeds & ~dies & pop.committed[rows]])

    def _laid_um3(self) -> np.ndarray:
        """The matrix each row's cell laid on the bone in this tick's signaling step (0 for the rest)."""
        laid = np.zeros(self.population.molecules.shape[0])
        if self.tick is not None:
            pop = self.population
            rows, ids = self.tick[0][self.making], self.tick[1][self.making]
            same = pop.alive[rows] & (pop.cell_id[rows] == ids)
            laid[rows[same]] = self.making_um3[same]
        return laid

    def closing(self, row: int, fate: str) -> None:
        """A matrix-making osteoblast that dies counts among the fates."""
        if self.population.committed[row]:
            self.apoptoses_total += 1

    def fate_shares(self) -> dict[str, float]:
        """How the matrix-making osteoblasts that have ended so far ended (``fates.fate_shares``)."""
        return fates.fate_shares(self.apoptoses_total, self.embedded_total, self.flattened_total)

    def recruit(self, fields, dt_h: float) -> None:
        """Progenitors from the marrow (``Lineage.recruit``); then canopy cells send reversal cells down onto the
        free eroded sites beneath them that no osteoid has reached yet, drawn by the active TGF-β1 there as the
        marrow's progenitors are: each such site gets one with probability 1 − exp(−rate·dt), rate =
        ``canopy_descent_per_h`` × c/(K + c) × the share of TβRI signaling the perturbations leave. The newcomer
        is an uncommitted cell with the network's initial molecules; the canopy keeps its cells (they
        proliferate, Kristensen et al. 2014)."""
        super().recruit(fields, dt_h)
        model = self.model
        signal = self.transmission(self.recruitment_role)
        if not self.canopy_descent_per_h or not signal or not self.canopy_cells.any():
            return
        x, y = np.nonzero((self.canopy_cells >= 1) & model.bone.cavity_sites() & model.grid.empty.data)
        comes = model.rng.random(x.size) < settling_probability(
            self.canopy_descent_per_h * signal, fields.sites["tgfb"][x, y], self.recruitment_tgfb_half_nM, dt_h)
        for cell in self.plate(list(model.site_cells[x[comes], y[comes]])):
            self.record("descent", cell.unique_id, None, 1, 0, np.nan)
        self.descended_total += int(comes.sum())

    def fields_read(self) -> set[str]:
        """Its contract's fields and marrow factor, and the TGF-β1 that draws canopy cells down (``recruit``)."""
        return super().fields_read() | {"tgfb"}

    def _settle(self) -> None:
        """Canopy cells over sites the canopy has left settle back on them as quiescent lining cells, one per
        free site, in site order; the rest wait for a free site."""
        model = self.model
        x, y = np.nonzero((self.canopy_cells >= 1) & ~model.fields.canopy & model.grid.empty.data)
        if x.size == 0:
            return
        cells = self.plate_lining(list(model.site_cells[x, y]))
        self.canopy_cells[x, y] -= 1.0
        for cell in cells:
            self.record("settling", cell.unique_id, None, 1, 0, np.nan)
        self.settled_total += int(x.size)

    def signal(self, fields, start_h: float, dt_h: float) -> None:
        """The cells' networks (``Lineage.signal``); then the canopy cells secrete M-CSF into their sites (the
        osteoblast lineage is the M-CSF source osteoclasts need: op/op, Yoshida et al. 1990 Nature 345:442)."""
        super().signal(fields, start_h, dt_h)
        if self.tick is not None:
            # only a cell committed as it made its collagen, polarised over the bone, lays it there as osteoid
            rows, _, x, y, counted = self.tick
            secretions = counted[:, self.collagen_counter]
            # and only on a site whose cement line the reversal cells have completed
            ready = self.model.bone.cemented_sites(self.cement_line_um)
            self.making = (secretions > 0) & self.population.committed[rows] & ready[x, y]
            self.making_um3 = secretions[self.making] * self.osteoid_um3_per_secretion
        if self.canopy_mcsf_per_cell_h and self.canopy_cells.any():
            fields.secrete({"mcsf": self.canopy_cells * self.canopy_mcsf_per_cell_h * dt_h})

    def _bury(self, rows: np.ndarray) -> None:
        """Osteoblasts whose neighbours' new matrix stands ``burial_height_um`` above their own are buried in
        it (``_embed``)."""
        model, pop = self.model, self.population
        if rows.size == 0 or model.bone.new_bone is None:
            return
        height = model.bone.site_mean(model.bone.formed_depth_um())
        around = ndimage.uniform_filter(height, size=3, mode="wrap" if model.experiment.domain.periodic else "nearest")
        neighbours = (9 * around - height) / 8  # the mean of the 8 neighbours, without the site itself
        x, y = pop.x[rows], pop.y[rows]
        self._embed(rows[neighbours[x, y] - height[x, y] >= self.burial_height_um])

    def _embed(self, rows: np.ndarray) -> None:
        """The osteoblasts in ``rows`` are embedded in their matrix: each leaves the surface and joins the
        osteocytes beneath its site."""
        model, pop = self.model, self.population
        for row in rows:
            self.record("embedding", int(pop.cell_id[row]), None, 1, int(pop.generation[row]),
                        model.time_h - float(pop.born_h[row]))
            if model.osteocytes is not None:
                model.osteocytes.viable[pop.x[row], pop.y[row]] += 1.0
            pop.agent[row].die()
        self.embedded_total += int(rows.size)

    # ----------------------------------------------------------------------------------------------- bone
    def act_on_bone(self, bone, dt_h: float) -> None:
        """Each procollagen secretion of a committed osteoblast on a cemented site in the tick lays a packet of
        matrix on the bone at the site where the cell was when it secreted (cells that died since still laid
        theirs down). Only a committed osteoblast is polarised over the bone and secretes its collagen into it as
        osteoid; what a wandering progenitor secretes goes into the marrow's matrix, not onto the bone. Then the
        awake cells on the surface, as reversal cells, clear remnants and lay cement at their sites
        (``reversal.py``)."""
        self._lay_matrix(bone)
        pop = self.population
        rows = self.awake(pop.rows)
        rows = rows[~pop.lining[rows]]
        if rows.size:
            self.remnants_cleared_um3_total += bone.prepare(
                pop.x[rows], pop.y[rows], self.remnant_clearance_um3_per_cell_h * dt_h,
                self.cement_um3_per_cell_h * dt_h, self.cement_line_um)

    def _lay_matrix(self, bone) -> None:
        if self.tick is None:
            return
        rows, ids, x, y, _ = self.tick
        making, volume_um3 = self.making.copy(), self.making_um3
        # an osteoclast that resorbed a site in this tick's bone step (after signaling) took its cement line with
        # it: what was to be laid there is not (the fates, already decided, embedded cells by the matrix planned)
        still_cemented = bone.cemented_sites(self.cement_line_um)[x[making], y[making]]
        making[making] = still_cemented
        volume_um3 = volume_um3[still_cemented]
        if not making.any():
            return
        bone.form(self.model.time_h, x[making], y[making], volume_um3)
        self.matrix_um3_total += float(volume_um3.sum())
        pop, rows, ids = self.population, rows[making], ids[making]
        same = pop.alive[rows] & (pop.cell_id[rows] == ids)  # a dead cell's row may hold a daughter by now
        pop.matrix_um3[rows[same]] += volume_um3[same]

    # ----------------------------------------------------------------------------------------------- reports
    def counts(self) -> dict[str, int | float]:
        pop = self.population
        committed, lining = pop.committed[pop.rows], pop.lining[pop.rows]
        values = (self.recruited_total, int(np.count_nonzero(~committed)), int(np.count_nonzero(committed & ~lining)),
                  int(np.count_nonzero(lining)), self.lifted_total, int(round(self.canopy_cells.sum())),
                  self.settled_total, self.descended_total, self.embedded_total, self.flattened_total,
                  self.apoptoses_total,
                  self.divisions_total, self.deaths_total, self.matrix_um3_total, self.remnants_cleared_um3_total)
        return dict(zip(COUNTS, values))

    def cell_states(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        pop = self.population
        return {"state": stages(pop.committed[rows], pop.lining[rows]), "nuclei": pop.nuclei[rows]}

    # ----------------------------------------------------------------------------------------------- state
    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays, meta = super().state()
        arrays["canopy_cells"] = self.canopy_cells.copy()
        return arrays, {**meta, "matrix_um3_total": self.matrix_um3_total,
                        "remnants_cleared_um3_total": self.remnants_cleared_um3_total,
                        "descended_total": self.descended_total, "lifted_total": self.lifted_total,
                        "embedded_total": self.embedded_total, "settled_total": self.settled_total,
                        "apoptoses_total": self.apoptoses_total, "flattened_total": self.flattened_total}

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        super().restore(arrays, meta)
        self.matrix_um3_total = float(meta["matrix_um3_total"])
        self.remnants_cleared_um3_total = float(meta["remnants_cleared_um3_total"])
        self.descended_total = int(meta["descended_total"])
        self.lifted_total = int(meta["lifted_total"])
        self.embedded_total = int(meta["embedded_total"])
        self.settled_total = int(meta["settled_total"])
        self.apoptoses_total = int(meta["apoptoses_total"])
        self.flattened_total = int(meta["flattened_total"])
        self.canopy_cells = arrays["canopy_cells"]
