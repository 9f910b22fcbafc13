from sco_green.checks import dbt_check_rows

TARGETS = {
    "test.sco_green.not_null_fct_trade_year.abc": ("not_null_fct_trade_year", "fct_trade", "error"),
    "unit_test.sco_green.int_trade__winning_revisions.highest_wins": (
        "highest_wins",
        "int_trade__winning_revisions",
        "error",
    ),
}


def test_each_test_becomes_a_check_row_with_its_model_and_failures() -> None:
    at = "2026-12-05T02:00:00Z"
    results = [
        {"unique_id": "test.sco_green.not_null_fct_trade_year.abc", "status": "fail", "failures": 3, "finished_at": at},
        {
            "unique_id": "unit_test.sco_green.int_trade__winning_revisions.highest_wins",
            "status": "pass",
            "finished_at": at,
        },
        {"unique_id": "model.sco_green.fct_trade", "status": "success", "finished_at": at},
        {"unique_id": "test.sco_green.skipped_one.def", "status": "skipped", "finished_at": at},
    ]
    assert dbt_check_rows(results, TARGETS) == [
        ("2026-12-05T02:00:00Z", "not_null_fct_trade_year", "fct_trade", "error", False, 3),
        ("2026-12-05T02:00:00Z", "highest_wins", "int_trade__winning_revisions", "error", True, 0),
    ]


def test_a_model_that_fails_to_build_is_a_failed_check_of_that_model() -> None:
    results = [{"unique_id": "model.sco_green.fct_trade", "status": "error", "finished_at": ""}]
    assert dbt_check_rows(results, TARGETS) == [(None, "build_fct_trade", "fct_trade", "error", False, 1)]
