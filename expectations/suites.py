"""One Great Expectations suite per feed, configured in code from the contract rules."""

from __future__ import annotations

from typing import Any, ClassVar

import great_expectations as gx

from expectations.feed_rules import rules_for, suite_name


class ExpectNoRowsBreakingRule(gx.expectations.UnexpectedRowsExpectation):
    """A contract rule: no row of the file is tagged as breaking it; the count is the result.

    The batch is the file's rule tags (``expectations.rules.tagging_query``: every rule each
    landed row breaks, from one scan of the landed rows), so each expectation counts one rule's.

    GX's UnexpectedRowsExpectation computes two metrics from its query, the row count and a
    sample of the rows, so every query would run twice. The sample is never used here (the
    quarantine holds every tagged row), so only the count is asked.
    """

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.row_count",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine: Any = None) -> dict:
        count = metrics["unexpected_rows_query.row_count"]
        return {"success": count == 0, "result": {"observed_value": count}}


def configure_suite(context: Any, feed_name: str, file_name: str) -> gx.ExpectationSuite:
    """(Re)build the feed's suite in ``context`` for one file: an expectation per rule over the
    file's rule tags, carrying its rule id and severity in ``meta``."""
    name = suite_name(feed_name)
    try:
        context.suites.delete(name)
    except Exception:  # noqa: BLE001 - absent on first use; GX raises its own not-found types
        pass
    suite = context.suites.add(gx.ExpectationSuite(name=name, meta={"feed": feed_name}))
    for rule in rules_for(feed_name, file_name):
        suite.add_expectation(
            ExpectNoRowsBreakingRule(
                unexpected_rows_query=f"SELECT source_row FROM {{batch}} WHERE rule_id = '{rule.rule_id}'",
                description=f"{rule.rule_id}: {rule.description}",
                meta={"rule_id": rule.rule_id, "severity": rule.severity},
            )
        )
    return suite


def configure_members_suite(context: Any, file_name: str) -> gx.ExpectationSuite:
    return configure_suite(context, "members", file_name)


def configure_trade_suite(context: Any, file_name: str) -> gx.ExpectationSuite:
    return configure_suite(context, "trade", file_name)


def configure_recycling_suite(context: Any, file_name: str) -> gx.ExpectationSuite:
    return configure_suite(context, "recycling", file_name)
