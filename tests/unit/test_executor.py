"""The preloading executor never keeps the scheduler from starting."""

from __future__ import annotations

import logging

import pytest

from sco_green import executor


def test_a_preload_that_fails_is_logged_and_the_scheduler_starts_anyway(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(executor, "PRELOAD_MODULE", "sco_green.no_such_engine")
    with caplog.at_level(logging.WARNING, logger=executor.__name__):
        assert executor.preload_validation_engine() is False
    assert "tasks import it themselves" in caplog.text


def test_a_preload_that_succeeds_reports_its_time(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=executor.__name__):
        assert executor.preload_validation_engine() is True
    assert "validation engine preloaded for the workers in" in caplog.text
