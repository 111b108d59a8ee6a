"""Local sweep workers that start with boneabm already imported.

Dask's local workers are new Python processes, and each imported boneabm (numba, pandas, Mesa, scipy) when its
first run arrived: ≈ 3 s a sweep waited for with the runs ready. Here they are forked from a multiprocessing
fork server that imports boneabm once, started as early as a sweep command knows it will run locally, so the
import happens on the other core while this process reads and checks the sweep. A fork server is a clean
single-threaded process (unlike this one, whose Dask event loop runs in a thread), so forking it is safe.

Light on purpose: this module imports nothing of boneabm's, so starting the server costs nothing here.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading

PRELOAD = ["distributed", "boneabm.sweep.engine", "boneabm.runner"]
# what every local worker process starts with (a fork server's children inherit its environment, and numba
# reads its thread count when it is imported, in the server)
WORKER_ENV = {"NUMBA_NUM_THREADS": "1"}
# after an interrupt, multiprocessing's resource tracker (a process of its own, started with this environment)
# cleans up the workers' queues and warns about each: noise to a user who pressed Ctrl-C
TRACKER_NOISE = "ignore:resource_tracker:UserWarning"


def forking() -> bool:
    """Whether workers can come from a fork server (not on Windows: there they are spawned, and import boneabm
    at their first run)."""
    return "forkserver" in multiprocessing.get_all_start_methods()


def start_worker_server() -> None:
    """Start the fork server local workers are forked from, importing boneabm in the background (idempotent;
    nothing where there is no fork server).

    Ctrl-C reaches every process of the terminal's group: workers would each print a traceback of their own.
    Started with SIGINT ignored (a disposition the server and its children keep), they leave the interrupt to
    this process, which closes the cluster: their runs stop unfinished ("running"), as killed runs do, and
    --resume redoes them."""
    if not forking():
        return
    from multiprocessing import forkserver

    if TRACKER_NOISE not in os.environ.get("PYTHONWARNINGS", ""):
        os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), TRACKER_NOISE]))
    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    main_thread = threading.current_thread() is threading.main_thread()
    previous_signal = signal.signal(signal.SIGINT, signal.SIG_IGN) if main_thread else None
    previous_env = {name: os.environ.get(name) for name in WORKER_ENV}
    os.environ.update(WORKER_ENV)
    try:
        forkserver.ensure_running()
    finally:
        for name, value in previous_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if previous_signal is not None:
            signal.signal(signal.SIGINT, previous_signal)


@contextlib.contextmanager
def interrupts_deferred():
    """Hold a Ctrl-C or SIGTERM that arrives inside the block until it ends, then raise KeyboardInterrupt (as
    the command's own handlers would have). Starting a local cluster is not interruptible halfway: a worker
    half-started left Dask's exit handler and the forked child each printing a traceback. Only the main thread
    can set handlers; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = {number: signal.signal(number, lambda number, frame: received.append(number))
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if received:
        raise KeyboardInterrupt
