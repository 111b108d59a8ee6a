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


def serve(target: Target, port: int | None = None) -> None:
    """Serve the app for ``target`` until interrupted; the address goes to standard output first."""
    if port is None:
        port = free_port()
    else:
        check_port(port)
    os.environ["BONEABM_APP_KIND"], os.environ["BONEABM_APP_PATH"] = target.kind, str(target.path)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")  # no calls out of this machine
    os.environ.setdefault("SOLARA_THEME_LOADER", "plain")
    print(f"http://{LOOPBACK}:{port}/", flush=True)
    print(f"boneabm: app for {target.path} ({target.kind}) at http://{LOOPBACK}:{port}/ — Ctrl-C stops it",
          file=sys.stderr, flush=True)
    from solara.__main__ import cli

    cli(["run", "boneabm.app.page", "--host", LOOPBACK, "--port", str(port), "--production", "--no-open",
         "--log-level", "warning"], standalone_mode=False)
