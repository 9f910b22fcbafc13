"""The dbt project's declarations, read from the manifest the test session writes."""

from __future__ import annotations

import json

from sco_green.paths import dbt_project_dir


def test_night_reads_name_exactly_the_models_and_seeds_each_incremental_model_refs() -> None:
    """A night decides whether to rebuild a table (macros/nightly_rebuild.sql) from what its
    ``meta.night_reads`` names. Naming other relations than the model reads would count the wrong
    rows; a fact whose list missed a seed it joins would find no watermark for its digest and be
    rebuilt every night."""
    manifest = json.loads((dbt_project_dir() / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    opted = {
        node["name"]: node
        for node in nodes.values()
        if node["resource_type"] == "model" and node["config"]["meta"].get("night_reads")
    }
    incremental = {
        node["name"]
        for node in nodes.values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }
    expected = {"int_trade__winning_revisions", "int_recycling__winning_tickets", "fct_trade", "fct_recycling_tickets",
                "rpt_country_green_trade"}  # fmt: skip
    assert set(opted) == incremental == expected
    for name, node in opted.items():
        reads = node["config"]["meta"]["night_reads"]
        if "records" in reads:
            named = {reads["records"]}
        else:  # a fact, or an aggregate of one (which names its fact too)
            named = {reads["winners"], *reads["seeds"]} | ({reads["facts"]} if "facts" in reads else set())
        refs = {nodes[parent]["name"] for parent in node["depends_on"]["nodes"] if parent in nodes}
        assert named == refs, name
