"""The warehouse's server requirements, decided before anything is written to it."""

from __future__ import annotations

import pytest

from sco_green.warehouse import WarehouseError, check_server_version


def test_a_server_older_than_postgresql_15_is_refused_with_the_reason() -> None:
    with pytest.raises(WarehouseError, match=r"runs PostgreSQL 14; the nightly needs 15 or later .*MERGE"):
        check_server_version(140013)


@pytest.mark.parametrize("version", [150000, 150020, 180001])
def test_postgresql_15_and_later_are_accepted(version: int) -> None:
    check_server_version(version)
