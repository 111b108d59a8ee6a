"""Figures of a run directory, written into ``RUN_DIR/figures/``.

Each figure is written to a temporary name and moved into place, so only boneabm's own files are replaced and a
reader never sees half a PNG.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from boneabm.api import load_run  # noqa: E402
from boneabm.errors import UserError  # noqa: E402
from boneabm.files import write_atomically  # noqa: E402

FIGURES = ("population.png", "factors.png", "cells.png", "bone.png")


def _save(fig, path: Path) -> None:
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    write_atomically(path, image.getvalue())


def plot_run(run_dir: str | Path) -> list[Path]:
    """Draw the run's figures (of a ``.partial`` run too, from what it recorded); return their paths."""
    result = load_run(run_dir)
    if result.timeseries.empty or result.cells.empty:
        raise UserError(f"{result.path}: nothing recorded yet to plot (status: {result.status})")
    figures = result.path / "figures"
    figures.mkdir(exist_ok=True)
    ts, cells = result.timeseries, result.cells
    domain = result.config["domain"]
    days = ts["time_h"] / 24.0

    fig, (ax_n, ax_c) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    for column, label in (("n_precursors", "precursors"), ("n_trap_mononuclear", "TRAP⁺ mononuclear"),
                          ("n_multinucleated", "multinucleated"), ("n_osteoclasts", "osteoclasts (≥ 3 nuclei)")):
        ax_n.plot(days, ts[column], label=label)
    ax_n.legend(fontsize=7)
    ax_n.set(xlabel="time (days)", ylabel="cells in the domain", title="Cell population")
    ax_c.plot(days, ts["confluence"], color="tab:green")
    ax_c.set(xlabel="time (days)", ylabel="fraction of sites occupied", ylim=(0, 1.02), title="Confluence")
    _save(fig, figures / FIGURES[0])

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot(days, ts["mcsf_ng_ml"], label="M-CSF")
    ax.plot(days, ts["rankl_free_ng_ml"], label="free RANKL")
    ax.plot(days, ts["opg_free_ng_ml"], label="free OPG")
    ax.set(xlabel="time (days)", ylabel="at the cells (ng/mL)", title="Soluble factors")
    ax.legend()
    _save(fig, figures / FIGURES[1])

    bone = result.bone
    fig, ax = plt.subplots(figsize=(5.5, 4.6), layout="constrained")
    pixel = result.config["domain"]["grid_spacing_um"] / result.config["bone"]["pixels_per_site"]
    depth = np.zeros((round(domain["width_um"] / pixel), round(domain["height_um"] / pixel)))
    depth[(bone["x_um"] / pixel - 0.5).round().astype(int), (bone["y_um"] / pixel - 0.5).round().astype(int)] = \
        bone["mineral_depth_um"]
    image = ax.imshow(depth.T, origin="lower", extent=(0, domain["width_um"], 0, domain["height_um"]),
                      cmap="magma")
    fig.colorbar(image, ax=ax, label="resorbed depth (µm)")
    last = ts.iloc[-1]
    ax.set(xlabel="x (µm)", ylabel="y (µm)",
           title=f"Bone: {last['n_pits']:.0f} pits, {last['n_trenches']:.0f} trenches, "
                 f"{last['resorbed_volume_um3']:.3g} µm³")
    _save(fig, figures / FIGURES[3])

    times = sorted(cells["time_h"].unique())
    shown = [times[0], times[len(times) // 2], times[-1]] if len(times) >= 3 else times
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 4.4), squeeze=False,
                             layout="constrained")
    for ax, t in zip(axes[0], shown):
        at = cells[cells["time_h"] == t]
        ax.scatter(at["x_um"], at["y_um"], s=2, c=at["generation"], cmap="viridis")
        ax.set(xlim=(0, domain["width_um"]), ylim=(0, domain["height_um"]), aspect="equal",
               xlabel="x (µm)", ylabel="y (µm)", title=f"{t / 24:.1f} d: {len(at)} cells")
    fig.suptitle("Cells, coloured by generation")
    _save(fig, figures / FIGURES[2])
    return [figures / name for name in FIGURES]
