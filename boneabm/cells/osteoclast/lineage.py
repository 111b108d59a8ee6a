"""The osteoclast lineage in the model: plating, one tick of fates (death, division, hops, fusion) and of
resorption, the records of the osteoclasts that formed, and what the lineage reports to the tables."""

from __future__ import annotations

import numpy as np

from boneabm.cells.agent import Cell
from boneabm.cells.lineage import Lineage
from boneabm.cells.motility import crawl, hop_rate_per_h, move, occupancy
from boneabm.cells.osteoclast import fates
from boneabm.cells.osteoclast.contract import CONTRACT
from boneabm.cells.osteoclast.days import COLUMNS as DAY_COLUMNS, OsteoclastDays
from boneabm.cells.osteoclast.fusion import choose_fusions, competent_cells, survivor_first
from boneabm.cells.osteoclast.resorption import footprint_radius_um, resorption, sealing_zone_area_um2, spread_area_um2
from boneabm.cells.osteoclast.stages import MODE_NAMES, stages
from boneabm.cells.placement import claim_passable_neighbours
from boneabm.cells.recruitment import marrow_pool
from boneabm.rng import draw_uniforms
from boneabm.signaling.network import Network, with_outputs
from boneabm.signaling.ssa import shed_molecules


class LineageCell(Cell):
    """A cell of the osteoclast lineage, from bone-marrow macrophage to multinucleated osteoclast."""

    def absorb(self, other: "LineageCell") -> None:
        """Fuse ``other`` into this cell: the cytoplasm is pooled (molecules, nuclei, hence volume, and
        counters add up); ``other`` leaves the grid and the model."""
        pop = self.lineage.population
        for column in ("molecules", "counters", "nuclei"):
            getattr(pop, column)[self.row] += getattr(pop, column)[other.row]
        pop.committed[self.row] = True
        pop.max_nuclei[self.row] = max(pop.max_nuclei[self.row], pop.nuclei[self.row])
        other.die()


