"""BoneModel: the order of things in one tick, and nothing else.

Each tick covers (t, t + dt] and runs:
  1 schedule   medium changes and drug doses due at t; perturbations (knockouts, inhibitors, clamps) in force
  2 signaling  what touches each site is noted (osteoclast ephrinB2 for the osteoblast lineage's EphB4); one SSA
               kernel call per lineage advances every awake cell's network by dt with the inputs at its site;
               what the cells took up leaves their sites; osteoclasts shed Sema4D and secrete Wnt (for an
               osteoblast lineage); canopy cells (M-CSF) and osteocytes (RANKL, OPG, sclerostin, Wnt), counts
               per site, secrete into theirs, the dying osteocytes' RANKL signal ending once they are dead; the
               canopy map is derived
  3 fields     every species something reads: binding (RANKL with OPG and antibody), diffusion, decay,
               exchange with the medium (or with the marrow, except under the canopy over the surface being
               remodeled)
  4 fates      each lineage: recruitment from its marrow pool to the free sites its factor calls it to, then
               death, division, fusion, moves
  5 bone       lining cells cover the bone beneath them; each lineage acts on the bone (osteoclasts resorb bare
               bone); the growth factors the degraded matrix freed (TGF-β1, IGF-1) enter the fields at the
               resorbing cells' sites, to be carried next tick;
               the osteocytes in the eroded bone go with it; each BMU notes its resorption, formation and cells
Events are stamped with the tick's end time. The recorder reads the model after the tick. What the model is made
of (lineages, fields, bone, counters) is data: ``boneabm.state`` saves and restores it.
"""

import contextlib
import gc

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from boneabm.version import __version__
from boneabm.cells.osteoblast.lineage import OsteoblastLineage
from boneabm.cells.osteoclast.lineage import OsteoclastLineage
from boneabm.cells.sites import occupy
from boneabm.config import Experiment
from boneabm.environment.bone import Bone
from boneabm.environment.bmus import BmuTracker
from boneabm.environment.canopy import canopy_map, remodeling_surface
from boneabm.environment.contacts import neighbour_share
from boneabm.environment.fields import Fields
from boneabm.environment.osteocytes import Osteocytes
from boneabm.signaling.network import Network, network_from_dict
from boneabm.state import CheckpointError, ModelState, spec_digest


