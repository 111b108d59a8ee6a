"""How often the live page draws: the newest frame at a bounded wall-clock rate, whatever the model's speed. A
person cannot watch more than a few frames a second; the model records a frame's state every simulated
``time.record_every_h`` and the page shows the newest of them, so what the view costs is bounded by the rate,
not by how fast the model runs (drawing every recorded hour took a core from the model's two threads)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Hashable

from boneabm.errors import UserError

DEFAULT_FRAME_RATE_HZ = 4.0
MAX_FRAME_RATE_HZ = 30.0  # what a screen shows smoothly; more would only load the machine
FRAME_RATE_ENV = "BONEABM_APP_FPS"  # set by ``server.serve`` from ``boneabm app --fps``


def check_frame_rate(rate_hz: float) -> float:
    if not 0 < rate_hz <= MAX_FRAME_RATE_HZ:
        raise UserError(f"--fps {rate_hz:g}: give the live page's frames per second, more than 0 and at most "
                        f"{MAX_FRAME_RATE_HZ:g} (default {DEFAULT_FRAME_RATE_HZ:g})")
    return rate_hz


def frame_rate_hz() -> float:
    """The live page's frame rate, as the server was started with."""
    return float(os.environ.get(FRAME_RATE_ENV, DEFAULT_FRAME_RATE_HZ))


def paced(cancel: threading.Event, newest: Callable[[], Hashable], show: Callable[[], Hashable], rate_hz: float,
          clock: Callable[[], float] = time.monotonic) -> None:
    """Until ``cancel`` is set, once per ``1 / rate_hz`` seconds of ``clock``: if ``newest()`` (a key naming
    what would be drawn now, such as the model's hour; another layer starts another thread) differs from the key
    of the frame shown last, ``show()`` it, which returns the key of what it showed. At most one frame per period, each the newest at
    its turn; a frame that takes longer than a period to show delays the next, never queues it."""
    period_s = 1.0 / rate_hz
    shown = None
    while not cancel.is_set():
        started = clock()
        if newest() != shown:
            shown = show()
        cancel.wait(max(0.0, started + period_s - clock()))
