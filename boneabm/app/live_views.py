"""The live page's views: the surface and the time series of a ``LiveModel``, each drawn by the browser
(``canvas``): the newest frame at most ``pacing.frame_rate_hz()`` times a second, or every recorded hour
(``--every-hour``). A frame's state is handed over by the model at the end of a step (``handoff``: a copy, a
fraction of a millisecond) and packed (``frames``) in the views' own thread; the steps never wait for packing,
sending or drawing, except that with every hour drawn a playing model waits between its steps while the views are
more than a frame behind. One thread feeds both views, sending their frames back to back, so the browser draws them
in one animation frame (drawn apart, each cost it a layout and a composite of its own)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import solara

from boneabm.app.pacing import each_hour, every_hour, frame_rate_hz, pace_text, paced

layer = solara.reactive("mineral_depth_um")


class Resorption:
    """A live model's resorbed areas as a frame shows them (the pits and trenches map, their counts), found
    again only when the depth map changed: labelling them cost more than the rest of a frame."""

    def __init__(self):
        self.depth_um = None

    def of(self, bone) -> tuple[np.ndarray, int, int]:
        """(``bone``'s depth map, if the same as the last, is set to the last's array: what compares frames'
        maps then finds them the same by identity, without comparing them again)"""
        if self.depth_um is not None and np.array_equal(bone.mineral_depth_um, self.depth_um):
            bone.mineral_depth_um = self.depth_um
        else:
            self.depth_um, self.found = bone.mineral_depth_um, bone.events()
        return self.found


def live_frame(copied, model, resorption: Resorption):
    """The surface of ``model`` (a ``LiveModel``) as ``copied`` out of it (``handoff.copy_out``): the frame (its
    maps as ``snapshots.frame_of`` builds a snapshot's, those a frame draws; no cells table), its cells packed
    for the browser (``frames.parts_payload``: what ``cells_payload`` makes of the snapshot's table) and its
    title. Done from the copy, while the model steps on."""
    from boneabm.app.frames import parts_payload
    from boneabm.snapshots import EVENT_MAP, Frame

    domain, bone = model.experiment.domain, copied.bone
    cells = parts_payload(copied.parts, domain.grid_spacing_um, domain.grid_spacing_um)
    events, n_pits, n_trenches = resorption.of(bone)
    maps = {"mineral_depth_um": bone.mineral_depth_um, EVENT_MAP: events,
            copied.layer: getattr(bone, copied.layer) if copied.field is None else copied.field}
    time_h = copied.time_h
    title = f"{time_h / 24:.2f} d ({time_h:.1f} h): {cells['n']:,} cells; {n_pits} pits, {n_trenches} trenches"
    return Frame(time_h, None, maps, domain.width_um, domain.height_um), cells, title


def shown_time(time_h: float | None) -> str:
    """What the page says of the frame it shows (the tests and benchmarks/view_cost.py read it)."""
    if time_h is None:
        return "simulated time: … (the first frame is being drawn)"
    return f"simulated time: {time_h:.1f} h shown ({pace_text()})"


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
        model.handoff.open(taker=cancel)  # what an older thread (another layer, the model before a reset) asks
        try:                              # or closes from now on does nothing

            def shown_in_order(after_h: float | None) -> tuple[float, int] | None:
                if not (surface.mounted() and series.mounted()):  # (a state taken now could not be drawn: lost)
                    return None
                hour = frames.show(layer_name, surface, series, cancel, after_h, in_order=True)
                return None if hour is None else (hour, surface.sent)

            if every_hour():
                each_hour(cancel, shown_in_order, surface.drawn)
            else:
                paced(cancel, lambda: model.time_h,
                      lambda: frames.show(layer_name, surface, series, cancel, frames.shown_h(layer_name)),
                      frame_rate_hz())
        finally:
            model.handoff.close(taker=cancel)  # the steps never wait for a thread that stopped

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
        canvas = SurfaceCanvas(palette=PALETTE, legend=LEGEND, event_ready=fed.ready, event_drawn=fed.took_drawn)
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
        # frames are numbered as sent, so the browser says which it drew: hours start again at a reset, numbers
        # never (this view outlives its models), and what it says late of an older frame is a smaller number
        self.sent, self.drawn_number = 0, 0
        self._drew = threading.Condition()

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

    def mounted(self) -> bool:
        """Whether the widget and the browser's view are there to be sent frames."""
        with self.lock:
            return self.widget is not None and self.viewed

    def ready(self, *_) -> None:
        """(the browser's view, once mounted) Send it everything it shows."""
        with self.lock:
            self.viewed = True
            self._send(self.props)

    def took_drawn(self, number: int, *_) -> None:
        """(the browser's view, after drawing a frame sent as a message) The number of the frame it drew."""
        with self._drew:
            self.drawn_number = max(self.drawn_number, int(number))
            self._drew.notify_all()

    def drawn(self, number: int, timeout_s: float) -> bool:
        """Whether the browser has drawn frame ``number`` or a later one, waiting for it at most ``timeout_s``."""
        with self._drew:
            return self._drew.wait_for(lambda: self.drawn_number >= number, timeout_s)

    def show(self, **props) -> bool:
        """Send the widget those of ``props`` that changed, in one message; False if it or the browser's view is
        not mounted yet (sent everything once it is)."""
        with self.lock:
            if props.get("frame") is not None:  # numbered, as the browser will say back once drawn
                self.sent += 1
                props = {**props, "frame": {**props["frame"], "number": self.sent}}
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

    def of(self, model, rows: int) -> dict[str, np.ndarray]:
        """The columns of the model's first ``rows`` rows (the model only appends to its history: rows taken
        already are read without its lock)."""
        seen = len(self.columns.get("time_h", ()))
        new = model.history[seen:rows]
        if new:
            names = self.columns.keys() or new[0].keys()
            self.columns = {name: np.concatenate([self.columns.get(name, np.empty(0)),
                                                  [row.get(name, np.nan) for row in new]]) for name in names}
        return self.columns


class LiveFrames:
    """The frames of a live model's views, and what is kept from one to the next: its map's image, its resorbed
    areas, its history as columns and the layer and hour shown last."""

    def __init__(self, model):
        from boneabm.app.frames import MapImages

        self.model = model
        self.images, self.resorption, self.history = MapImages(), Resorption(), History()
        self.shown: tuple[str, float] | None = None

    def shown_h(self, layer_name: str) -> float | None:
        """The hour shown last on ``layer_name`` (None if another layer was shown last, or nothing)."""
        return self.shown[1] if self.shown is not None and self.shown[0] == layer_name else None

    def show(self, layer_name: str, surface: Fed, series: Fed, cancel: threading.Event, after_h: float | None,
             in_order: bool = False) -> float | None:
        """Take the model's first state after ``after_h`` (``handoff``, the views' thread's token ``cancel``;
        None: its state now; ``in_order``: every recorded state, in order), pack both views' frames of it and send
        each to its widget, one after the other: the hour shown, or None if cancelled or while a view is not
        mounted yet."""
        from boneabm.app.frames import series_payload, surface_payload

        model = self.model
        copied = model.handoff.take(model, layer_name, cancel, every_hour=in_order, after_h=after_h, taker=cancel)
        if copied is None:
            return None
        experiment, medium = model.experiment, model.experiment.medium
        frame, cells, title = live_frame(copied, model, self.resorption)
        drawn, image = surface_payload(frame, layer_name, experiment.domain.grid_spacing_um, self.images, title,
                                       cells=cells)
        columns = self.history.of(model, copied.history_rows)
        lines = series_payload(columns, experiment.domain.area_cm2, experiment.time.duration_h,
                               max(medium.mcsf_ng_ml, medium.rankl_ng_ml, medium.opg_ng_ml))
        shown = surface.show(frame=drawn, map=image, caption=shown_time(frame.time_h))
        shown = series.show(series=lines, now_d=frame.time_h / 24.0) and shown
        if not shown:
            return None
        self.shown = (layer_name, frame.time_h)
        return frame.time_h
