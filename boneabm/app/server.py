"""Starting the app: Solara's server on a loopback address, for this machine's browser only."""

from __future__ import annotations

import os
import socket
import sys

from boneabm.app.target import Target
from boneabm.errors import UserError

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def check_port(port: int, host: str = LOOPBACK) -> None:
    if not 0 < port < 65536:
        raise UserError(f"--port {port}: give a port number from 1 to 65535 (or leave it out for a free one)")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: a port just freed is free
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"--port {port}: cannot listen there ({exc.strerror}); leave --port out for a free "
                            "one") from None


def serve(target: Target, port: int | None = None, frame_rate_hz: float | None = None,
          every_hour: bool = False) -> None:
    """Serve the app for ``target`` until interrupted; the address goes to standard output first.
    ``frame_rate_hz``: the live page's (``pacing``; None: its default); ``every_hour``: the live page draws every
    recorded hour instead, the model waiting for it."""
    from boneabm.app.pacing import DEFAULT_FRAME_RATE_HZ, EVERY_HOUR_ENV, FRAME_RATE_ENV, check_frame_rate

    if every_hour and frame_rate_hz is not None:
        raise UserError(f"--fps {frame_rate_hz:g} with --every-hour: give one, a frame rate (the newest hour drawn "
                        "at most that often) or every hour drawn")
    rate_hz = check_frame_rate(DEFAULT_FRAME_RATE_HZ if frame_rate_hz is None else frame_rate_hz)
    if port is None:
        port = free_port()
    else:
        check_port(port)
    os.environ["BONEABM_APP_KIND"], os.environ["BONEABM_APP_PATH"] = target.kind, str(target.path)
    os.environ[FRAME_RATE_ENV] = repr(rate_hz)
    os.environ[EVERY_HOUR_ENV] = "1" if every_hour else "0"
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no calls out of this machine
    os.environ.setdefault("SOLARA_THEME_LOADER", "plain")
    print(f"http://{LOOPBACK}:{port}/", flush=True)
    print(f"boneabm: app for {target.path} ({target.kind}) at http://{LOOPBACK}:{port}/ — Ctrl-C stops it",
          file=sys.stderr, flush=True)
    import functools

    import uvicorn
    from solara.__main__ import cli

    # the websocket uncompressed (Solara's command has no option for it; it builds uvicorn's Config by name): over
    # the loopback, compressing every frame's message only cost the server and the browser CPU, the server's
    # taken from the model's steps
    uvicorn.Config = functools.partial(uvicorn.Config, ws_per_message_deflate=False)
    cli(["run", "boneabm.app.page", "--host", LOOPBACK, "--port", str(port), "--production", "--no-open",
         "--log-level", "warning"], standalone_mode=False)