class OsteoclastLineage(Lineage):
    name = "osteoclast"
    contract = CONTRACT
    agent_class = LineageCell
    columns = {
        "max_nuclei": (np.int64, (), 1),
        "committed": (np.bool_, (), False),  # TRAP⁺: a pre-osteoclast that no longer divides (irreversible)
        "mode": (np.int64, (), fates.NEW),  # multinucleated cells: 0 new, 1 migrating, 2 pit, 3 trench
        "formed_h": (np.float64, (), np.nan),  # when it reached the nuclei of an osteoclast; NaN before
        "distance_um": (np.float64, (), 0.0),  # path moved while multinucleated
        **DAY_COLUMNS,  # the day each osteoclast is booking (days.py)
    }

    def __init__(self, model, network):
        experiment = model.experiment
        super().__init__(model, network, experiment.signaling.perturbations(),
                         {"itam_ligand": experiment.signaling.itam_ligand}, capacity=2 * experiment.n_plated)
        self.hop_rate_per_h = hop_rate_per_h(experiment.precursors.motility_um2_per_h,
                                             experiment.domain.grid_spacing_um)
        self.precursor_parameters = fates.precursor_parameters(experiment.precursors)
        self.osteoclast_parameters = fates.osteoclast_parameters(experiment.osteoclasts)
        self.stage_columns = self.binding.columns("commitment_marker", "arrest_signal", "fusion_gene_1",
                                                  "fusion_gene_2", "mitogenic_signal", "apoptosis_signal")
        self.function_columns = self.binding.columns("acid_phosphatase", "collagenase", "proton_pump",
                                                     "sealing_integrin")
        self.fusions_total = 0
        self.egress_total = 0
        self.nuclei_extruded_total = 0
        # osteoclast id -> formed_h, died_h, fate; the rest is read from the arrays and the bone at the end
        self.records: dict[int, dict] = {}
        self.days = OsteoclastDays(self.population)
        precursors = experiment.precursors
        self.marrow = marrow_pool("rankl", precursors.recruitment_rankl_half_nM, precursors.marrow_pool_per_mm2,
                                  precursors.recruitment_per_mm2_per_h, precursors.marrow_renewal_per_h, experiment)

    @classmethod
    def network_file(cls, experiment) -> str:
        return experiment.signaling.network

    @classmethod
    def network_for(cls, experiment) -> Network:
        """The signaling section's network with the readouts the experiment adds to it."""
        return with_outputs(super().network_for(experiment), experiment.signaling.observables,
                            experiment.signaling.counters)

    def plate_initial(self) -> None:
        """Bone-marrow macrophages at the plating density, uniformly at random on free sites."""
        self.plate(self.free_sites(self.model.experiment.n_plated))

    # ----------------------------------------------------------------------------------------------- fates
    def fates(self, dt_h: float) -> None:
        """Death, extrusion of nuclei, division into a free neighbouring site (molecules shared binomially), fusion
        of competent neighbours and a random-walk hop, for every living cell."""
        model, pop = self.model, self.population
        rows = pop.rows
        if rows.size == 0:
            return
        u = draw_uniforms(pop.rng_state, rows, fates.N_UNIFORMS)
        bare = model.bone.bare_sites()  # where a sealing zone can form; no bone changes during the fates
        dies, divides, hops, drive, leaves, extruded = fates.decide(
            u, rows, pop.nuclei, pop.molecules, self.stage_columns, pop.committed, pop.mode, dt_h,
            self.hop_rate_per_h, model.experiment.domain.grid_spacing_um, self.precursor_parameters,
            self.osteoclast_parameters, bare[pop.x[rows], pop.y[rows]], self.unligated_beta3(rows))

        self.die(rows[dies])
        self._leave(rows[leaves])
        self._extrude(rows[extruded > 0], extruded[extruded > 0])
        self.divide(rows[divides], u[divides, fates.U_ORDER], u[divides, fates.U_SITE])

        fusing = drive > 0
        self._fuse(rows[fusing], drive[fusing], u[fusing], dt_h)

        walkers = hops & pop.alive[rows]
        crawlers = np.zeros_like(walkers)
        if model.experiment.osteoclasts.crawl_over_mononuclear_cells:
            crawlers = walkers & (pop.nuclei[rows] > 1)
            walkers &= ~crawlers
        moving, mx, my = self.claim_sites(rows[walkers], u[walkers, fates.U_ORDER], u[walkers, fates.U_SITE],
                                          vacate=True)
        step_um = move(pop, model, moving, mx, my)
        pop.distance_um[moving] += np.where(pop.nuclei[moving] > 1, step_um, 0.0)
        if crawlers.any():
            self._crawl(rows[crawlers], u[crawlers, fates.U_ORDER], u[crawlers, fates.U_SITE], bare)

    def _crawl(self, rows: np.ndarray, u_order: np.ndarray, u_site: np.ndarray, bare: np.ndarray) -> None:
        """Osteoclasts in ``rows`` hop over the mononuclear cells in their way (``crawl_over_mononuclear_cells``),
        in the order of ``u_order``, each to the neighbouring site ``u_site`` picks, over ``bare`` bone where
        it can. A displaced cell moves one site, whether or not it moved this tick already."""
        model, pop = self.model, self.population
        order = np.argsort(u_order, kind="stable")
        tx, ty, swapped = claim_passable_neighbours(occupancy(model), bare, pop.x[rows], pop.y[rows], order, u_site,
                                                    model.experiment.domain.periodic)
        found = tx >= 0
        moving = rows[order[found]]
        pop.distance_um[moving] += crawl(pop, model, moving, tx[found], ty[found], swapped[found])

    def unligated_beta3(self, rows: np.ndarray) -> np.ndarray:
        """Each cell's integrin β3 per nucleus with no bare mineralised bone to bind: its β3 times the share of
        its spread area (a disk at its site) that lining cells or new matrix cover. Zero where the death signal
        of unligated αvβ3 is off (``unligated_integrin_death_rate_per_h: 0``), without looking."""
        q, pop = self.model.experiment.osteoclasts, self.population
        if q.unligated_integrin_death_rate_per_h == 0.0 or rows.size == 0:
            return np.zeros(rows.size)
        nuclei = pop.nuclei[rows].astype(np.float64)
        spacing = self.model.experiment.domain.grid_spacing_um
        radius = np.sqrt(spread_area_um2(nuclei, q) / np.pi)
        bare = self.model.bone.bare_share((pop.x[rows] + 0.5) * spacing, (pop.y[rows] + 0.5) * spacing, radius)
        return pop.molecules[rows, self.function_columns[3]] / nuclei * (1.0 - bare)

    def signal(self, fields, start_h: float, dt_h: float) -> None:
        """The cells' networks (``Lineage.signal``); then multinucleated cells shed Sema4D into their sites and
        secrete Wnt as the active TGF-β1 there induces it (Weivoda et al. 2016), where the fields carry them: only
        the osteoblast lineage reads them, so a culture's fields are spared them."""
        super().signal(fields, start_h, dt_h)
        q = self.model.experiment.osteoclasts
        shed_sema4d = q.sema4d_per_nucleus_h and "sema4d" in fields.carried
        secrete_wnt = q.wnt_per_nucleus_h and "wnt" in fields.carried
        if not (shed_sema4d or secrete_wnt):
            return
        pop = self.population
        rows = pop.rows[pop.nuclei[pop.rows] > 1]
        if rows.size == 0:
            return
        shape, nuclei = self.model.experiment.domain.shape, pop.nuclei[rows].astype(np.float64)
        made = {}
        if shed_sema4d:
            made["sema4d"] = pop.site_map(rows, shape, nuclei * q.sema4d_per_nucleus_h * dt_h)
        if secrete_wnt:
            tgfb_nM = fields.sites["tgfb"][pop.x[rows], pop.y[rows]]
            induced = tgfb_nM / (q.wnt_tgfb_half_nM + tgfb_nM)
            made["wnt"] = pop.site_map(rows, shape, nuclei * q.wnt_per_nucleus_h * induced * dt_h)
        fields.secrete(made)

    def ephrinb2_sites(self) -> np.ndarray:
        """The sites holding a cell that presents ephrinB2: committed (TRAP⁺) cells, in which NFATc1 induces
        Efnb2 (Zhao et al. 2006 Cell Metab 4:111); none if ``osteoclasts.ephrinb2`` is off (an osteoclast-lineage
        Efnb2 deletion)."""
        pop = self.population
        presenting = pop.rows[pop.committed[pop.rows]] if self.model.experiment.osteoclasts.ephrinb2 else pop.rows[:0]
        return pop.site_map(presenting, self.model.experiment.domain.shape)

    def _leave(self, rows: np.ndarray) -> None:
        """Precursors that leave the surface return to the marrow pool: an ``egress`` event each."""
        pop = self.population
        for row in rows:
            self.record("egress", int(pop.cell_id[row]), None, 1, int(pop.generation[row]),
                        self.model.time_h - float(pop.born_h[row]))
            pop.agent[row].die()
        if rows.size:
            self.marrow.cells += rows.size
            self.egress_total += int(rows.size)

    def _extrude(self, rows: np.ndarray, extruded: np.ndarray) -> None:
        """Multinucleated cells lose ``extruded`` apoptotic nuclei each, with their share of the cytoplasm (each
        molecule leaves with the extruded nuclei's share); an ``extrusion`` event each, with the nuclei kept."""
        if rows.size == 0:
            return
        pop = self.population
        shed_molecules(pop.molecules, pop.rng_state, rows, extruded / pop.nuclei[rows], self.effect.clamped)
        pop.nuclei[rows] -= extruded
        for row in rows:
            self.record("extrusion", int(pop.cell_id[row]), None, int(pop.nuclei[row]), int(pop.generation[row]),
                        np.nan)
        self.nuclei_extruded_total += int(extruded.sum())

    def _fuse(self, rows: np.ndarray, drive: np.ndarray, u: np.ndarray, dt_h: float) -> None:
        """Fusion-competent neighbours fuse; the survivor keeps its id and random stream."""
        if rows.size < 2:
            return
        model, pop, q = self.model, self.population, self.model.experiment.osteoclasts
        # only competent cells are partners
        order, rank, drive_of_row, site_row = competent_cells(rows, drive, u[:, fates.U_ORDER], pop.x, pop.y,
                                                              pop.alive.shape[0], model.experiment.domain.shape)
        first, second = choose_fusions(site_row, pop.x, pop.y, pop.nuclei, rows[order], rank, drive_of_row,
                                       u[order, fates.U_FUSE], u[order, fates.U_PARTNER], q.fusion_rate_per_h * dt_h,
                                       q.multinucleated_pair_fusion_factor, model.experiment.domain.periodic)
        for a, b in zip(first, second):
            keep_a = survivor_first(pop.nuclei[a], pop.cell_id[a], pop.nuclei[b], pop.cell_id[b])
            survivor, absorbed = (a, b) if keep_a else (b, a)
            self.closing(absorbed, "fused")
            self.record("fusion", int(pop.cell_id[survivor]), int(pop.cell_id[absorbed]),
                        int(pop.nuclei[survivor] + pop.nuclei[absorbed]), int(pop.generation[survivor]),
                        np.nan)
            pop.agent[survivor].absorb(pop.agent[absorbed])
            if pop.nuclei[survivor] >= q.min_nuclei and np.isnan(pop.formed_h[survivor]):
                pop.formed_h[survivor] = model.time_h
                self.records[int(pop.cell_id[survivor])] = {"formed_h": model.time_h, "died_h": np.nan,
                                                            "fate": "alive"}
        self.fusions_total += len(first)

    def closing(self, row: int, fate: str) -> None:
        """An osteoclast that dies or fuses into another closes its day and its record."""
        self.days.end(row, self.model.time_h, self.model.dt_h)
        record = self.records.get(int(self.population.cell_id[row]))
        if record is not None:
            record.update(died_h=self.model.time_h, fate=fate, max_nuclei=int(self.population.max_nuclei[row]),
                          distance_um=float(self.population.distance_um[row]))

    # ----------------------------------------------------------------------------------------------- bone
    def act_on_bone(self, bone, dt_h: float) -> None:
        """Osteoclasts in a pit or on a trench remove bone under their footprint; every osteoclast's day books
        the tick, with the bone removed under it."""
        resorbing, removed_um3 = self._resorb(bone, dt_h)
        pop = self.population
        rows = pop.rows
        self.days.book(rows[~np.isnan(pop.formed_h[rows])], self.model.time_h, dt_h, resorbing, removed_um3)

    def _resorb(self, bone, dt_h: float) -> tuple[np.ndarray, np.ndarray]:
        """The rows that resorbed and the (mineral, collagen) µm³ the bone recorded under each: osteoclasts in a
        pit or on a trench remove bone under their footprint (sealing zone); migrating ones have taken their
        sealing zone apart and resorb nothing."""
        pop, q = self.population, self.model.experiment.osteoclasts
        rows = pop.rows
        mode = pop.mode[rows]
        rows = rows[((mode == fates.PIT) | (mode == fates.TRENCH)) & (pop.nuclei[rows] >= q.min_nuclei)]
        if rows.size == 0:
            return rows, np.zeros((0, 2))
        molecules = pop.molecules[rows]
        nuclei = pop.nuclei[rows].astype(np.float64)
        trap, ctsk, atp6v0d2, itgb3 = (molecules[:, c] for c in self.function_columns)
        spacing = self.model.experiment.domain.grid_spacing_um
        x_um, y_um = (pop.x[rows] + 0.5) * spacing, (pop.y[rows] + 0.5) * spacing
        radius = footprint_radius_um(sealing_zone_area_um2(nuclei, itgb3, q))
        bare_share = bone.bare_share(x_um, y_um, radius)
        mineral, collagen, _ = resorption(nuclei, trap, ctsk, atp6v0d2, itgb3, q, bare_share)
        speed = np.where(pop.mode[rows] == fates.TRENCH, q.trench_rate_factor, 1.0) * dt_h
        return rows, bone.resorb_many(pop.cell_id[rows], x_um, y_um, radius, mineral * speed, collagen * speed,
                                      q.collagen_fringe_half_um, self.model.time_h)

    # ----------------------------------------------------------------------------------------------- reports
    def counts(self) -> dict[str, int | float]:
        """The lineage's part of a timeseries row (columns in boneabm/columns.py)."""
        pop, experiment = self.population, self.model.experiment
        rows = pop.rows
        nuclei, committed = pop.nuclei[rows], pop.committed[rows]
        n_precursors = int(np.count_nonzero(~committed & (nuclei == 1)))
        osteoclast = nuclei >= experiment.osteoclasts.min_nuclei
        domain = experiment.domain
        return {
            "n_cells": rows.size,
            "n_precursors": n_precursors,
            "precursors_per_cm2": n_precursors / domain.area_cm2,
            "n_trap_mononuclear": int(np.count_nonzero(committed & (nuclei == 1))),
            "n_multinucleated": int(np.count_nonzero(nuclei > 1)),
            "n_osteoclasts": int(np.count_nonzero(osteoclast)),
            "nuclei_in_osteoclasts": int(nuclei[osteoclast].sum()),
            "confluence": rows.size / (domain.shape[0] * domain.shape[1]),
            "divisions_total": self.divisions_total,
            "deaths_total": self.deaths_total,
            "fusions_total": self.fusions_total,
            "precursors_recruited_total": self.recruited_total,
            "precursors_left_total": self.egress_total,
            "nuclei_extruded_total": self.nuclei_extruded_total,
        }

    def cell_states(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The lineage's columns of the cells table for ``rows``."""
        pop = self.population
        return {
            "state": stages(pop.nuclei[rows], pop.committed[rows], self.model.experiment.osteoclasts.min_nuclei),
            "nuclei": pop.nuclei[rows],
            "resorption_mode": np.where(pop.nuclei[rows] > 1, MODE_NAMES[pop.mode[rows]], "none"),
        }

    def osteoclast_rows(self, bone) -> list[dict]:
        """Every osteoclast that formed: its record, completed from the arrays if alive, its bone from the maps."""
        pop, rows = self.population, []
        living = {int(pop.cell_id[r]): r for r in pop.rows}
        for osteoclast_id, record in sorted(self.records.items()):
            row = living.get(osteoclast_id) if record["fate"] == "alive" else None
            mineral, collagen = bone.removed_by.get(osteoclast_id, (0.0, 0.0))
            rows.append({
                "osteoclast_id": osteoclast_id, "formed_h": record["formed_h"], "died_h": record["died_h"],
                "fate": record["fate"],
                "max_nuclei": int(pop.max_nuclei[row]) if row is not None else record["max_nuclei"],
                "resorbed_um3": float(mineral), "collagen_removed_um3": float(collagen),
                "distance_um": float(pop.distance_um[row]) if row is not None else record["distance_um"],
            })
        return rows

    def osteoclast_day_rows(self) -> dict[str, np.ndarray]:
        """Every osteoclast's days (osteoclast_days.csv), the open days of the living included."""
        return self.days.table(self.model.dt_h)

    # ----------------------------------------------------------------------------------------------- state
    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays, meta = super().state()
        arrays.update(self.days.state())
        records = [[osteoclast_id, r["formed_h"], None if np.isnan(r["died_h"]) else r["died_h"], r["fate"],
                    r.get("max_nuclei"), r.get("distance_um")] for osteoclast_id, r in sorted(self.records.items())]
        return arrays, {**meta, "fusions_total": self.fusions_total, "egress_total": self.egress_total,
                        "nuclei_extruded_total": self.nuclei_extruded_total, "records": records}

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        super().restore(arrays, meta)
        self.days.restore(arrays)
        self.fusions_total = meta["fusions_total"]
        self.egress_total = meta.get("egress_total", 0)  # a state from before egress saw none leave
        self.nuclei_extruded_total = meta.get("nuclei_extruded_total", 0)
        self.records = {}
        for osteoclast_id, formed_h, died_h, fate, max_nuclei, distance_um in meta["records"]:
            record = {"formed_h": formed_h, "died_h": np.nan if died_h is None else died_h, "fate": fate}
            if fate != "alive":
                record.update(max_nuclei=max_nuclei, distance_um=distance_um)
            self.records[int(osteoclast_id)] = record
