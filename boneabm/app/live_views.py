"""The live page's views: the surface and the time series of a ``LiveModel``, each drawn by the browser
(``canvas``) from the newest frame at most ``pacing.frame_rate_hz()`` times a second. A frame is copied out of the
model under its lock in a fraction of a millisecond and packed (``frames``) after the lock is released, in the
views' own thread: the steps wait for the copy only, never for packing, sending or drawing. One thread feeds both
views, sending their frames back to back, so the browser draws them in one animation frame (drawn apart, each
cost it a layout and a composite of its own)."""

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
    """The surface of ``model`` (a ``LiveModel``) now, on ``layer_name``: the frame (its maps as
    ``snapshots.frame_of`` builds a snapshot's, those a frame draws; no cells table), its cells packed for the
    browser (``frames.parts_payload``: what ``cells_payload`` makes of the snapshot's table) and its title. The
    model's arrays are copied under its lock (a fraction of a millisecond, so the steps hardly wait), the rest
    done from the copies after it is released."""
    import copy

    from boneabm.app.frames import parts_payload
    from boneabm.draw import LAYERS
    from boneabm.snapshots import EVENT_MAP, Frame, field_ng_ml, lineage_cells

    with model.lock:
        time_h, parts = model.time_h, lineage_cells(model)
        bone = copy.copy(model.bone)  # with depth maps of its own: what its pits, trenches and outlines are read from
        bone.mineral_depth_um, bone.collagen_depth_um = (model.bone.mineral_depth_um.copy(),
                                                         model.bone.collagen_depth_um.copy())
        field = None if LAYERS[layer_name].per_pixel else field_ng_ml(model.fields, layer_name)
    domain = model.experiment.domain
    cells = parts_payload(parts, domain.grid_spacing_um, domain.grid_spacing_um)
    events, n_pits, n_trenches = resorption.of(bone)
    maps = {"mineral_depth_um": bone.mineral_depth_um, EVENT_MAP: events,
            layer_name: getattr(bone, layer_name) if field is None else field}
    title = f"{time_h / 24:.2f} d ({time_h:.1f} h): {cells['n']:,} cells; {n_pits} pits, {n_trenches} trenches"
    return Frame(time_h, None, maps, domain.width_um, domain.height_um), cells, title


def shown_time(time_h: float | None) -> str:
    """What the page says of the frame it shows (the tests and benchmarks/view_cost.py read it)."""
    if time_h is None:
        return "simulated time: … (the first frame is being drawn)"
    return (f"simulated time: {time_h:.1f} h shown (the newest hour, at most {frame_rate_hz():g} frames a "
            "second)")


@solara.component
def LiveViews(model):
    """The surface and the time series side by side, fed their frames by one thread (``LiveFrames``), sent to
    their canvases (``Fed``)."""
    from boneabm.app.frames import NO_MAP

    surface = solara.use_memo(lambda: Fed(frame=None, map=NO_MAP, caption=shown_time(None)), [])
    series = solara.use_memo(lambda: Fed(series=None, now_d=None), [])
    frames = solara.use_memo(lambda: LiveFrames(model), [model])
    layer_name = layer.value

    def feed(cancel: threading.Event) -> None:
        paced(cancel, lambda: model.time_h, lambda: frames.show(layer_name, surface, series), frame_rate_hz())

    with solara.Row(classes=["boneabm-views"], style={"flex-wrap": "wrap"}):
        LiveSurface(surface)
        LiveTimeseries(model, series)
    # a thread per model and layer: a reset or another layer starts a fresh one, which draws at once
    feeding = solara.use_thread(feed, dependencies=[model, layer_name], intrusive_cancel=False)
    if feeding.error is not None:  # (logged by Solara with its traceback)
        solara.Error(f"the views could not be drawn: {feeding.error}")


@solara.component
def LiveSurface(fed):
    """The surface: cells by stage and nuclei on the chosen map, resorbed areas outlined, drawn by the browser
    (``canvas.SurfaceCanvas``) from the frames sent through ``fed``."""
    from boneabm.app.canvas import SurfaceCanvas
    from boneabm.app.frames import LEGEND, PALETTE
    from boneabm.draw import LAYERS

    with solara.Column(classes=["boneabm-surface"], style={"width": "450px"}):
        solara.Select(label="map layer", value=layer, values=list(LAYERS))
        canvas = SurfaceCanvas(palette=PALETTE, legend=LEGEND, event_ready=fed.ready)
        solara.use_effect(lambda: fed.attach(canvas), [])


