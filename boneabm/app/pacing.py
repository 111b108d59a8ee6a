"""How often the live page draws. By default (``paced``) the newest frame at a bounded wall-clock rate, whatever
the model's speed: a person cannot watch more than a few frames a second; the model records a frame's state every
simulated ``time.record_every_h`` and the page shows the newest of them, so what the view costs is bounded by the
rate, not by how fast the model runs. With ``boneabm app --every-hour`` (``each_hour``) every recorded state is
drawn, in order, none skipped, and the model waits for the page when the page is the slower: to watch each hour
of fusion or resorption, at the cost of the model's speed (README, Performance)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Hashable

from boneabm.errors import UserError

DEFAULT_FRAME_RATE_HZ = 4.0
MAX_FRAME_RATE_HZ = 30.0  # what a screen shows smoothly; more would only load the machine
FRAME_RATE_ENV = "BONEABM_APP_FPS"  # set by ``server.serve`` from ``boneabm app --fps``
EVERY_HOUR_ENV = "BONEABM_APP_EVERY_HOUR"  # set by ``server.serve`` from ``boneabm app --every-hour``
UNDER_WAY = 2  # frames sent and not yet drawn when every hour is drawn: one drawn while the next is packed
WAIT_S = 0.05  # how often a waiting thread looks again at what could end its wait (a cancel, a model paused)


def check_frame_rate(rate_hz: float) -> float:
    if not 0 < rate_hz <= MAX_FRAME_RATE_HZ:
        raise UserError(f"--fps {rate_hz:g}: give the live page's frames per second, more than 0 and at most "
                        f"{MAX_FRAME_RATE_HZ:g} (default {DEFAULT_FRAME_RATE_HZ:g})")
    return rate_hz


def frame_rate_hz() -> float:
    """The live page's frame rate, as the server was started with."""
    return float(os.environ.get(FRAME_RATE_ENV, DEFAULT_FRAME_RATE_HZ))


def every_hour() -> bool:
    """Whether the live page draws every recorded hour (``boneabm app --every-hour``), not the newest at a rate."""
    return os.environ.get(EVERY_HOUR_ENV) == "1"


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


def each_hour(cancel: threading.Event, show_after: Callable[[float | None], tuple[float, int] | None],
              drawn: Callable[[int, float], bool]) -> None:
    """Until ``cancel`` is set, show every state the model records, in order: ``show_after(hour)`` waits for the
    model's first state after ``hour`` (None: its state now), shows it and returns its hour and the number the
    browser will say back once it has drawn it (None if nothing was shown). At most ``UNDER_WAY`` frames are under
    way: the next is shown once the browser has drawn the one before the last (``drawn(number, timeout_s)``:
    whether it has, waiting at most the timeout), so the model, which waits for this thread between its steps
    (``handoff``), goes at the page's pace when that is the slower."""
    shown: list[tuple[float, int]] = []
    while not cancel.is_set():
        result = show_after(shown[-1][0] if shown else None)
        if result is None:  # cancelled, or the browser's view not mounted yet
            cancel.wait(WAIT_S)
            continue
        shown = [*shown[-(UNDER_WAY - 1):], result]
        while len(shown) == UNDER_WAY and not cancel.is_set() and not drawn(shown[0][1], WAIT_S):
            pass


def pace_text() -> str:
    """What the live page says of how it draws."""
    if every_hour():
        return "every hour, the model waiting for the page (boneabm app --every-hour)"
    return f"the newest hour, at most {frame_rate_hz():g} frames a second (boneabm app --fps)"
