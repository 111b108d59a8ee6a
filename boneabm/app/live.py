"""The app's live mode: an experiment run step by step in the page (play, pause, step, reset: ``controls``; the
model's key parameters set before a reset, in Mesa's inputs; the views: ``live_views``). While a model is being
built the page shows a progress bar saying so."""

from __future__ import annotations

import threading
from functools import lru_cache

import solara

from boneabm.app.handoff import Handoff
from boneabm.app.pacing import pace_text
from boneabm.config import load_experiment, with_seed
from boneabm.model import BoneModel
from boneabm.snapshots import EVENT_MAP, FIELD_MAPS
from boneabm.units import nM_to_ng_ml

# the throwaway culture that compiles the kernels (``warm_up``): small, and driven to fuse and resorb in its time
WARM_UP_SITES, WARM_UP_H, WARM_UP_RANKL_NG_ML = 12, 96.0, 100.0
LIVE_SEED = 1  # when the config names none: fixed, so a reset with the same parameters shows the same culture

# What the model being built is doing ("" when none is). Set from LiveModel itself because a reset builds it inside
# the Reset button's handler, where the page can only learn of it through state it renders.
building = solara.reactive("")
_warm = threading.Lock()
_warmed = False


@lru_cache(maxsize=1)
def perturbations() -> dict[str, list[str]]:
    """The knockouts and inhibitors a user can pick: the shipped perturbation panel's arms that set them."""
    from boneabm.catalog import find
    from boneabm.panel import load_panel

    arms = load_panel(find("perturbations", "panel").path).arms
    return {"none": [], **{arm: overrides for arm, overrides in arms.items()
                           if overrides and all(o.startswith("signaling.") for o in overrides)}}


class LiveModel(BoneModel):
    """A ``BoneModel`` built from keyword parameters (as a reset builds it), which keeps the counts of its
    timeseries.csv as it goes (its time series in the page) and stops at the experiment's end."""

    def __init__(self, config: str = "", rankl_ng_ml: float = 50.0, opg_ng_ml: float = 0.0,
                 mcsf_ng_ml: float = 30.0, perturbation: str = "none", seed: int = LIVE_SEED):
        overrides = [f"medium.rankl_ng_ml={rankl_ng_ml}", f"medium.opg_ng_ml={opg_ng_ml}",
                     f"medium.mcsf_ng_ml={mcsf_ng_ml}", *perturbations()[perturbation]]
        building.set("building the model… (its networks, its surface, its cells plated)")
        try:
            experiment = with_seed(load_experiment(config, overrides), seed)
            super().__init__(experiment)
        finally:
            building.set("")
        self.parameters = {"RANKL": rankl_ng_ml, "OPG": opg_ng_ml, "M-CSF": mcsf_ng_ml,
                           "perturbation": perturbation}
        self.history: list[dict] = []
        # held while the model steps; its state is handed to the page's views at the end of a step
        self.lock = threading.Lock()
        self.handoff = Handoff(self.lock)
        self._remember()

    def _remember(self) -> None:
        fields = self.fields
        row = {"time_h": self.time_h, **self.osteoclasts.counts()}
        for column, (species, weight) in FIELD_MAPS.items():  # means at the cells, as timeseries.csv's
            row[column] = nM_to_ng_ml(fields.sites[species].mean() / fields.binding_sites.get(species, 1), weight)
        self.history.append(row)

    def step(self) -> None:
        """One recorded interval (``time.record_every_h``, ticks of ``time.dt_h``): what Step advances and ▶
        repeats; at its end the state the views asked for is handed to them (``handoff``), and the step never
        waits for them. Mesa has counted the first tick already (``steps`` counts ticks, as ``BoneModel.step``
        reads it)."""
        time = self.experiment.time
        with self.lock:
            for tick in range(time.record_every_ticks):
                if tick:
                    self.steps += 1
                super().step()
                if self.steps >= time.n_ticks:
                    self.running = False
                    break
            self._remember()
            self.handoff.offer(self)

    def wait_for_views(self, cancel) -> None:
        """(▶, between two steps) With every hour drawn, wait while the views are more than a frame behind."""
        self.handoff.wait_for_views(cancel)


