"""The README documents every config key and every output column, so the two cannot drift apart; the docs are
self-contained: every citation resolves inside the repository, and docs/validation.md states every check."""

import argparse
import ast
import dataclasses
import inspect
import re
import subprocess
import textwrap
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from boneabm.columns import REGISTRY, TABLES, markdown_table
from boneabm.config import Experiment
from boneabm.output import BONE_CSV_COLUMNS, CELLS_COLUMNS, EVENTS_COLUMNS, TIMESERIES_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def dotted_keys(model, prefix=""):
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            yield from dotted_keys(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


@pytest.mark.parametrize("key", list(dotted_keys(Experiment)))
def test_every_config_key_is_in_the_readme(key):
    parts = key.split(".")
    generic = ".".join([parts[0], "<factor>", parts[-1]]) if parts[0] == "fields" and len(parts) == 3 else None
    assert f"`{key}`" in README or (generic and f"`{generic}`" in README and f"`{parts[1]}`" in README)


@pytest.mark.parametrize("column", sorted(set(TIMESERIES_COLUMNS + CELLS_COLUMNS + EVENTS_COLUMNS + BONE_CSV_COLUMNS)))
def test_every_output_column_is_in_the_readme(column):
    assert f"`{column}`" in README


@pytest.mark.parametrize("table", TABLES)
def test_the_readme_column_tables_are_the_registry_verbatim(table):
    """Dtype, unit and meaning of every column come from boneabm/columns.py; after changing it, paste the
    output of `python -m boneabm.columns` into the README."""
    assert markdown_table(table) in README, f"README's {table} table is stale: run python -m boneabm.columns"


def test_the_column_tables_say_what_each_column_holds():
    for column in REGISTRY:
        assert column.dtype in ("float64", "int64", "Int64", "category"), column
        assert column.unit and column.meaning, column
        assert bool(column.categories) == (column.dtype == "category"), column


def test_readme_set_up_commands_exist():
    assert "./dev run" in README and "./dev test" in README
    assert (Path(__file__).resolve().parent.parent / "dev").stat().st_mode & 0o111


def test_every_rank_observable_and_counter_is_in_the_readme():
    from boneabm.signaling import load_network

    rank = load_network("rank")
    for name in list(rank.observables) + list(rank.counters):
        assert f"`{name}`" in README, name


def test_every_signaling_command_and_config_is_in_the_readme():
    from boneabm.catalog import examples

    for example in examples():
        assert f"`{example.name}`" in README, example.name
    assert "`boneabm network [FILE] [--format" in README


def test_the_committed_model_description_is_up_to_date():
    """docs/model.md is generated (boneabm docs); regenerate it after changing the schema or the network."""
    from boneabm.docs import generate

    committed = (Path(__file__).resolve().parent.parent / "docs" / "model.md").read_text(encoding="utf-8")
    assert committed == generate(), "docs/model.md is stale: run `boneabm docs`"


# ---------------------------------------------------------------------------- self-contained documentation
#
# Citations point into the repository's docs as `docs/<file>.md#<anchor>` (in code, config descriptions, the
# network's sources, example comments) or as relative markdown links inside markdown files. An anchor is either
# an explicit `<a id="..."></a>` or a heading's GitHub slug: lower case, every character but letters, digits,
# `_`, `-` and spaces dropped, spaces turned into `-`, and a repeated slug suffixed `-1`, `-2`, ...

# Reference notes kept outside the repository, which it must neither cite nor depend on (spelled in pieces so
# that this file does not mention them itself).
EXTERNAL = ["BIO" "LOGY", "REMODEL" "ING", "DESIGN" ".md", ".." "/shared", "/work" "/shared"]
CITATION = re.compile(r"(?<![\w/])docs/([\w.-]+\.md)(?:#([\w-]+))?")
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
EXPLICIT_ANCHOR = re.compile(r'<a\s+(?:id|name)="([^"]+)"')


@cache
def tracked_text_files() -> dict[str, str]:
    """Every text file git tracks (binary and undecodable files skipped), plus the docs not yet added."""
    try:
        listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    names = {n for n in listing.decode().split("\0") if n} | {str(p.relative_to(ROOT)) for p in ROOT.glob("docs/*.md")}
    files = {}
    for name in sorted(names):
        path = ROOT / name
        if not path.is_file():  # deleted in the working tree
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return files


def slug(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    text = path.read_text(encoding="utf-8")
    explicit = EXPLICIT_ANCHOR.findall(text)
    duplicated = [a for a, n in Counter(explicit).items() if n > 1]
    assert not duplicated, f"{path.relative_to(ROOT)}: anchors defined twice: {duplicated}"
    found, seen, fenced = set(explicit), Counter(), False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        heading = None if fenced else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            base = slug(heading.group(1))
            found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
            seen[base] += 1
    return frozenset(found)


def unresolved(target: Path, anchor: str | None) -> str | None:
    """Why a citation of target#anchor does not resolve, or None."""
    if not target.is_file():
        return "no such file"
    if anchor and anchor not in anchors(target):
        return f"no anchor #{anchor} in it"
    return None


def citations_in(text: str):
    for match in CITATION.finditer(text):
        yield match.group(0), ROOT / "docs" / match.group(1), match.group(2)


def test_the_repository_does_not_cite_or_depend_on_notes_outside_it():
    offending = [f"{name}:{n}: {line.strip()}" for name, text in tracked_text_files().items()
                 for n, line in enumerate(text.splitlines(), 1) if any(e in line for e in EXTERNAL)]
    assert not offending, "cite docs/references.md or docs/validation.md instead:\n" + "\n".join(offending)


def test_every_docs_citation_in_the_repository_resolves():
    """`docs/<file>.md#<anchor>` anywhere: README, docs, code, config descriptions, network sources, examples."""
    broken = [f"{name}: {cited}: {why}" for name, text in tracked_text_files().items()
              for cited, target, anchor in citations_in(text) if (why := unresolved(target, anchor))]
    assert not broken, "\n".join(broken)


def test_every_relative_link_in_the_markdown_files_resolves():
    broken = []
    for name, text in tracked_text_files().items():
        if not name.endswith(".md"):
            continue
        here = ROOT / name
        for link in MARKDOWN_LINK.findall(text):
            if re.match(r"[a-z][a-z+.-]*:", link):  # https:, mailto:
                continue
            path, _, anchor = link.partition("#")
            target = (here.parent / path).resolve() if path else here
            if target.suffix != ".md" and target.exists():
                continue  # a directory or a file other than markdown: it exists, no anchors to check
            if why := unresolved(target, anchor or None):
                broken.append(f"{name}: ({link}): {why}")
    assert not broken, "\n".join(broken)


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def check_calls() -> dict[str, dict]:
    """The arguments of the ``Check(...)`` each function in ``validation.CHECKS`` returns, read from its source
    without running anything: {function name: {"key": ..., "source": ..., "expected": ...}}."""
    from boneabm import validation

    names = [f.name for f in dataclasses.fields(validation.Check)]
    calls = {}
    for function in validation.CHECKS:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        found = [node for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Check"]
        assert len(found) == 1, f"{function.__name__}: expected one Check(...) call"
        arguments = dict(zip(names, found[0].args)) | {k.arg: k.value for k in found[0].keywords}
        literal = {}
        for field in ("key", "source", "expected"):
            try:
                literal[field] = ast.literal_eval(arguments[field])
            except ValueError:
                pytest.fail(f"{function.__name__}: Check's {field} must be a literal string so docs can quote it")
        calls[function.__name__] = literal
    return calls


def test_citations_in_config_network_validation_and_cli_texts_resolve():
    """The texts users read at run time (as assembled by Python, not as laid out in the source files)."""
    from boneabm.cli import _parser
    from boneabm.config import Experiment
    from boneabm.signaling import load_network

    texts = {}

    def descriptions(model, prefix=""):
        for name, field in model.model_fields.items():
            texts[f"config {prefix}{name}"] = field.description or ""
            if isinstance(field.annotation, type) and hasattr(field.annotation, "model_fields"):
                descriptions(field.annotation, f"{prefix}{name}.")

    descriptions(Experiment)
    texts |= {f"rank.yaml {name}": p.source for name, p in load_network("rank").spec.parameters.items()}
    texts |= {f"validation {name}": call["source"] for name, call in check_calls().items()}
    texts |= {f"cli {p.prog}": p.format_help() for p in _parsers(_parser())}
    cited = [(where, c) for where, text in texts.items() for c in citations_in(text)]
    assert any(where.startswith("validation") for where, _ in cited)
    broken = [f"{where}: {text}: {why}" for where, (text, target, anchor) in cited
              if (why := unresolved(target, anchor))]
    assert not broken, "\n".join(broken)


def validation_sections() -> list[str]:
    text = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    return [" ".join(section.split()) for section in re.split(r"^## ", text, flags=re.M)]


def test_every_validation_check_is_in_docs_validation_md_with_its_criterion():
    sections = validation_sections()
    for name, call in check_calls().items():
        key, expected = call["key"], " ".join(call["expected"].split())
        section = [s for s in sections if f"Assay check `{key}`" in s]
        assert len(section) == 1, f"docs/validation.md needs one section with 'Assay check `{key}`' ({name})"
        assert f'"{expected}"' in section[0], f"docs/validation.md, `{key}`: quote the criterion {expected!r}"


def test_checks_cited_by_number_are_in_docs_validation_md():
    """'check N' in tests, examples and code names a section 'Check N: ...' of docs/validation.md."""
    headings = {int(n) for n in re.findall(r"^## Check (\d+): ", (ROOT / "docs" / "validation.md").read_text(
        encoding="utf-8"), flags=re.M)}
    assert headings == set(range(1, 15))
    cited = {int(n) for text in tracked_text_files().values()
             for n in re.findall(r"validation\.md#check-(\d+)-", text)}
    assert cited and cited <= headings
