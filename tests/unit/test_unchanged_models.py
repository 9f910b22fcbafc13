"""What a model's, seed's or view's inputs digest is made of: the project's files and the feeds it reads."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sco_green.feeds import FEEDS
from sco_green.paths import dbt_project_dir
from sco_green.unchanged_models import (
    inputs_digest,
    load_manifest,
    model_inputs,
    project_digest,
    seeds_and_views,
    with_downstream_views,
)

FEED_LITERAL = re.compile("['\"](" + "|".join(FEEDS) + ")['\"]")


def _table_models(manifest: dict) -> list[str]:
    return [
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"]["materialized"] in ("table", "incremental")
    ]


def test_each_model_task_reads_exactly_the_feed_its_folder_names() -> None:
    manifest = load_manifest()
    expected = {
        "int_trade__winning_revisions": "trade",
        "fct_trade": "trade",
        "rpt_country_green_trade": "trade",
        "int_recycling__winning_tickets": "recycling",
        "fct_recycling_tickets": "recycling",
        "rpt_park_recycling_monthly": "recycling",
        "dim_members": "members",
        "rpt_alliance_members": "members",
        "rpt_alliance_fields": "members",
    }
    found = {}
    for unique_id in _table_models(manifest):
        inputs = model_inputs(manifest, unique_id)
        assert inputs is not None, unique_id
        found[inputs.name] = inputs.feeds
        assert inputs.schema == ("staging" if inputs.name.startswith("int_") else "marts_build"), unique_id
    assert found == {name: (feed,) for name, feed in expected.items()}


def test_every_ledger_read_upstream_of_a_model_is_filtered_to_that_models_feeds() -> None:
    """The digest counts only a model's own feeds' ledger rows: every node that reads the ledger
    on its way must name the feeds it reads, and only those (a literal in its SQL or config)."""
    manifest = load_manifest()
    ledger = "source.sco_green.audit.load_ledger"
    views = [unique_id for unique_id in seeds_and_views(manifest) if unique_id.startswith("model.")]
    for unique_id in _table_models(manifest) + views:
        feeds = set(model_inputs(manifest, unique_id).feeds)
        pending, seen = [unique_id], set()
        while pending:
            current = pending.pop()
            node = manifest["nodes"].get(current)
            if current in seen or node is None:
                continue
            seen.add(current)
            parents = node["depends_on"].get("nodes", [])
            pending.extend(parents)
            if ledger in parents:
                named = set(FEED_LITERAL.findall(node["raw_code"]))
                assert named and named <= feeds, (unique_id, current, named)


def _manifest(**nodes: dict) -> dict:
    sources = {
        f"source.p.{schema}.{name}": {"source_name": schema, "name": name}
        for schema, name in (("raw", "trade"), ("raw", "members"), ("audit", "load_ledger"), ("crm", "accounts"))
    }
    full = {
        unique_id: {
            "resource_type": "test" if unique_id.startswith("test.") else "model",
            "schema": "marts",
            "name": unique_id.split(".")[-1],
            "depends_on": {"nodes": parents},
        }
        for unique_id, parents in nodes.items()
    }
    return {"nodes": full, "sources": sources}


def test_a_model_reading_only_the_ledger_depends_on_every_feed() -> None:
    manifest = _manifest(**{"model.p.loads": ["source.p.audit.load_ledger"]})
    assert model_inputs(manifest, "model.p.loads").feeds == tuple(sorted(FEEDS))


def test_a_model_reading_only_the_ledger_depends_on_the_feeds_its_sql_names() -> None:
    manifest = _manifest(**{"model.p.loads": ["source.p.audit.load_ledger"]})
    manifest["nodes"]["model.p.loads"]["raw_code"] = "select * from ledger where feed = 'members'"
    assert model_inputs(manifest, "model.p.loads").feeds == ("members",)
    snapshots = model_inputs(load_manifest(), "model.sco_green.stg_members__snapshots")
    assert snapshots.feeds == ("members",)


def test_a_model_reading_any_other_source_is_never_skipped() -> None:
    manifest = _manifest(**{"model.p.mixed": ["source.p.raw.trade", "source.p.crm.accounts"]})
    assert model_inputs(manifest, "model.p.mixed") is None


def test_a_test_on_a_model_brings_the_feeds_of_its_other_parents() -> None:
    manifest = _manifest(
        **{
            "model.p.trade_fact": ["source.p.raw.trade", "source.p.audit.load_ledger"],
            "model.p.member_dim": ["source.p.raw.members"],
            "test.p.relationships": ["model.p.trade_fact", "model.p.member_dim"],
        }
    )
    inputs = model_inputs(manifest, "model.p.trade_fact")
    assert (inputs.schema, inputs.name, inputs.feeds) == ("marts_build", "trade_fact", ("members", "trade"))
    assert model_inputs(manifest, "model.p.member_dim").feeds == ("members", "trade")


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(dbt_project_dir(), copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def test_project_digest_changes_with_any_file_dbt_builds_from(project_copy: Path) -> None:
    before = project_digest(project_copy)
    assert project_digest(project_copy) == before
    for relative in ("macros/current_loads.sql", "seeds/sco_states.csv", "dbt_project.yml"):
        path = project_copy / relative
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert project_digest(project_copy) != before, relative
        path.write_bytes(original)
    (project_copy / "models" / "marts" / "new_model.sql").write_text("select 1 as one\n")
    assert project_digest(project_copy) != before


def test_project_digest_ignores_dbts_own_output_and_logs(project_copy: Path) -> None:
    before = project_digest(project_copy)
    for folder in ("target", "logs"):
        (project_copy / folder).mkdir()
        (project_copy / folder / "run_results.json").write_text("{}")
    assert project_digest(project_copy) == before


def test_inputs_digest_counts_the_table_and_each_feeds_loads_but_not_the_schema() -> None:
    from sco_green.unchanged_models import ModelInputs

    inputs = ModelInputs(schema="marts_build", name="fct_trade", feeds=("trade",))
    digest = inputs_digest("project", inputs, {"trade": "a"})
    assert inputs_digest("project", ModelInputs("marts", "fct_trade", ("trade",)), {"trade": "a"}) == digest
    assert inputs_digest("project", inputs, {"trade": "b"}) != digest
    assert inputs_digest("other", inputs, {"trade": "a"}) != digest
    assert inputs_digest("project", ModelInputs("marts_build", "dim_members", ("trade",)), {"trade": "a"}) != digest


def test_a_model_the_manifest_does_not_know_is_never_skipped() -> None:
    assert model_inputs(_manifest(**{"model.p.known": ["source.p.raw.trade"]}), "model.p.unknown") is None


def test_seeds_and_views_are_every_seed_and_view_and_only_them() -> None:
    manifest = load_manifest()
    kinds = {
        unique_id: node["resource_type"] if node["resource_type"] == "seed" else node["config"]["materialized"]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("seed", "model")
    }
    nodes = seeds_and_views(manifest)
    assert {kinds[unique_id] for unique_id in nodes} == {"seed", "view"}
    assert set(nodes) == {unique_id for unique_id, kind in kinds.items() if kind in ("seed", "view")}


def test_a_seeds_inputs_are_the_project_alone() -> None:
    manifest = load_manifest()
    for unique_id in seeds_and_views(manifest):
        if unique_id.startswith("seed."):
            assert model_inputs(manifest, unique_id).feeds == (), unique_id


def test_a_rebuilt_view_brings_every_view_that_reads_it_and_a_seed_brings_none() -> None:
    """dbt drops a replaced view with cascade, taking the views that read it along."""
    manifest = load_manifest()
    members = "model.sco_green.stg_members__members"
    versions = "model.sco_green.int_members__versions"
    assert members in manifest["nodes"][versions]["depends_on"]["nodes"]
    assert with_downstream_views(manifest, {members}) == {members, versions}
    assert with_downstream_views(manifest, {versions}) == {versions}
    seeds = {unique_id for unique_id in seeds_and_views(manifest) if unique_id.startswith("seed.")}
    assert with_downstream_views(manifest, seeds) == seeds
