"""``boneabm animate``: a movie of a run's surface over time, one frame per spatial snapshot, through matplotlib's
animation writers: MP4 with the ffmpeg binary the ``imageio-ffmpeg`` wheel ships, GIF with Pillow."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from boneabm.errors import UserError
from boneabm.snapshots import SNAPSHOTS, read_frame, require_snapshots

FORMATS = (".mp4", ".gif")
DEFAULT_NAME = "surface.mp4"


def _writer(suffix: str, fps: float):
    from matplotlib import animation

    if suffix == ".gif":
        return animation.PillowWriter(fps=fps)
    import imageio_ffmpeg

    # the wheel's own binary: nothing to install from the OS
    import matplotlib

    matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
    return animation.FFMpegWriter(fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])


def check_out(out: Path) -> None:
    """Refuse what cannot be written, before any work: another format, an existing file, no folder."""
    if out.suffix.lower() not in FORMATS:
        raise UserError(f"--out {out}: the movie's name must end in {' or '.join(FORMATS)} (the format), not "
                        f"{out.suffix or 'nothing'!r}")
    if out.exists():
        raise UserError(f"--out {out}: already exists; nothing was written (remove it or give a new name)")
    if not out.parent.is_dir():
        raise UserError(f"--out {out}: {out.parent} is not a directory; nothing was written")


def layer_vmax(run_dir: Path, times: list[float], layer: str) -> float:
    """One colour scale for the whole movie: the layer's largest value at any time."""
    high = 0.0
    for t in times:
        with np.load(Path(run_dir) / SNAPSHOTS / "maps" / f"t{t:011.3f}h.npz") as data:
            high = max(high, float(data[layer].max()))
    return high if high > 0 else 1.0


def animate(run_dir: str | Path, out: str | Path | None = None, layer: str = "mineral_depth_um",
            fps: float = 4.0, size_in: float = 6.0, dpi: int = 100) -> Path:
    """Render ``run_dir``'s snapshots into ``out`` (default ``RUN_DIR/figures/surface.mp4``, boneabm's own file,
    replaced); return its path. A given ``out`` is never overwritten."""
    from boneabm.draw import LAYERS, close, surface_figure
    from boneabm.output import read_metadata

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run directory")
    read_metadata(run_dir)
    if layer not in LAYERS:
        raise UserError(f"--layer {layer}: one of {', '.join(LAYERS)}")
    if not fps > 0:
        raise UserError(f"--fps {fps:g}: give a positive number of frames per second")
    given = out is not None
    out = Path(out) if given else run_dir / "figures" / DEFAULT_NAME
    if given:
        check_out(out)
    times = require_snapshots(run_dir)
    import yaml

    config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    site_um = float(config["domain"]["grid_spacing_um"])
    out.parent.mkdir(exist_ok=True)
    fig, view = surface_figure(read_frame(run_dir, times[0]), layer, site_um, size_in,
                               vmax=layer_vmax(run_dir, times, layer))
    # written beside the target under a temporary name, then linked into place: a failed render leaves nothing,
    # and a file that appeared meanwhile is not overwritten
    temporary = out.with_name(f".{out.stem}.{os.getpid()}.{threading.get_ident()}{out.suffix}")
    try:
        writer = _writer(out.suffix.lower(), fps)
        with writer.saving(fig, str(temporary), dpi):
            for i, t in enumerate(times):
                if i:
                    view.update(read_frame(run_dir, t))
                writer.grab_frame()
        if given:
            try:
                os.link(temporary, out)
            except FileExistsError:
                raise UserError(f"--out {out}: already exists; nothing was written") from None
        else:
            os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)
        close(fig)
    return out