class Fed:
    """A view's widget sent its frames from the views' thread as custom messages (``frames.message``), neither by
    rendering its component (Solara's components compared with the page's last: that cost the server as much as
    packing the frame, holding the GIL the model's steps need) nor as its traits (the widgets' code in the
    browser copied each frame and compared it whole twice, which cost more than drawing it). Only what changed
    is sent (the map only when it did; the time series not for another layer); the newest of everything
    (``props``) is sent whole when the browser's view is mounted and says so (``ready``): a message sent before
    would be lost."""

    def __init__(self, **props):
        self.props, self.widget = props, None
        self.viewed = False  # whether the browser's view has said it is mounted (``ready``)
        self.lock = threading.Lock()  # a frame sent while the widget is attached: the newest is what it shows

    def attach(self, element) -> Callable[[], None]:
        """(the component's effect, once mounted: the widget exists only then) The widget shows ``props``, sent
        now if the browser's view was ready first (else when it is: sent once, so not drawn twice)."""
        with self.lock:
            self.widget = solara.get_widget(element)
            self._send(self.props)

        def detach():
            with self.lock:
                self.widget = None

        return detach

    def ready(self, *_) -> None:
        """(the browser's view, once mounted) Send it everything it shows."""
        with self.lock:
            self.viewed = True
            self._send(self.props)

    def show(self, **props) -> bool:
        """Send the widget those of ``props`` that changed, in one message; False if it or the browser's view is
        not mounted yet (sent everything once it is)."""
        with self.lock:
            changed = {name: value for name, value in props.items()
                       if self.props.get(name) is not value and self.props.get(name) != value}
            self.props = {**self.props, **props}
            return self._send(changed) if changed else self.widget is not None and self.viewed

    def _send(self, props: dict) -> bool:
        from boneabm.app.frames import message

        if self.widget is None or not self.viewed:
            return False
        content, buffers = message(props)
        self.widget.send({"method": "show", "args": [content]}, buffers)
        return True


@solara.component
def LiveTimeseries(model, fed):
    """The culture's parameters, and the counts per cm² and the factors over time, drawn by the browser
    (``canvas.SeriesCanvas``) from the frames sent through ``fed``, each with every row recorded so far."""
    from boneabm.app.canvas import SeriesCanvas

    with solara.Column(classes=["boneabm-timeseries"], style={"width": "450px"}):
        parameters = ", ".join(f"{k} {v:g} ng/mL" if isinstance(v, float) else f"{k} {v}"
                               for k, v in model.parameters.items())
        solara.Text(f"this culture: {parameters}", classes=["boneabm-parameters"])
        canvas = SeriesCanvas(event_ready=fed.ready)
        solara.use_effect(lambda: fed.attach(canvas), [])


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


class LiveFrames:
    """The frames of a live model's views, and what is kept from one to the next: its map's image, its resorbed
    areas and its history as columns."""

    def __init__(self, model):
        from boneabm.app.frames import MapImages

        self.model = model
        self.images, self.resorption, self.history = MapImages(), Resorption(), History()

    def show(self, layer_name: str, surface: Fed, series: Fed) -> float | None:
        """Pack the newest frame of both views and set each on its widget, one after the other: the hour shown,
        or None while a view is not mounted yet."""
        from boneabm.app.frames import series_payload, surface_payload

        model = self.model
        experiment, medium = model.experiment, model.experiment.medium
        frame, cells, title = live_frame(model, layer_name, self.resorption)
        drawn, image = surface_payload(frame, layer_name, experiment.domain.grid_spacing_um, self.images, title,
                                       cells=cells)
        columns, time_h = self.history.of(model)
        lines = series_payload(columns, experiment.domain.area_cm2, experiment.time.duration_h,
                               max(medium.mcsf_ng_ml, medium.rankl_ng_ml, medium.opg_ng_ml))
        shown = surface.show(frame=drawn, map=image, caption=shown_time(frame.time_h))
        shown = series.show(series=lines, now_d=time_h / 24.0) and shown
        return frame.time_h if shown else None
