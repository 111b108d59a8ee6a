"""The browser's side of the app's views: Vue components that draw what ``frames.py`` packs, on a canvas
(the cells from their coordinates, the map as an image under them; the time series as lines on two axes)."""

from __future__ import annotations

from collections.abc import Callable

import solara


@solara.component_vue("surface.vue", vuetify=False)
def SurfaceCanvas(palette: list, legend: list, frame: dict | None = None, map: dict | None = None,
                  caption: str = "", event_ready: Callable | None = None, event_drawn: Callable | None = None):
    """``frame`` and ``map`` from ``frames.surface_payload``; ``palette``: ``frames.PALETTE``; ``legend``:
    ``frames.LEGEND``; ``caption``: a line above it (the live page's simulated time). These as props (a replay's),
    or sent as custom messages (``frames.message``: the live page's), ``event_ready`` called once the view is
    mounted, to be sent them, and ``event_drawn`` with the number of each frame drawn that came as a message. The
    root element says how many frames it drew (``data-frames``), the simulated hour of the last (``data-hour``)
    and what drawing it took the browser (``data-draw-ms``)."""


@solara.component_vue("series.vue", vuetify=False)
def SeriesCanvas(series: dict | None = None, now_d: float | None = None, event_ready: Callable | None = None):
    """``series`` from ``frames.series_payload``, the time shown marked at ``now_d`` (days), as props or
    messages (as ``SurfaceCanvas``'s); the root element counts the frames drawn (``data-frames``)."""
