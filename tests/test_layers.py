"""The package's layers: no import cycles among boneabm's modules, and the search-order cache."""

import ast
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import boneabm
from boneabm.signaling.network import load_network, network_from_dict, network_path
from boneabm.signaling.search_order import CACHE_KIND, order_key
from boneabm.yamlio import read_yaml

ROOT = Path(boneabm.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = ("boneabm", *path.relative_to(ROOT).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imports(tree: ast.AST):
    """Every import statement that can run: module level and inside functions, not under TYPE_CHECKING."""
    for node in ast.iter_child_nodes(tree):
        if _is_type_checking(node):
            yield from (n for child in node.orelse for n in [child] + list(_imports(child))
                        if isinstance(n, (ast.Import, ast.ImportFrom)))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _imports(node)


def import_graph() -> dict[str, set[str]]:
    """module -> the boneabm modules it imports (a ``from package import name`` counts as the submodule when
    ``name`` is one, else as the package)."""
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of nodes (first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_among_boneabm_modules():
    graph = import_graph()
    assert {"boneabm.config", "boneabm.signaling.network", "boneabm.yamlio"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_low_layers_import_neither_config_nor_signaling():
    graph = import_graph()
    assert "boneabm.config" not in graph["boneabm.signaling.network"]
    for low in ("boneabm.yamlio", "boneabm.errors", "boneabm.files", "boneabm.cache", "boneabm.version"):
        assert not {m for m in graph[low] if m.startswith(("boneabm.config", "boneabm.signaling"))}, low


def test_version_module_matches_the_package_metadata():
    pyproject = tomllib.loads((ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert boneabm.__version__ == pyproject["project"]["version"]


# ------------------------------------------------------------------------------------------------------------
# The search order is cached on disk


_LOAD = """
import json, sys
import boneabm.signaling.simulate as simulate
if sys.argv[1] == "forbid-solver":
    def refuse(*args, **kwargs):
        raise AssertionError("the solver ran although the cache was warm")
    simulate.firing_frequency_order = refuse
from boneabm.signaling.network import load_network
print(json.dumps(load_network("rank").arrays.search_order.tolist()))
"""


def _load_in_fresh_process(cache_dir: Path, mode: str) -> list[int]:
    env = {**os.environ, "BONEABM_CACHE_DIR": str(cache_dir)}
    done = subprocess.run([sys.executable, "-c", _LOAD, mode], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_warm_cache_orders_the_search_without_running_the_solver(tmp_path):
    cold = _load_in_fresh_process(tmp_path / "cache", "compute")
    assert len(list((tmp_path / "cache" / CACHE_KIND).glob("*.json"))) == 1
    warm = _load_in_fresh_process(tmp_path / "cache", "forbid-solver")
    assert warm == cold
    # and it is the order the solver finds
    from boneabm.signaling.simulate import firing_frequency_order

    network = load_network("rank")
    unordered = network.arrays._replace(search_order=np.arange(network.n_reactions))
    import dataclasses

    computed = firing_frequency_order(dataclasses.replace(network, arrays=unordered),
                                      network.spec.reference_inputs)
    assert computed.tolist() == cold


def test_a_changed_parameter_changes_the_key_and_nothing_else_does(tmp_path):
    data = read_yaml(network_path("rank"))
    key = order_key(load_network("rank").spec)
    # the same content from another place, or re-read, gives the same key
    assert order_key(network_from_dict(data, "elsewhere").spec) == key
    name = next(iter(data["parameters"]))
    changed = {**data, "parameters": {**data["parameters"],
                                      name: {**data["parameters"][name],
                                             "value": data["parameters"][name]["value"] * 1.01}}}
    assert order_key(network_from_dict(changed).spec) != key


def test_an_unwritable_or_damaged_cache_never_fails_a_load(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("BONEABM_CACHE_DIR", str(blocker))
    data = read_yaml(network_path("rank"))
    network = network_from_dict(data)
    assert sorted(network.arrays.search_order.tolist()) == list(range(network.n_reactions))
    # a damaged entry is recomputed and replaced
    monkeypatch.setenv("BONEABM_CACHE_DIR", str(tmp_path / "cache"))
    entry = tmp_path / "cache" / CACHE_KIND / f"{order_key(network.spec)}.json"
    entry.parent.mkdir(parents=True)
    entry.write_text('{"reactions": ["no_such_reaction"]}')
    again = network_from_dict(data)
    assert again.arrays.search_order.tolist() == network.arrays.search_order.tolist()
    assert len(json.loads(entry.read_text())["reactions"]) == network.n_reactions


@pytest.mark.parametrize("kind", [str, bytes])
def test_the_atomic_writer_takes_text_or_bytes_and_leaves_no_temporary(tmp_path, kind):
    from boneabm.files import write_atomically

    path = tmp_path / "out.txt"
    as_kind = (lambda text: text) if kind is str else (lambda text: text.encode("utf-8"))
    write_atomically(path, as_kind("µm old"))
    write_atomically(path, as_kind("µm new"))
    assert path.read_text(encoding="utf-8") == "µm new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
