"""Handing a live model's state from its step thread to the views' thread. The views used to copy the model's
arrays under its lock, which the step thread holds for a whole recorded interval and takes again at once: the
views' thread, waiting on the lock, got it only now and then (a page allowed 30 frames a second drew 10 of the
assay's 21 simulated hours a second). Now the views ask, and the step thread copies the state out at the end of
its interval, while it holds the lock anyway; when the model is not stepping the views copy it themselves.

With ``every_hour`` the step thread copies out every interval's state into a queue, and a playing model waits
between its steps (``wait_for_views``, without its lock) while more than one copy is queued: every recorded hour is
drawn and the model goes no faster than the page draws. A step never waits inside itself: Step runs in the thread
that also brings the browser's messages, which the views may be waiting for."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from boneabm.app.pacing import WAIT_S


@dataclass
class Copied:
    """A live model's state at ``time_h`` as a frame of ``layer`` draws it: arrays of its own."""

    time_h: float
    layer: str
    parts: list  # snapshots.lineage_cells
    bone: object  # the model's Bone with its mineral depth map (and the collagen's, on that layer) of its own
    field: np.ndarray | None  # the layer's field map (ng/mL) if it is a field's, else None
    history_rows: int  # how many rows of the model's history (LiveModel.history) were recorded then


def copy_out(model, layer: str) -> Copied:
    """What a frame of ``layer`` reads of ``model``, copied (a fraction of a millisecond); the caller holds the
    model's lock or knows it is not stepping."""
    import copy

    from boneabm.draw import LAYERS
    from boneabm.snapshots import field_ng_ml, lineage_cells

    bone = copy.copy(model.bone)
    bone.mineral_depth_um = model.bone.mineral_depth_um.copy()
    # (2 MB a map on the assay's slice, copied while the model waits: only the collagen layer reads this one)
    bone.collagen_depth_um = model.bone.collagen_depth_um.copy() if layer == "collagen_depth_um" else None
    field = None if LAYERS[layer].per_pixel else field_ng_ml(model.fields, layer)
    return Copied(model.time_h, layer, lineage_cells(model), bone, field, len(model.history))


class Handoff:
    """One live model's handoff. The views' thread that takes now ``open``s it with a token of its own (its cancel
    event) and ``take``s; the step thread ``offer``s at the end of each interval (holding the model's lock); a
    playing model's thread ``wait_for_views`` between steps; ``close`` when the views stop. What an older views'
    thread asks or closes (after a reset, or on another layer) does nothing."""

    def __init__(self, lock: threading.Lock):
        self.lock = lock  # the model's, held while it steps
        self._changed = threading.Condition()
        self._taker: object = None  # the token of the views' thread that takes now
        self._wanted: str | None = None  # the layer it wants the next state for; None: nobody asks
        self._every_hour = False
        self._copied: deque[Copied] = deque()  # offered, not taken: in order (every hour), else the newest only

    def open(self, taker: object) -> None:
        """(a views' thread, starting) From now on ``taker`` takes; whatever was offered to another is dropped (a
        copy is of one layer), and until its first ``take`` the steps copy nothing and wait for nobody."""
        with self._changed:
            self._taker, self._wanted, self._every_hour = taker, None, False
            self._copied.clear()
            self._changed.notify_all()

    def offer(self, model) -> None:
        """(the step thread, at the end of a recorded interval, holding the model's lock) Copy the state out if
        the views want it: queued, with every hour wanted; else in place of any copy not taken."""
        with self._changed:
            if self._wanted is None:
                return
            copied = copy_out(model, self._wanted)
            if not self._every_hour:
                self._copied.clear()
                self._wanted = None
            self._copied.append(copied)
            self._changed.notify_all()

    def wait_for_views(self, cancel: threading.Event) -> None:
        """(a playing model's thread, between steps, without the model's lock) With every hour wanted, wait while
        more than one copy waits to be taken: the model steps on while the views pack the last."""
        with self._changed:
            while self._every_hour and len(self._copied) > 1 and not cancel.is_set():
                self._changed.wait(WAIT_S)

    def take(self, model, layer: str, cancel: threading.Event, every_hour: bool = False,
             after_h: float | None = None, taker: object = None) -> Copied | None:
        """(the views' thread ``taker``) The model's state for ``layer``: the next the step thread copies out,
        or, while it is not stepping and nothing is queued, copied now. With ``after_h``, only a state later than
        that hour. None once ``cancel`` is set or another thread has opened the handoff. ``every_hour``: the
        step thread copies out every interval, in order."""
        while True:
            with self._changed:
                if cancel.is_set() or self._taker is not taker:
                    return None
                self._wanted, self._every_hour = layer, every_hour
                while self._copied:
                    copied = self._copied.popleft()
                    self._changed.notify_all()
                    if copied.layer == layer and (after_h is None or copied.time_h > after_h):
                        if not every_hour:
                            self._wanted = None
                        return copied
            if self.lock.acquire(blocking=False):  # not stepping: copy it now, if nothing is queued and it is new
                try:
                    with self._changed:
                        if self._taker is not taker:
                            return None
                        if not self._copied and (after_h is None or model.time_h > after_h):
                            if not every_hour:
                                self._wanted = None
                            return copy_out(model, layer)
                finally:
                    self.lock.release()
            with self._changed:
                if not self._copied:
                    self._changed.wait(WAIT_S)

    def close(self, taker: object) -> None:
        """(a views' thread, stopping) Unless another has opened the handoff since, nobody takes the model's state
        any longer: its steps are copied for no one and nothing waits for the views."""
        with self._changed:
            if self._taker is not taker:
                return
            self._taker, self._wanted, self._every_hour = None, None, False
            self._copied.clear()
            self._changed.notify_all()
