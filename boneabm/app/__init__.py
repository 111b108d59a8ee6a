"""``boneabm app``: a local web app (Solara, as Mesa's SolaraViz) that runs an experiment live or replays a
finished run from its spatial snapshots. ``target.py`` decides what a path is (before anything starts),
``server.py`` starts Solara on a loopback port, ``page.py`` is the page it serves, ``live.py`` and
``replay.py`` its two modes, ``views.py`` the drawings both share."""