class BoneModel(mesa.Model):
    # the lineages that may be on the surface, in the order each tick step runs them; an experiment has those
    # whose ``present`` says so
    LINEAGES = (OsteoclastLineage, OsteoblastLineage)

    def __init__(self, experiment: Experiment, networks: dict[str, Network] | None = None, plate: bool = True):
        """``networks``: a lineage's network by lineage name, instead of the one its config names;
        ``plate``: place the initial cells (a model restored from a state places its own)."""
        if experiment.seed is None:
            raise ValueError("BoneModel needs an experiment with its seed fixed (config.with_seed)")
        _freeze_long_lived()
        # Mesa's grid and the plated agents are ≈ 260,000 objects made at once: the cyclic garbage collector,
        # triggered by their count, would scan the growing heap several times over while none of them can be
        # garbage (≈ 0.1 s a model); it is switched back on afterwards
        with _collector_paused():
            super().__init__(rng=experiment.seed)
            self.experiment = experiment
            self.dt_h = experiment.time.dt_h
            self.time_h = 0.0
            self.grid = OrthogonalMooreGrid(
                experiment.domain.shape, torus=experiment.domain.periodic, capacity=1, random=self.random)
            # the grid's cells by site, so a batch of moves looks its targets up with one fancy index, and the agent
            # on each site, which Mesa's cells read (cells/sites.py)
            self.site_cells, self.site_agent = occupy(self.grid, experiment.domain.shape)
            self.fields = Fields(experiment)
            self.bone = Bone(experiment.bone, experiment.domain)
            self.osteocytes = (Osteocytes(experiment.osteocytes, experiment.domain.shape,
                                          experiment.domain.grid_spacing_um, experiment.domain.periodic,
                                          experiment.osteoblasts.signaling.pth_nM)
                               if experiment.osteocytes.density_per_mm3 > 0 else None)
            self.bmus = (BmuTracker(experiment.osteocytes.activations, experiment.domain.shape,
                                    experiment.domain.grid_spacing_um) if experiment.osteocytes.activations else None)
            networks = networks or {}
            self.lineages = {kind.name: kind(self, networks.get(kind.name) or kind.network_for(experiment))
                             for kind in self.lineage_kinds(experiment)}
            self.osteoclasts = self.lineages["osteoclast"]
            # the tables report the RANKL system and M-CSF, which the osteoclast lineage reads (tests/test_fields.py)
            self.fields.carry_only(set().union(*(lineage.fields_read() for lineage in self.lineages.values())))
            # (time_h, event, cell_id, partner_id or None, nuclei, generation, age_h or NaN, lineage): the columns of
            # events.csv (boneabm/columns.py), as Lineage.record gives them; the recorder takes them after each tick
            self.events: list[tuple[float, str, int, int | None, int, int, float, str]] = []
            # what touches each site, by contact signal: derived from the cells each tick, before signaling
            self.contacts: dict[str, np.ndarray] = {"ephrinb2": np.zeros(experiment.domain.shape)}
            if plate:
                for lineage in self.lineages.values():
                    lineage.plate_initial()

    @classmethod
    def lineage_kinds(cls, experiment: Experiment) -> list:
        return [kind for kind in cls.LINEAGES if kind.present(experiment)]

    def step(self) -> None:
        start_h = (self.steps - 1) * self.dt_h  # Mesa counts this tick already
        self.time_h = self.steps * self.dt_h
        self._apply_schedule(start_h)
        if "osteoblast" in self.lineages:
            self.contacts["ephrinb2"] = neighbour_share(self.osteoclasts.ephrinb2_sites(),
                                                        self.experiment.domain.periodic)
        for lineage in self.lineages.values():
            lineage.signal(self.fields, start_h, self.dt_h)
        if self.osteocytes is not None:
            self.osteocytes.finish_dying(start_h)
            self.fields.secrete(self.osteocytes.secretion_molecules(self.dt_h))
        margin_um = self.experiment.fields.canopy_margin_um
        if margin_um is not None:  # derived from the state, so a restored model closes the same sites
            self.fields.canopy = canopy_map(self.bone, self.osteocytes, margin_um,
                                            self.experiment.domain.grid_spacing_um)
        self.fields.step()
        for lineage in self.lineages.values():
            lineage.recruit(self.fields, self.dt_h)
        for lineage in self.lineages.values():
            lineage.fates(self.dt_h)
        if "osteoblast" in self.lineages:
            self.bone.cover(self.lineages["osteoblast"].lining_map())
        for lineage in self.lineages.values():
            lineage.act_on_bone(self.bone, self.dt_h)
        self.fields.release_from_matrix(*self.bone.take_freed_factors())
        self.bone.mark_day(self.time_h)
        if self.osteocytes is not None:
            self.osteocytes.erode(self.bone.site_mean(self.bone.mineral_depth_um))
        if self.bmus is not None:
            self._follow_bmus()

    def _apply_schedule(self, start_h: float) -> None:
        tick = round(start_h / self.dt_h)
        every_h = self.experiment.medium.change_every_h
        if every_h is not None and tick > 0 and tick % round(every_h / self.dt_h) == 0:
            self.fields.change_medium()
        for dose in self.experiment.doses:
            if dose.due(tick, self.dt_h):
                self.fields.dose(dose.drug, dose.ng_ml)
        for activation in self.experiment.osteocytes.activations:
            if round(activation.at_h / self.dt_h) == tick:
                self.osteocytes.activate(activation.x_um, activation.y_um, activation.radius_um, activation.fraction,
                                         start_h)
        for lineage in self.lineages.values():
            lineage.apply_schedule(start_h)

    def _follow_bmus(self) -> None:
        """The BMUs note this tick's resorption, formation and cells on their regions."""
        pop, q = self.osteoclasts.population, self.experiment.osteoclasts
        rows = pop.rows[pop.nuclei[pop.rows] >= q.min_nuclei]
        osteoclast_sites = (pop.x[rows], pop.y[rows])
        osteoblasts = self.lineages.get("osteoblast")
        if osteoblasts is None:
            osteoblast_sites = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        else:
            ob = osteoblasts.population
            rows = ob.rows[ob.committed[ob.rows] & ~ob.lining[ob.rows]]
            osteoblast_sites = (ob.x[rows], ob.y[rows])
        self.bmus.update(self.time_h, remodeling_surface(self.bone, self.osteocytes), self.bone, osteoclast_sites,
                         osteoblast_sites)

    # ------------------------------------------------------------------------------------------------- state
    def state(self) -> ModelState:
        """Everything the model's future depends on, as arrays and JSON metadata (``boneabm.state``)."""
        parts = {"fields": self.fields.state(), "bone": self.bone.state(),
                 **({"osteocytes": self.osteocytes.state()} if self.osteocytes is not None else {}),
                 **({"bmus": self.bmus.state()} if self.bmus is not None else {}),
                 **{f"lineage/{name}": lineage.state() for name, lineage in self.lineages.items()}}
        arrays = {f"{part}/{name}": values for part, (part_arrays, _) in parts.items()
                  for name, values in part_arrays.items()}
        version, keys, gauss = self.random.getstate()
        networks = {}
        for name, lineage in self.lineages.items():
            spec = lineage.network.spec.model_dump(mode="json")
            networks[name] = {"spec": spec, "digest": spec_digest(spec), "source": lineage.network.source,
                              "search_order": lineage.network.arrays.search_order.tolist()}
        meta = {
            "boneabm_version": __version__,
            "time_h": self.time_h,
            "steps": self.steps,
            "seed": self.experiment.seed,
            "experiment": self.experiment.to_dict(),
            "networks": networks,
            "mesa": {"agent_id_counter": self.agent_id_counter, "rng": self.rng.bit_generator.state,
                     "random": [version, list(keys), gauss]},
            "parts": {part: part_meta for part, (_, part_meta) in parts.items()},
            "array_names": sorted(arrays),
        }
        return ModelState(meta, arrays)

    @classmethod
    def from_state(cls, state: ModelState, experiment: Experiment | None = None) -> "BoneModel":
        """The model ``state`` describes, agents included, continuing exactly where it stopped; ``experiment``
        (a fork's) replaces the one the state was taken under, its network taken from the state."""
        from boneabm.config import validate

        experiment = experiment or validate(state.meta["experiment"], "checkpoint")
        saved_lineages = list(state.meta["networks"])
        lineages = [kind.name for kind in cls.lineage_kinds(experiment)]
        if saved_lineages != lineages:
            raise CheckpointError(f"checkpoint of a model with lineages {saved_lineages}; {cls.__name__} has "
                                  f"{lineages}")
        # each network with its saved search order: the same reactions fire for the same random numbers,
        # whatever this process would have computed
        networks = {name: network_from_dict(saved["spec"], saved["source"], saved["search_order"])
                    for name, saved in state.meta["networks"].items()}
        model = cls(experiment, networks, plate=False)
        model.fields.restore(*state.part("fields"))
        model.bone.restore(*state.part("bone"))
        if model.osteocytes is not None:
            model.osteocytes.restore(*state.part("osteocytes"))
        if model.bmus is not None:
            model.bmus.restore(*state.part("bmus"))
        for name, lineage in model.lineages.items():
            lineage.restore(*state.part(f"lineage/{name}"))
        mesa_state = state.meta["mesa"]
        # Mesa's step counter drives the tick; its event clock (model.time) is left to count from here: Mesa
        # schedules each step as an event at the next whole time, so moving the clock would replay them
        model.steps = int(state.meta["steps"])
        model.time_h = float(state.meta["time_h"])
        model.agent_id_counter = int(mesa_state["agent_id_counter"])
        model.rng.bit_generator.state = mesa_state["rng"]
        version, keys, gauss = mesa_state["random"]
        model.random.setstate((version, tuple(keys), gauss))
        return model

    def reseed(self, seed: int) -> None:
        """New random streams from ``seed`` for every cell and for the model: a fork with a seed of its own."""
        for lineage in self.lineages.values():
            lineage.population.reseed(seed)
        self.rng = np.random.default_rng(seed)
        self.random.seed(seed)

    # The osteoclast lineage's store and totals, by their names before lineages were units (the tables, the
    # tests and users' notebooks read them).
    @property
    def population(self):
        return self.osteoclasts.population

    @property
    def network(self) -> Network:
        return self.osteoclasts.network

    @property
    def osteoclast_records(self) -> dict[int, dict]:
        return self.osteoclasts.records

    @property
    def effect(self):
        return self.osteoclasts.effect

    def _total(name: str):  # noqa: N805 - a property factory used in the class body
        return property(lambda self: sum(getattr(lineage, name) for lineage in self.lineages.values()))

    divisions_total = _total("divisions_total")
    deaths_total = _total("deaths_total")
    ssa_events_total = _total("ssa_events_total")
    cell_hours = _total("cell_hours")
    fusions_total = property(lambda self: self.osteoclasts.fusions_total)
    ssa_events_by_reaction = property(lambda self: self.osteoclasts.ssa_events_by_reaction)
    counter_totals = property(lambda self: self.osteoclasts.counter_totals)
    del _total


_FROZEN = []  # whether this process has frozen its long-lived objects (``_freeze_long_lived``)


def _freeze_long_lived() -> None:
    """Once a process: its objects so far (≈ 230,000, nearly all the modules imported: numba, scipy, pandas,
    Mesa) out of the cyclic garbage collector's reach, its garbage collected first. Every run after the first in
    a process (a sweep's worker, a notebook) otherwise began with a full collection scanning them all, ≈ 0.12 s."""
    if not _FROZEN:
        gc.collect()
        gc.freeze()
        _FROZEN.append(True)


@contextlib.contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off within the block (as it was before, after it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
