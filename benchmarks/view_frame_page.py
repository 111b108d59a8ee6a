"""A page showing benchmarks/view_cost.py's synthetic frames in the app's surface view, one after the other, for
``view_cost.py frame`` to time the browser's drawing (``solara run`` serves it; the frames' size from the
environment). The root element gathers each draw's time in ``data-draw-ms``."""

import os
import sys
import threading
from pathlib import Path

import solara

sys.path.insert(0, str(Path(__file__).resolve().parent))
from view_cost import synthetic_frames  # noqa: E402

from boneabm.app.canvas import SurfaceCanvas  # noqa: E402
from boneabm.app.frames import LEGEND, PALETTE, MapImages, surface_payload  # noqa: E402

CELLS, PIXELS = int(os.environ["VIEW_FRAME_CELLS"]), int(os.environ["VIEW_FRAME_PIXELS"])
FRAMES, SITE_UM = synthetic_frames(CELLS, PIXELS, int(os.environ["VIEW_FRAME_COUNT"]))
_images = MapImages()
PAYLOADS = [surface_payload(frame, "mineral_depth_um", SITE_UM, _images) for frame in FRAMES]


@solara.component
def Page():
    index, set_index = solara.use_state(0)

    def advance(cancel: threading.Event):
        for i in range(1, len(PAYLOADS)):  # a frame every half second: each drawn before the next arrives
            if cancel.wait(0.5):
                return
            set_index(i)

    solara.use_thread(advance, dependencies=[], intrusive_cancel=False)
    frame, image = PAYLOADS[index]
    SurfaceCanvas(frame=frame, map=image, palette=PALETTE, legend=LEGEND)
