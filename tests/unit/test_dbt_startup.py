"""Which dbt commands may share a parsed manifest, and the behaviour flags' cheap source."""

from __future__ import annotations

import pytest
from dbt_common import behavior_flags

from sco_green import dbt_startup
from sco_green.dbt_startup import _default_source, cheapen_behavior_flag_source, parse_command

GLOBAL_FLAGS = ["--no-write-json", "--log-level-file", "none"]
SELECTION = [
    "--select",
    "fqn:sco_green.intermediate.int_trade__winning_revisions",
    "--exclude",
    "resource_type:seed config.materialized:view",
    "--exclude-resource-type",
    "unit_test",
]
PARSE_FLAGS = [
    "--vars",
    "marts_schema: marts_build\n",
    "--project-dir",
    "/tmp/tmp_copy",
    "--profiles-dir",
    "/srv/dbt_project",
    "--profile",
    "sco_green",
    "--target",
    "warehouse",
    "--no-static-parser",
]
# A model task's command as Cosmos builds it (the dbt executable left out), flags interleaved.
COSMOS_BUILD = [*GLOBAL_FLAGS, "build", *SELECTION[:4], *PARSE_FLAGS[:2], *SELECTION[4:], *PARSE_FLAGS[2:]]


def test_a_build_shares_the_parse_of_its_project_vars_profile_and_target_not_its_selection() -> None:
    parse, project = parse_command([*COSMOS_BUILD, "--full-refresh"])
    assert project == "/tmp/tmp_copy"
    assert parse == [*GLOBAL_FLAGS, "parse", *PARSE_FLAGS]


@pytest.mark.parametrize(
    "command",
    [
        [*COSMOS_BUILD, "--threads", "4"],  # a flag not known to leave the parse alone
        ["docs", "generate", "--project-dir", "/tmp/tmp_copy"],  # not a command that runs nodes
        ["--printer-width", "80", "build", "--project-dir", "/tmp/tmp_copy"],  # a global option not known
        [word for word in COSMOS_BUILD if word not in ("--project-dir", "/tmp/tmp_copy")],  # no project dir
    ],
)
def test_a_command_not_understood_in_full_parses_as_it_always_did(command: list[str]) -> None:
    assert parse_command(command) is None


def _flag_source() -> str:
    behavior = behavior_flags.Behavior([{"name": "some_flag", "default": False, "description": "a flag"}], {})
    return behavior.some_flag._behavior_change_event.flag_source


def test_the_cheap_flag_source_names_the_module_dbt_common_names(monkeypatch: pytest.MonkeyPatch) -> None:
    cheapen_behavior_flag_source()
    assert behavior_flags.BehaviorFlagRendered.__dict__["_default_source"].__func__ is _default_source
    cheap = _flag_source()
    monkeypatch.setattr(behavior_flags.BehaviorFlagRendered, "_default_source", dbt_startup._dbt_common_default_source)
    assert _flag_source() == cheap == __name__
