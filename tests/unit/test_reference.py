import csv
import gettext

import pycountry

from sco_green import reference
from sco_green.paths import seeds_dir


def test_countries_seed_is_pycountry() -> None:
    zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    expected = {(c.alpha_3, c.alpha_2, c.name, zh.gettext(c.name)) for c in pycountry.countries}
    with open(seeds_dir() / "countries.csv", encoding="utf-8", newline="") as handle:
        seeded = {(r["iso3"], r["iso2"], r["name_en"], r["name_zh"]) for r in csv.DictReader(handle)}
    assert seeded == expected


def test_contract_parks_and_time_zones() -> None:
    tz = reference.park_timezones()
    assert tz["ZIYA"] == "Asia/Shanghai"
    assert tz["BATKEN"] == "Asia/Bishkek"


def test_code_lists_match_the_contract() -> None:
    assert set(reference.member_types()) == {
        "enterprise",
        "association",
        "research_institute",
        "university",
        "park_operator",
    }
    assert set(reference.recycling_segments()) == {
        "waste_mech_elec_dismantling",
        "weee",
        "end_of_life_vehicles",
        "waste_batteries",
        "waste_paper",
    }
    assert len(reference.member_fields()) == 7
    assert set(reference.hs_versions()) == {"HS2017", "HS2022"}


def test_green_categories_follow_the_hs_edition() -> None:
    cats = reference.green_categories()
    assert cats[("HS2022", "854143")] == "solar_pv"
    assert cats[("HS2017", "854140")] == "solar_pv"
    assert ("HS2022", "854140") not in cats
    assert cats[("HS2022", "854912")] == "battery_ewaste"
    assert cats[("HS2017", "854810")] == "battery_ewaste"
    assert cats[("HS2017", "720410")] == "recycled_metals"
    assert ("HS2022", "999999") not in cats


def test_sco_membership_dates() -> None:
    members = {r["iso3"]: r["valid_from"] for r in reference.sco_states() if r["status"] == "member"}
    assert members["BLR"] == "2024-07-04"
    assert members["IRN"] == "2023-07-04"
    assert members["IND"] == members["PAK"] == "2017-06-09"
    for iso in ("CHN", "KAZ", "KGZ", "RUS", "TJK", "UZB"):
        assert members[iso] == "2001-06-15"
    after_merge = {r["status"] for r in reference.sco_states() if r["valid_from"] >= "2025-09-01"}
    assert after_merge == {"partner"}