def model_params(config: str, experiment) -> dict:
    """The page's parameters, as Mesa's ``ModelCreator`` reads them: the key ones as controls (read at the next
    reset), the experiment and its seed (the config's, else ``LIVE_SEED``) fixed."""
    medium = experiment.medium
    return {
        "config": config,
        "seed": experiment.seed if experiment.seed is not None else LIVE_SEED,
        "rankl_ng_ml": {"type": "SliderFloat", "value": medium.rankl_ng_ml, "label": "RANKL (ng/mL)",
                        "min": 0.0, "max": 200.0, "step": 5.0},
        "opg_ng_ml": {"type": "SliderFloat", "value": medium.opg_ng_ml, "label": "OPG (ng/mL)", "min": 0.0,
                      "max": 500.0, "step": 10.0},
        "mcsf_ng_ml": {"type": "SliderFloat", "value": medium.mcsf_ng_ml, "label": "M-CSF (ng/mL)", "min": 0.0,
                       "max": 100.0, "step": 5.0},
        "perturbation": {"type": "Select", "value": "none", "label": "knockout or inhibitor",
                         "values": list(perturbations())},
    }


def warm_up(config: str) -> None:
    """Compile the numba kernels a culture needs, once per server process, by running a throwaway 12-by-12-site
    copy of the experiment through ``WARM_UP_H`` simulated hours at a RANKL that makes it fuse and resorb, and
    finding its pits and colouring its map as the views do a frame's. With a cold numba cache that took 50 s on a
    2-core machine, which would otherwise freeze the first ▶ or Step with nothing on the page to say why. A first
    step alone left the kernels of fusion and resorption to compile when the live culture first fused (25 h) and
    resorbed (72 h): 3 s each in which the page froze, its views drew nothing and a pause waited for the step. An
    experiment that cannot shrink so far is not warmed: its steps compile as they go, as they would without the
    app."""
    global _warmed
    from boneabm.app.frames import map_rgba
    from boneabm.errors import UserError

    with _warm:
        if _warmed:
            return
        building.set("building the model… compiling its kernels (once per server; up to a minute)")
        try:
            side_um = WARM_UP_SITES * load_experiment(config).domain.grid_spacing_um
            try:
                # (an activation's centre lies on the full patch, outside this one)
                experiment = load_experiment(config, [f"domain.width_um={side_um}", f"domain.height_um={side_um}",
                                                      "osteocytes.activations=[]",
                                                      f"medium.rankl_ng_ml={WARM_UP_RANKL_NG_ML}"])
            except UserError:
                return
            model = BoneModel(with_seed(experiment, LIVE_SEED))
            for _ in range(min(experiment.time.n_ticks, round(WARM_UP_H / experiment.time.dt_h))):
                model.step()
            # the views find the pits and trenches of each frame shown, and colour its map
            events, _, _ = model.bone.events()
            map_rgba({"mineral_depth_um": model.bone.mineral_depth_um, EVENT_MAP: events}, "mineral_depth_um")
            _warmed = True
        finally:
            building.set("")


@solara.component
def Building(message: str):
    with solara.Column(classes=["boneabm-building"], style={"padding": "8px 0"}):
        solara.ProgressLinear(True)
        solara.Text(message)


@solara.component
def LivePage(first: LiveModel, params: dict):
    """The page of a live model: its controls and the parameters a reset reads (Mesa's ``ModelCreator``: the
    inputs ``model_params`` describes) in the sidebar, its views beside them."""
    from mesa.visualization.solara_viz import ModelCreator

    from boneabm.app.controls import Controller
    from boneabm.app.live_views import LiveViews

    model = solara.use_reactive(first)
    chosen = solara.use_reactive({})  # the parameters as set, read at the next reset
    title = f"boneabm: {model.value.experiment.name} (live)"
    solara.Title(title)
    with solara.AppBar():
        solara.AppBarTitle(title)
    with solara.Sidebar():
        with solara.Card("Controls"):
            Controller(model, lambda: LiveModel(**chosen.value))
            solara.Text(f"the views draw {pace_text()}", style={"font-size": "0.8em"})
        with solara.Card("Model Parameters"):
            ModelCreator(model, params, model_parameters=chosen)
    LiveViews(model.value)


@solara.component
def Live(config: str):
    """The first model is built in a thread, so the page shows the progress bar meanwhile; a reset's model is
    built in the Reset button's handler, and shows it through ``building``."""
    params = solara.use_memo(lambda: model_params(config, load_experiment(config)), [config])

    def build() -> LiveModel:
        warm_up(config)
        return LiveModel(**{name: value if not isinstance(value, dict) else value["value"]
                            for name, value in params.items()})

    task = solara.lab.use_task(build, dependencies=[config])
    message = building.value or ("" if task.finished else "building the model…")
    with solara.Column():  # always there: the page after it keeps its place, so a reset does not remount it
        if message:
            Building(message)
    if task.finished:
        LivePage(task.value, params)
