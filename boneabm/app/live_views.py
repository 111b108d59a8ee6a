"""The live page's views: the surface and the time series of a ``LiveModel``, each drawn by the browser
(``canvas``) from the newest frame at most ``pacing.frame_rate_hz()`` times a second. A frame is copied out of the
model under its lock in a fraction of a millisecond and packed (``frames``) after the lock is released, in the
view's own thread: the steps wait for the copy only, never for packing, sending or drawing."""

from __future__ import annotations

import threading
from typing import cast

import numpy as np
import solara

from boneabm.app.pacing import frame_rate_hz, paced
from boneabm.snapshots import FIELD_MAPS
from boneabm.units import nM_to_ng_ml

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
    copies after it is released."""
    import copy

    import pandas as pd

    from boneabm.draw import LAYERS
    from boneabm.snapshots import EVENT_MAP, Frame

    species, weight = FIELD_MAPS.get(layer_name, (None, None))
    with model.lock:
        time_h = model.time_h
        parts = []
        for name, lineage in model.lineages.items():
            rows = lineage.population.rows.copy()
            parts.append((name, lineage.population.x[rows], lineage.population.y[rows], lineage.cell_states(rows)))
        bone = copy.copy(model.bone)  # with depth maps of its own: what its pits, trenches and outlines are read from
        bone.mineral_depth_um, bone.collagen_depth_um = (model.bone.mineral_depth_um.copy(),
                                                         model.bone.collagen_depth_um.copy())
        field = None if species is None else model.fields.sites[species].copy()
    spacing = model.experiment.domain.grid_spacing_um
    cells = pd.concat([pd.DataFrame({"lineage": name, "x_um": (x + 0.5) * spacing, "y_um": (y + 0.5) * spacing,
                                     "state": states["state"], "nuclei": states["nuclei"]})
                       for name, x, y, states in parts], ignore_index=True)
    events, n_pits, n_trenches = resorption.of(bone)
    maps = {"mineral_depth_um": bone.mineral_depth_um, EVENT_MAP: events}
    if LAYERS[layer_name].per_pixel:
        maps[layer_name] = getattr(bone, layer_name)
    else:
        maps[layer_name] = nM_to_ng_ml(field / model.fields.binding_sites.get(species, 1), weight)
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


@solara.component
def SurfaceFrames(model, layer_name: str):
    """The frames of the surface view, apart from its other controls: a frame re-renders this component alone,
    one widget (the canvas, with the hour it shows), which keeps the server's share of a frame small."""
    from boneabm.app.canvas import SurfaceCanvas
    from boneabm.app.frames import PALETTE, MapImages, legend, surface_payload

    drawn, set_drawn = solara.use_state(cast(tuple, (None, {"key": "", "url": ""})))
    images = solara.use_memo(MapImages, [model])
    resorption = solara.use_memo(Resorption, [model])
    site_um = model.experiment.domain.grid_spacing_um

    def feed(cancel: threading.Event) -> None:
        def show():
            frame, title = live_frame(model, layer_name, resorption)
            set_drawn(surface_payload(frame, layer_name, site_um, images, title))
            return frame.time_h

        paced(cancel, lambda: model.time_h, show, frame_rate_hz())

    # a thread per model and layer: a reset or another layer starts a fresh one, which draws at once
    feeding = solara.use_thread(feed, dependencies=[model, layer_name], intrusive_cancel=False)
    if feeding.error is not None:  # (logged by Solara with its traceback)
        solara.Error(f"the surface could not be drawn: {feeding.error}")
    frame, image = drawn
    SurfaceCanvas(frame=frame, map=image, palette=PALETTE, legend=legend(),
                  caption=shown_time(None if frame is None else frame["time_h"]))


@solara.component
def LiveTimeseries(model):
    """The culture's parameters, and the counts per cm² and the factors over time (``SeriesFrames``)."""
    with solara.Column(classes=["boneabm-timeseries"], style={"width": "450px"}):
        parameters = ", ".join(f"{k} {v:g} ng/mL" if isinstance(v, float) else f"{k} {v}"
                               for k, v in model.parameters.items())
        solara.Text(f"this culture: {parameters}", classes=["boneabm-parameters"])
        SeriesFrames(model)


@solara.component
def SeriesFrames(model):
    """The counts per cm² and the factors over time, drawn by the browser (``canvas.SeriesCanvas``), at most
    ``frame_rate_hz()`` times a second, each time with every row recorded so far; a frame re-renders this
    component alone."""
    from boneabm.app.canvas import SeriesCanvas
    from boneabm.app.frames import series_payload

    series, set_series = solara.use_state(cast(dict | None, None))
    experiment = model.experiment
    medium = experiment.medium

    def feed(cancel: threading.Event) -> None:
        def show():
            with model.lock:
                rows, time_h = list(model.history), model.time_h
            columns = {column: np.array([row.get(column, np.nan) for row in rows], dtype=float) for column in rows[0]}
            set_series(series_payload(columns, experiment.domain.area_cm2, experiment.time.duration_h,
                                      max(medium.mcsf_ng_ml, medium.rankl_ng_ml, medium.opg_ng_ml), time_h))
            return len(rows)

        paced(cancel, lambda: len(model.history), show, frame_rate_hz())

    feeding = solara.use_thread(feed, dependencies=[model], intrusive_cancel=False)
    if feeding.error is not None:
        solara.Error(f"the time series could not be drawn: {feeding.error}")
    SeriesCanvas(series=series)
