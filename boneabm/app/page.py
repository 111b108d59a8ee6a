"""The page Solara serves for ``boneabm app``: what to show comes from the environment ``server.py`` set
(the target resolved and checked before the server started)."""

from __future__ import annotations

import os
from pathlib import Path

import solara

from boneabm.app.target import LIVE, RUN, sweep_members

KIND, PATH = os.environ.get("BONEABM_APP_KIND", LIVE), os.environ.get("BONEABM_APP_PATH", "osteoclastogenesis")


@solara.component
def Page():
    if KIND == LIVE:
        from boneabm.app.live import Live

        return Live(PATH)
    from boneabm.app.replay import Replay

    path = Path(PATH)
    runs = [path] if KIND == RUN else sweep_members(path)
    return Replay(runs, f"boneabm: {path.name} (replay)")
