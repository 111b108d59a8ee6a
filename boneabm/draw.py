"""Drawing a spatial frame (``boneabm.snapshots.Frame``) with matplotlib: one map layer with its colour bar and
unit, the resorbed areas outlined, and the cells on top, each lineage in its own style. ``boneabm plot``,
``animate`` and ``app`` all draw through ``SurfaceView``, so a replay, a movie and a live view look the same.

A view is built once and updated per frame (new image data and cell offsets, not new axes): a movie of
hundreds of frames or a live page redraws in tens of milliseconds (benchmarks/view_cost.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # files and a web page; never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from boneabm.cells.osteoclast import drawing as osteoclast_drawing  # noqa: E402
from boneabm.draw_style import LineageStyle  # noqa: E402
from boneabm.environment.bone import RESORBED_DEPTH_UM  # noqa: E402 - outlined where the pit metrics count

# every lineage's drawing, by the name its cells carry in a snapshot's ``lineage`` column
LINEAGE_STYLES: dict[str, LineageStyle] = {"osteoclast": osteoclast_drawing.STYLE}


@dataclass(frozen=True)
class Layer:
    label: str
    unit: str
    cmap: str
    per_pixel: bool  # a bone map (per pixel), else a field map (per site)


LAYERS = {
    "mineral_depth_um": Layer("resorbed depth (mineral)", "µm", "magma", True),
    "collagen_depth_um": Layer("collagen removed", "µm", "cividis", True),
    "mcsf_ng_ml": Layer("M-CSF", "ng/mL", "Greens", False),
    "rankl_free_ng_ml": Layer("free RANKL", "ng/mL", "Blues", False),
    "opg_free_ng_ml": Layer("free OPG", "ng/mL", "Purples", False),
    "antibody_free_ng_ml": Layer("free anti-RANKL antibody", "ng/mL", "Oranges", False),
}


def style_of(lineage: str) -> LineageStyle:
    try:
        return LINEAGE_STYLES[lineage]
    except KeyError:
        raise ValueError(f"no drawing registered for the lineage {lineage!r} (boneabm/draw.py LINEAGE_STYLES)") \
            from None


def layer_limits(values: np.ndarray) -> tuple[float, float]:
    """A colour range that shows a flat map as flat (not noise stretched over the whole scale)."""
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if high - low <= 1e-6 * max(abs(high), 1e-12):
        return (0.0, high * 1.05) if high > 0 else (0.0, 1.0)
    return low, high


class SurfaceView:
    """One axes: a map layer, the resorbed areas outlined, every cell as a disk of its drawn size."""

    def __init__(self, ax, frame, layer: str = "mineral_depth_um", site_um: float = 25.0,
                 vmax: float | None = None, legend: bool = True):
        if layer not in LAYERS:
            raise ValueError(f"layer {layer!r}: one of {', '.join(LAYERS)}")
        self.ax, self.layer, self.site_um = ax, layer, site_um
        self.fixed_scale = vmax is not None  # else the colour range follows each frame (a live view)
        self.width_um, self.height_um = frame.width_um, frame.height_um
        info = LAYERS[layer]
        values = frame.maps[layer]
        low, high = layer_limits(values)
        self.image = ax.imshow(values.T, origin="lower", extent=(0, frame.width_um, 0, frame.height_um),
                               cmap=info.cmap, vmin=low if vmax is None else 0.0,
                               vmax=high if vmax is None else vmax, interpolation="nearest")
        self.colourbar = ax.figure.colorbar(self.image, ax=ax, shrink=0.85, label=f"{info.label} ({info.unit})")
        ax.set(xlim=(0, frame.width_um), ylim=(0, frame.height_um), aspect="equal", xlabel="x (µm)",
               ylabel="y (µm)")
        self.outline = None
        self.cells = {}  # (lineage, state) -> PathCollection
        for lineage, style in LINEAGE_STYLES.items():
            for state, colour in style.colours.items():
                self.cells[lineage, state] = ax.scatter([], [], s=[], c=colour, edgecolors="black",
                                                        linewidths=0.2, alpha=0.85, zorder=3)
        if legend:
            handles = [Line2D([], [], ls="", marker="o", color=style.colours[state], label=label)
                       for style in LINEAGE_STYLES.values() for state, label in style.labels.items()]
            handles.append(Line2D([], [], color="cyan", label=f"resorbed > {RESORBED_DEPTH_UM} µm"))
            ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(0, -0.12), ncol=3,
                      frameon=False)
        self.update(frame)

    def _points_per_um(self) -> float:
        fig = self.ax.figure
        width_in = self.ax.get_position().width * fig.get_figwidth()
        return width_in * 72.0 / self.width_um

    def update(self, frame, title: str | None = None) -> None:
        values = frame.maps[self.layer]
        self.image.set_data(values.T)
        if not self.fixed_scale:
            self.image.set_clim(*layer_limits(values))
        depth = frame.maps["mineral_depth_um"]
        if self.outline is not None:
            self.outline.remove()
            self.outline = None
        if (depth > RESORBED_DEPTH_UM).any():
            pixel = frame.width_um / depth.shape[0]
            # the outline at the resorbed threshold, on the pixel centres
            xs, ys = (np.arange(n) * pixel + pixel / 2 for n in depth.shape)
            self.outline = self.ax.contour(xs, ys, depth.T, levels=[RESORBED_DEPTH_UM], colors="cyan",
                                           linewidths=0.8, zorder=2)
        points_per_um = self._points_per_um()
        cells = frame.cells
        lineages = cells["lineage"].astype(str).to_numpy()
        states = cells["state"].astype(str).to_numpy()
        x, y, nuclei = cells["x_um"].to_numpy(), cells["y_um"].to_numpy(), cells["nuclei"].to_numpy()
        for (lineage, state), collection in self.cells.items():
            mask = (lineages == lineage) & (states == state)
            diameter_pt = LINEAGE_STYLES[lineage].diameter_um(nuclei[mask], self.site_um) * points_per_um
            collection.set_offsets(np.column_stack([x[mask], y[mask]]))
            collection.set_sizes(np.maximum(diameter_pt, 1.5) ** 2)  # a point at least: a big dish stays visible
        if title is None:
            title = f"{frame.time_h / 24:.2f} d ({frame.time_h:g} h): {len(cells):,} cells, " \
                    f"{int((states == 'osteoclast').sum())} osteoclasts"
        self.ax.set_title(title, fontsize=9)


def surface_figure(frame, layer: str = "mineral_depth_um", site_um: float = 25.0, size_in: float = 5.5,
                   vmax: float | None = None) -> tuple[Figure, SurfaceView]:
    """A figure holding one ``SurfaceView`` (not registered with pyplot: nothing leaks across frames)."""
    fig = Figure(figsize=(size_in, size_in * 1.05), layout="constrained")
    ax = fig.add_subplot()
    view = SurfaceView(ax, frame, layer, site_um, vmax)
    freeze_layout(fig)
    return fig, view


def freeze_layout(fig) -> None:
    """Lay the figure out once and keep it: frames only change data, and laying out again costs more than
    drawing them."""
    fig.canvas.draw()
    fig.set_layout_engine("none")


def close(fig) -> None:
    plt.close(fig)
