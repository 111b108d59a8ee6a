"""``boneabm app``: a local web app (Solara, with Mesa's parameter inputs) that runs an experiment live or
replays a finished run from its spatial snapshots. ``target.py`` decides what a path is (before anything
starts), ``server.py`` starts Solara on a loopback port, ``page.py`` is the page it serves, ``live.py`` and
``replay.py`` its two modes (``controls.py``, ``live_views.py`` and ``pacing.py`` the live page's parts),
``frames.py`` what both send the browser and ``canvas.py`` (with its ``.vue`` files) how the browser draws it."""
