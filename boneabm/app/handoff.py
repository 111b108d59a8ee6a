"""Handing a live model's state from its step thread to the views' thread. The views used to copy the model's
arrays under its lock, which the step thread holds for a whole recorded interval and takes again at once: the
views' thread, waiting on the lock, got it only now and then (a page allowed 30 frames a second drew 10 of the
assay's 21 simulated hours a second). Now the views ask, and the step thread copies the state out at the end of
its interval, while it holds the lock anyway; when the model is not stepping the views copy it themselves.

With ``every_hour`` the step thread copies out every interval's state and, before copying the next, waits until
the views have taken the last: every recorded hour is drawn and the model goes no faster than the page draws."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

WAIT_S = 0.05  # how often a waiting thread looks again at what could end its wait (a cancel, a model paused)


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
    """One live model's handoff: ``offer`` at the end of each of its steps (holding its lock), ``take`` from the
    views' thread, ``close`` when the views stop taking (a reset, another layer, the page closed)."""

    def __init__(self, lock: threading.Lock):
        self.lock = lock  # the model's, held while it steps
        self._changed = threading.Condition()
        self._wanted: str | None = None  # the layer the views want the next state for; None: nobody asks
        self._every_hour = False
        self._copied: Copied | None = None  # offered, not taken yet
        self._taker: object = None

    def offer(self, model) -> None:
        """(the step thread, at the end of a recorded interval, holding the model's lock) Copy the state out if
        the views want it; with every hour wanted, first wait until they took the last."""
        with self._changed:
            if self._every_hour:
                while self._copied is not None and self._every_hour:
                    self._changed.wait(WAIT_S)
            if self._wanted is None:
                return
            self._copied = copy_out(model, self._wanted)
            if not self._every_hour:
                self._wanted = None
            self._changed.notify_all()

    def take(self, model, layer: str, cancel: threading.Event, every_hour: bool = False,
             after_h: float | None = None, taker: object = None) -> Copied | None:
        """(the views' thread) The model's state for ``layer``: the next the step thread copies out, or, while it
        is not stepping, copied now. With ``after_h``, only a state later than that hour; None once ``cancel`` is
        set. ``every_hour``: from now on the step thread copies out every interval, waiting for this thread.
        ``taker``: who takes (a views' thread), so that only the newest taker's ``close`` stops the offers."""
        while not cancel.is_set():
            with self._changed:
                # (said again each time: a thread that stopped taking may have closed the handoff meanwhile)
                self._wanted, self._every_hour, self._taker = layer, every_hour, taker
                copied, self._copied = self._copied, None
                if copied is not None:
                    self._changed.notify_all()
                    if copied.layer == layer and (after_h is None or copied.time_h > after_h):
                        if not every_hour:
                            self._wanted = None
                        return copied
            if self.lock.acquire(blocking=False):  # not stepping: copy it now, if it is new
                try:
                    if after_h is None or model.time_h > after_h:
                        with self._changed:
                            self._copied = None  # offered at an earlier step's end, or this one's: not newer
                            if not every_hour:
                                self._wanted = None
                            self._changed.notify_all()
                        return copy_out(model, layer)
                finally:
                    self.lock.release()
            with self._changed:
                if self._copied is None:
                    self._changed.wait(WAIT_S)
        return None

    def close(self, taker: object = None) -> None:
        """(a views' thread, stopping) Unless another took since, nobody takes the model's state any longer: its
        steps never wait."""
        with self._changed:
            if self._taker is not taker:
                return
            self._wanted, self._every_hour, self._copied = None, False, None
            self._changed.notify_all()
