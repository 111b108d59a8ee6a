"""The README documents every config key and every output column, so the two cannot drift apart."""

from pathlib import Path

import pytest

from boneabm.columns import REGISTRY, TABLES, markdown_table
from boneabm.config import Experiment
from boneabm.output import BONE_CSV_COLUMNS, CELLS_COLUMNS, EVENTS_COLUMNS, TIMESERIES_COLUMNS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


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
    assert "`boneabm network [FILE]`" in README


def test_the_committed_model_description_is_up_to_date():
    """docs/model.md is generated (boneabm docs); regenerate it after changing the schema or the network."""
    from boneabm.docs import generate

    committed = (Path(__file__).resolve().parent.parent / "docs" / "model.md").read_text(encoding="utf-8")
    assert committed == generate(), "docs/model.md is stale: run `boneabm docs`"
