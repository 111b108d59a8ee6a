"""What the app's two modes draw: the surface of a frame and the assay's time series, as PNG images rendered by
``boneabm.draw`` (one matplotlib figure per layer, kept and updated between frames)."""

from __future__ import annotations

import io

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


def timeseries_png(ts: pd.DataFrame, area_cm2: float, now_h: float | None = None) -> bytes:
    """Cells per cm² by stage (log axis: precursors outnumber osteoclasts a hundredfold) and the factors at the
    cells, against time; ``now_h`` marked."""
    from boneabm.plot import POPULATION

    fig = Figure(figsize=(6, 4.2), layout="constrained", dpi=DPI)
    FigureCanvasAgg(fig)
    ax_n, ax_f = fig.subplots(2, 1, sharex=True)
    days = ts["time_h"].to_numpy() / 24.0
    for column, label, colour in POPULATION:
        density = ts[column].to_numpy(dtype=float) / area_cm2
        ax_n.plot(days, np.where(density > 0, density, np.nan), label=label, color=colour)
    ax_n.set_yscale("log")
    ax_n.set_ylabel("cells per cm²")
    ax_n.legend(fontsize=6, loc="lower right")
    for column, label in FACTORS:
        if column in ts:
            ax_f.plot(days, ts[column], label=label)
    ax_f.set(xlabel="time (days)", ylabel="at the cells (ng/mL)")
    ax_f.legend(fontsize=6)
    if now_h is not None:
        for ax in (ax_n, ax_f):
            ax.axvline(now_h / 24.0, color="black", lw=0.8)
    return png(fig)
