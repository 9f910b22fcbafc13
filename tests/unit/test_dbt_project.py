"""The dbt project's declarations, read from the manifest the test session writes."""

from __future__ import annotations

import json
import re

from sco_green.paths import dbt_project_dir


def _nodes() -> dict:
    return json.loads((dbt_project_dir() / "target" / "manifest.json").read_text())["nodes"]


def test_each_staging_model_reads_exactly_one_source_and_nothing_else() -> None:
    staging = [n for n in _nodes().values() if n["resource_type"] == "model" and n["name"].startswith("stg_")]
    assert len(staging) == 4
    for node in staging:
        parents = node["depends_on"]["nodes"]
        assert len(parents) == 1 and parents[0].startswith("source."), node["name"]


def test_each_incremental_fact_digests_every_seed_it_joins() -> None:
    """A fact is taken again in full when its digest (its SQL and the seeds it joins) changes; a
    seed it joins but leaves out of the digest would change its rows unnoticed."""
    nodes = _nodes()
    models = [n for n in nodes.values() if n["resource_type"] == "model"]
    facts = [n for n in models if n["name"].startswith("fct_") and n["config"]["materialized"] == "incremental"]
    assert {n["name"] for n in facts} == {"fct_trade", "fct_recycling_tickets"}
    for node in facts:
        parents = [nodes[p] for p in node["depends_on"]["nodes"] if p in nodes]
        joined = {p["name"] for p in parents if p["resource_type"] == "seed"}
        # The model's digest takes its `seeds` list; the hooks, as dbt parsed them, end with it.
        digested = re.search(r"set seeds = \[([^\]]*)\]", node["raw_code"])
        assert digested and "fact_inputs_digest(seeds)" in node["raw_code"], node["name"]
        assert set(re.findall(r"'(\w+)'", digested[1])) == joined, node["name"]
        hooks = [hook["sql"] for hook in node["config"]["post-hook"]]
        assert len(hooks) == 2, node["name"]
        for hooked in hooks:
            tail = re.search(r", \[('\w+'(?:, '\w+')*)\]\) \}\}$", hooked)
            assert tail and set(re.findall(r"'(\w+)'", tail[1])) == joined, (node["name"], hooked)
