"""The live page's controls: play, pause, step and reset, the steps in a thread of their own that renders
nothing. Mesa's ``ModelController`` re-renders the page after every step (its ``force_update``): profiled
playing the 1.5 mm assay, that render took a seventh of the step thread's time when done in line, or a quarter
of a core beside it in Mesa's own thread (which traces every line it runs, for cancelling). Here the views draw
the newest hour at their own bounded rate (``pacing``), so the steps' pace does not set the page's work; or every
hour, and then ▶ waits for them between steps."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

import solara


@solara.component
def Controller(model: solara.Reactive, build: Callable[[], object]):
    """Reset (a model from ``build()``: the parameters set meanwhile), ▶ / ❚❚ and Step (one recorded interval),
    for the model in ``model``; Step and ▶ are disabled once the model has stopped running."""
    playing = solara.use_reactive(False)
    running = solara.use_reactive(True)
    error = solara.use_reactive(None)  # a step's error, shown under the buttons

    def play(cancel: threading.Event) -> None:
        if not playing.value:
            return
        current = model.value
        try:
            while current.running and not cancel.is_set():
                current.step()
                current.wait_for_views(cancel)  # (only with every hour drawn; never inside a step: see handoff)
        except Exception as exc:  # noqa: BLE001 - shown in the page, as Mesa's controller shows a step's error
            traceback.print_exc()
            error.set(f"error in step: {exc}")
        if not cancel.is_set():  # the model ended (or failed): the buttons say so
            running.set(current.running)
            playing.set(False)

    # a thread while playing; pausing, a reset or another model cancels it between two steps
    solara.use_thread(play, dependencies=[playing.value, model.value], intrusive_cancel=False)

    def step() -> None:
        try:
            model.value.step()
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            error.set(f"error in step: {exc}")
        running.set(model.value.running)

    def reset() -> None:
        playing.set(False)
        error.set(None)
        model.set(build())
        running.set(True)

    with solara.Row(justify="space-between"):
        solara.Button(label="Reset", color="primary", on_click=reset)
        solara.Button(label="❚❚" if playing.value else "▶", color="primary",
                      on_click=lambda: playing.set(not playing.value), disabled=not running.value)
        solara.Button(label="Step", color="primary", on_click=step, disabled=playing.value or not running.value)
    if error.value:
        solara.Error(label=error.value)
