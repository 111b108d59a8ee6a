"""The live page's views: the surface and the time series of a ``LiveModel``, each drawn by the browser
(``canvas``) from the newest frame at most ``pacing.frame_rate_hz()`` times a second. A frame is copied out of the
model under its lock in a fraction of a millisecond and packed (``frames``) after the lock is released, in the
view's own thread: the steps wait for the copy only, never for packing, sending or drawing."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import solara

from boneabm.app.pacing import frame_rate_hz, paced

layer = solara.reactive("mineral_depth_um")


class Resorption:
    """A live model's resorbed areas as a frame shows them (the pits and trenches map, their counts), found
    again only when the depth map changed: labelling them cost more than the rest of a frame."""

    def __init__(self):
        self.depth_um = None

    def of(self, bone) -> tuple[np.ndarray, int, int]:
        if self.depth_um is None or not np.array_equal(bone.mineral_depth_um, self.depth_um):
            self.depth_um, self.found = bone.mineral_depth_um, bone.events()
        return self.found


def live_frame(model, layer_name: str, resorption: Resorption):
    """The surface of ``model`` (a ``LiveModel``) now, on ``layer_name``, and its title: the model's arrays
    copied under its lock (a fraction of a millisecond, so the steps hardly wait), the frame built from the
    copies after it is released (as ``snapshots.frame_of`` builds a snapshot, with the maps a frame draws)."""
    import copy

    from boneabm.draw import LAYERS
    from boneabm.snapshots import EVENT_MAP, Frame, cells_table, field_ng_ml, lineage_cells

    with model.lock:
        time_h, parts = model.time_h, lineage_cells(model)
        bone = copy.copy(model.bone)  # with depth maps of its own: what its pits, trenches and outlines are read from
        bone.mineral_depth_um, bone.collagen_depth_um = (model.bone.mineral_depth_um.copy(),
                                                         model.bone.collagen_depth_um.copy())
        field = None if LAYERS[layer_name].per_pixel else field_ng_ml(model.fields, layer_name)
    cells = cells_table(time_h, model.experiment.domain.grid_spacing_um, parts)
    events, n_pits, n_trenches = resorption.of(bone)
    maps = {"mineral_depth_um": bone.mineral_depth_um, EVENT_MAP: events,
            layer_name: getattr(bone, layer_name) if field is None else field}
    title = f"{time_h / 24:.2f} d ({time_h:.1f} h): {len(cells):,} cells; {n_pits} pits, {n_trenches} trenches"
    domain = model.experiment.domain
    return Frame(time_h, cells, maps, domain.width_um, domain.height_um), title


def shown_time(time_h: float | None) -> str:
    """What the page says of the frame it shows (the tests and benchmarks/view_cost.py read it)."""
    if time_h is None:
        return "simulated time: … (the first frame is being drawn)"
    return (f"simulated time: {time_h:.1f} h shown (the newest hour, at most {frame_rate_hz():g} frames a "
            "second)")


@solara.component
def LiveSurface(model):
    """The surface: cells by stage and nuclei on the chosen map, resorbed areas outlined, drawn by the browser
    (``canvas.SurfaceCanvas``) from the newest frame, at most ``frame_rate_hz()`` times a second."""
    from boneabm.draw import LAYERS

    with solara.Column(classes=["boneabm-surface"], style={"width": "450px"}):
        solara.Select(label="map layer", value=layer, values=list(LAYERS))
        SurfaceFrames(model, layer.value)


class Fed:
    """A view's widget whose frames are set on it from the view's thread, not by rendering its component: a
    render (Solara's components compared with the page's last) cost the server as much as packing the frame,
    and held the GIL the model's steps need. What it shows (``props``) is never passed through a render, which
    could set it back to what it read before a newer frame was set."""

    def __init__(self, **props):
        self.props, self.widget = props, None
        self.lock = threading.Lock()  # a frame set while the widget is attached: the newest stays set

    def attach(self, element) -> Callable[[], None]:
        """(the component's effect, once mounted: the widget exists only then) The widget shows ``props``."""
        with self.lock:
            self.widget = solara.get_widget(element)
            self._set(self.props)

        def detach():
            with self.lock:
                self.widget = None

        return detach

    def show(self, **props) -> bool:
        """Set ``props`` on the widget, in one message to the browser; False if it is not mounted yet."""
        with self.lock:
            self.props = {**self.props, **props}
            return self._set(props)

    def _set(self, props: dict) -> bool:
        if self.widget is None:
            return False
        with self.widget.hold_sync():
            for name, value in props.items():
                setattr(self.widget, name, value)
        return True


@solara.component
def SurfaceFrames(model, layer_name: str):
    """The frames of the surface view, apart from its other controls, set on its canvas as they are drawn
    (``Fed``)."""
    from boneabm.app.canvas import SurfaceCanvas
    from boneabm.app.frames import LEGEND, PALETTE, MapImages, surface_payload

    fed = solara.use_memo(lambda: Fed(frame=None, map={"key": "", "url": ""}, caption=shown_time(None)), [])
    images = solara.use_memo(MapImages, [model])
    resorption = solara.use_memo(Resorption, [model])
    site_um = model.experiment.domain.grid_spacing_um

    def feed(cancel: threading.Event) -> None:
        def show():
            frame, title = live_frame(model, layer_name, resorption)
            drawn, image = surface_payload(frame, layer_name, site_um, images, title)
            return frame.time_h if fed.show(frame=drawn, map=image, caption=shown_time(frame.time_h)) else None

        paced(cancel, lambda: model.time_h, show, frame_rate_hz())

    canvas = SurfaceCanvas(palette=PALETTE, legend=LEGEND)
    solara.use_effect(lambda: fed.attach(canvas), [])
    # a thread per model and layer: a reset or another layer starts a fresh one, which draws at once
    feeding = solara.use_thread(feed, dependencies=[model, layer_name], intrusive_cancel=False)
    if feeding.error is not None:  # (logged by Solara with its traceback)
        solara.Error(f"the surface could not be drawn: {feeding.error}")


@solara.component
def LiveTimeseries(model):
    """The culture's parameters, and the counts per cm² and the factors over time (``SeriesFrames``)."""
    with solara.Column(classes=["boneabm-timeseries"], style={"width": "450px"}):
        parameters = ", ".join(f"{k} {v:g} ng/mL" if isinstance(v, float) else f"{k} {v}"
                               for k, v in model.parameters.items())
        solara.Text(f"this culture: {parameters}", classes=["boneabm-parameters"])
        SeriesFrames(model)


class History:
    """A live model's history (its rows of counts and factors) as columns, each frame appending only the rows
    recorded since the last: rebuilding every column from every row each frame grew with the run."""

    def __init__(self):
        self.columns: dict[str, np.ndarray] = {}

    def of(self, model) -> tuple[dict[str, np.ndarray], float]:
        """The columns and the model's hour, both as recorded now."""
        seen = len(self.columns.get("time_h", ()))
        with model.lock:
            rows, time_h = model.history[seen:], model.time_h
        if rows:
            names = self.columns.keys() or rows[0].keys()
            self.columns = {name: np.concatenate([self.columns.get(name, np.empty(0)),
                                                  [row.get(name, np.nan) for row in rows]]) for name in names}
        return self.columns, time_h


@solara.component
def SeriesFrames(model):
    """The counts per cm² and the factors over time, drawn by the browser (``canvas.SeriesCanvas``), at most
    ``frame_rate_hz()`` times a second, each time with every row recorded so far, set on its canvas (``Fed``)."""
    from boneabm.app.canvas import SeriesCanvas
    from boneabm.app.frames import series_payload

    fed = solara.use_memo(lambda: Fed(series=None, now_d=None), [])
    history = solara.use_memo(History, [model])
    experiment = model.experiment
    medium = experiment.medium

    def feed(cancel: threading.Event) -> None:
        def show():
            columns, time_h = history.of(model)
            series = series_payload(columns, experiment.domain.area_cm2, experiment.time.duration_h,
                                    max(medium.mcsf_ng_ml, medium.rankl_ng_ml, medium.opg_ng_ml))
            return columns["time_h"].size if fed.show(series=series, now_d=time_h / 24.0) else None

        paced(cancel, lambda: len(model.history), show, frame_rate_hz())

    canvas = SeriesCanvas()
    solara.use_effect(lambda: fed.attach(canvas), [])
    feeding = solara.use_thread(feed, dependencies=[model], intrusive_cancel=False)
    if feeding.error is not None:
        solara.Error(f"the time series could not be drawn: {feeding.error}")
