"""A page showing one frame whose every pixel is known, in the app's surface view (``canvas.SurfaceCanvas``), for
tests/test_app.py to read back from the canvas (``solara run`` serves it). A 440 × 440 µm surface on a 440-px
canvas (one pixel a µm) over a 2 × 2-pixel map, and three cells: a precursor at (100, 340) µm, radius 10 µm; an
osteoclast at (300, 100) µm, radius 30 µm, over a second precursor at its centre."""

import numpy as np
import solara

from boneabm.app.canvas import SurfaceCanvas
from boneabm.app.frames import LEGEND, PALETTE, packed

# the map's pixels, rows from the top: top left, top right, bottom left, bottom right
MAP_RGBA = np.array([[[200, 30, 30, 255], [30, 200, 30, 255]], [[30, 30, 200, 255], [220, 220, 220, 255]]],
                    dtype=np.uint8)
GROUP = {(entry["lineage"], entry["state"]): i for i, entry in enumerate(PALETTE)}
PRECURSOR, OSTEOCLAST = GROUP["osteoclast", "precursor"], GROUP["osteoclast", "osteoclast"]
COUNTS = [0] * len(PALETTE)
COUNTS[PRECURSOR], COUNTS[OSTEOCLAST] = 2, 1
FRAME = {"time_h": 5.0, "width_um": 440.0, "height_um": 440.0, "map_key": "known", "title": "a known frame",
         "cells": {"x_um": packed([100.0, 300.0, 300.0]), "y_um": packed([340.0, 100.0, 100.0]),
                   "radius_um": packed([10.0, 10.0, 30.0]), "counts": COUNTS, "n": 3},
         "scale": {"label": "resorbed depth (µm)", "low": 0.0, "high": 1.0, "gradient": "linear-gradient(red, blue)"}}
MAP = {"key": "known", "rgba": MAP_RGBA.tobytes(), "width": 2, "height": 2}


@solara.component
def Page():
    SurfaceCanvas(frame=FRAME, map=MAP, palette=PALETTE, legend=LEGEND)
