"""boneabm: a stochastic agent-based bone remodeling simulator.

Notebook use::

    import boneabm
    result = boneabm.run("mcsf_culture", seed=1)   # a shipped example, or a YAML path
    result.timeseries.plot(x="time_h", y="n_precursors")
    again = boneabm.load_run(result.path)
"""

from boneabm.version import __version__

__all__ = ["Run", "load_run", "run", "__version__"]


def __getattr__(name: str):
    # imported on first use: a process that only parses arguments or spawns sweep workers stays light, and
    # numba is first imported where NUMBA_NUM_THREADS has its final value
    if name in ("Run", "load_run", "run"):
        from boneabm import api

        return getattr(api, name)
    raise AttributeError(f"module 'boneabm' has no attribute {name!r}")
