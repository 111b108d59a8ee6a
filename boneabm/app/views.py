"""What the app's two modes draw: the surface of a frame and the assay's time series, as PNG images rendered by
``boneabm.draw`` (one matplotlib figure per layer, kept and updated between frames)."""

from __future__ import annotations

import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from boneabm.draw import LAYERS, surface_figure

DPI = 80  # a 6-inch figure is 480 px: what a laptop's browser shows beside the controls
FACTORS = (("mcsf_ng_ml", "M-CSF"), ("rankl_free_ng_ml", "free RANKL"), ("opg_free_ng_ml", "free OPG"))


def encode(rgba: np.ndarray) -> bytes:
    """Pixels as PNG, at Pillow's fastest compression (a frame is sent once, over the loopback)."""
    from PIL import Image

    image = io.BytesIO()
    Image.fromarray(rgba).save(image, format="png", compress_level=1)
    return image.getvalue()


def png(fig) -> bytes:
    """The whole figure as PNG, drawn on its own canvas (savefig at another resolution than the figure's lays
    every text out again)."""
    fig.canvas.draw()
    return encode(np.asarray(fig.canvas.buffer_rgba()))


class SurfaceRenderer:
    """The surface of successive frames as PNG, one kept figure per layer."""

    def __init__(self, site_um: float, vmax: dict[str, float] | None = None):
        self.site_um, self.vmax = site_um, vmax or {}
        self.views = {}

    def png(self, frame, layer: str, title: str | None = None) -> bytes:
        if layer not in LAYERS:
            raise ValueError(f"layer {layer!r}: one of {', '.join(LAYERS)}")
        if layer not in self.views:
            self.views[layer] = surface_figure(frame, layer, self.site_um, vmax=self.vmax.get(layer), dpi=DPI)
        fig, view = self.views[layer]
        view.update(frame, title)
        return encode(view.blit())


class TimeseriesRenderer:
    """Cells per cm² by stage (log axis: precursors outnumber osteoclasts a hundredfold) and the factors at the
    cells, against the experiment's whole time, with the time shown marked. The axes are fixed (time to
    ``duration_h``, 1 to 10⁶ cells per cm², factors to ``factor_max_ng_ml``) so only the lines are redrawn per
    frame (``Blitter``); a factor above its axis widens it and the figure is drawn whole again."""

    def __init__(self, area_cm2: float, duration_h: float, factor_max_ng_ml: float):
        from boneabm.draw import Blitter, freeze_layout
        from boneabm.plot import POPULATION

        self.area_cm2 = area_cm2
        self.fig = Figure(figsize=(6, 4.2), layout="constrained", dpi=DPI)
        FigureCanvasAgg(self.fig)
        self.ax_n, self.ax_f = self.fig.subplots(2, 1, sharex=True)
        self.counts = {column: self.ax_n.plot([], [], label=label, color=colour)[0]
                       for column, label, colour in POPULATION}
        self.ax_n.set(yscale="log", ylim=(1, 1e6), ylabel="cells per cm²", xlim=(0, duration_h / 24.0))
        self.ax_n.legend(fontsize=6, loc="lower right")
        self.factors = {column: self.ax_f.plot([], [], label=label)[0] for column, label in FACTORS}
        self.ax_f.set(xlabel="time (days)", ylabel="at the cells (ng/mL)", ylim=(0, max(factor_max_ng_ml, 1.0) * 1.2))
        self.ax_f.legend(fontsize=6, loc="upper right")
        self.now = [ax.axvline(0.0, color="black", lw=0.8) for ax in (self.ax_n, self.ax_f)]
        freeze_layout(self.fig)
        self.blitter = Blitter(self.fig)

    def png(self, ts: pd.DataFrame, now_h: float | None = None) -> bytes:
        from boneabm.draw import Blitter

        days = ts["time_h"].to_numpy() / 24.0
        for column, line in self.counts.items():
            density = ts[column].to_numpy(dtype=float) / self.area_cm2
            line.set_data(days, np.where(density > 0, density, np.nan))  # a zero is not drawn on a log axis
        highest = 0.0
        for column, line in self.factors.items():
            values = ts[column].to_numpy(dtype=float) if column in ts else np.full(days.size, np.nan)
            line.set_data(days, values)
            highest = max(highest, np.nanmax(values, initial=0.0))
        if highest > self.ax_f.get_ylim()[1]:
            self.ax_f.set_ylim(0, highest * 1.2)
            self.blitter = Blitter(self.fig)
        for line in self.now:
            line.set_xdata([now_h / 24.0] * 2 if now_h is not None else [np.nan] * 2)
        return encode(self.blitter.draw([*self.counts.values(), *self.factors.values(), *self.now]))


# The live page's frames are drawn in a process of their own, so that drawing (Python and matplotlib, holding the
# GIL) does not take turns with the model's steps in the server's process.
_DRAWING: ProcessPoolExecutor | None = None
_KEPT: dict[tuple, object] = {}  # in the drawing process: each view's renderer, with its kept figure
_KEEP = 4  # renderers kept there (a reset makes a new model, with views of its own)
RENDERERS = {"surface": SurfaceRenderer, "timeseries": TimeseriesRenderer}


def _draw(view: tuple, kind: str, args: tuple, call: tuple) -> bytes:
    if view not in _KEPT:
        while len(_KEPT) >= _KEEP:
            _KEPT.pop(next(iter(_KEPT)))
        _KEPT[view] = RENDERERS[kind](*args)
    return _KEPT[view].png(*call)


def drawn_apart(view: tuple, kind: str, args: tuple, *call) -> bytes:
    """``RENDERERS[kind](*args).png(*call)``, drawn in the drawing process by the renderer kept there for
    ``view`` (a key naming the model and what it shows)."""
    global _DRAWING
    for attempt in range(2):
        if _DRAWING is None:
            _DRAWING = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            return _DRAWING.submit(_draw, view, kind, args, call).result()
        except BrokenProcessPool:
            _DRAWING = None  # the drawing process died (killed, out of memory): a fresh one draws the next frame
            if attempt:
                raise
