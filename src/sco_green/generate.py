"""Deterministic, realistic sample feeds for the three feeds, cycle by cycle.

``generate(out, cycle=N)`` writes the inbox as it stands on night N: the files of
nights 1..N (an inbox keeps old files), so running night after night over it
exercises skips, duplicates, corrected re-drops, revisions and VOID tickets. With
``faults`` every contract rule is broken by exactly one row (or pair, for keys),
and the encodings, duplicates and rejects the contract names are present.

Rows are written as they are produced, so the large scale (5M trade rows, 1M
tickets) runs in bounded memory.
"""

from __future__ import annotations

import csv
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

from sco_green import reference
from sco_green.feeds import MEMBERS, RECYCLING, TRADE
from sco_green.progress import Progress

CYCLE_DATES = (date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31))
TRADE_YEARS = tuple(range(2020, 2026))
TICKET_YEAR = 2025


@dataclass(frozen=True)
class Scale:
    trade_rows: int
    tickets_per_park_half: int
    members: int


SCALES = {
    "small": Scale(trade_rows=2_400, tickets_per_park_half=300, members=86),
    "medium": Scale(trade_rows=200_000, tickets_per_park_half=12_500, members=86),
    "large": Scale(trade_rows=5_000_000, tickets_per_park_half=500_000, members=86),
    # The load benchmark's grid: about a million, and five million, records of each feed.
    "1m": Scale(trade_rows=1_000_000, tickets_per_park_half=500_000, members=86),
    "5m": Scale(trade_rows=5_000_000, tickets_per_park_half=2_500_000, members=86),
}

SCO_MEMBERS = ("CHN", "KAZ", "KGZ", "RUS", "TJK", "UZB", "IND", "PAK", "IRN", "BLR")
PARTNERS = ("MNG", "AFG", "TUR", "AZE", "ARM", "KHM", "NPL", "LKA", "EGY", "QAT", "SAU", "ARE", "LAO")
OTHERS = ("DEU", "USA", "JPN", "KOR", "VNM", "THA", "BRA", "IDN", "MYS", "ITA")

PARK_OFFSETS = {"ZIYA": timezone(timedelta(hours=8)), "BATKEN": timezone(timedelta(hours=6))}

MATERIALS = {
    "waste_mech_elec_dismantling": ("废旧电机", "废变压器", "waste motors"),
    "weee": ("废旧电视机", "废冰箱", "废旧电脑"),
    "end_of_life_vehicles": ("报废乘用车", "报废货车车身"),
    "waste_batteries": ("废铅酸蓄电池", "废锂离子电池"),
    "waste_paper": ("废纸箱", "混合废纸", "OCC"),
}
HAZARDOUS_SEGMENTS = {"waste_batteries": "900-052-31", "weee": "900-045-49"}

EN_PREFIX = ("Tianjin", "Ziya", "Silk Road", "Almaty", "Tashkent", "Bishkek", "Minsk", "Lahore", "Jinghai", "Eurasia")
EN_CORE = ("Green Energy", "Resource Recycling", "Eco Materials", "Clean Power", "Circular Metals", "Low Carbon")
EN_SUFFIX = {
    "enterprise": "Co., Ltd.",
    "association": "Association",
    "research_institute": "Research Institute",
    "university": "University",
    "park_operator": "Park Development Co.",
}
ZH_PREFIX = ("天津", "子牙", "丝路", "阿拉木图", "塔什干", "比什凯克", "明斯克", "拉合尔", "静海", "欧亚")
ZH_CORE = ("绿色能源", "资源循环", "生态材料", "清洁电力", "再生金属", "低碳")
ZH_SUFFIX = {
    "enterprise": "有限公司",
    "association": "协会",
    "research_institute": "研究院",
    "university": "大学",
    "park_operator": "园区开发有限公司",
}


def cycle_date(cycle: int) -> date:
    return CYCLE_DATES[min(cycle, len(CYCLE_DATES)) - 1]


def _writer(path: Path, encoding: str = "utf-8") -> tuple[TextIO, csv.writer]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "w", encoding=encoding, newline="")
    return handle, csv.writer(handle, lineterminator="\r\n")


# ----------------------------------------------------------------- members


@dataclass
class Member:
    member_id: str
    name_en: str
    name_zh: str
    member_type: str
    country_iso3: str
    fields: list[str]
    joined_on: date


def _members(rng: random.Random, count: int) -> list[Member]:
    types = reference.member_types()
    weights = (60, 10, 12, 10, 8)
    countries = ("CHN",) * 12 + SCO_MEMBERS[1:] + ("MNG", "TUR", "AZE")
    fields = reference.member_fields()
    members = []
    for i in range(1, count + 1):
        kind = rng.choices(types, weights)[0]
        p = rng.randrange(len(EN_PREFIX))
        c = rng.randrange(len(EN_CORE))
        members.append(
            Member(
                member_id=f"SCOGA-{i:04d}",
                name_en=f"{EN_PREFIX[p]} {EN_CORE[c]} {EN_SUFFIX[kind]} {i}",
                name_zh=f"{ZH_PREFIX[p]}{ZH_CORE[c]}{ZH_SUFFIX[kind]}{i}号",
                member_type=kind,
                country_iso3=rng.choice(countries),
                fields=sorted(rng.sample(fields, rng.randint(1, 3))),
                joined_on=date(2025, 9, 1) + timedelta(days=rng.randrange(0, 90)),
            )
        )
    return members


def _member_snapshot(members: list[Member], cycle: int) -> list[Member]:
    """Night 2: member 5 leaves and member 7 changes type; night 3: member 5 is back."""
    snapshot = []
    for m in members:
        if m.member_id == "SCOGA-0005" and cycle == 2:
            continue
        if m.member_id == "SCOGA-0007" and cycle >= 2:
            m = Member(**{**m.__dict__, "member_type": "park_operator"})
        snapshot.append(m)
    return snapshot


def write_members(out: Path, rng: random.Random, scale: Scale, cycle: int, faults: bool) -> Path:
    snap = cycle_date(cycle)
    path = out / "members" / f"members_{snap:%Y%m%d}.csv"
    # The first snapshot arrives as UTF-8 with BOM, the second in GB18030 (both contract encodings).
    encoding = "utf-8-sig" if cycle == 1 else ("gb18030" if cycle == 2 and faults else "utf-8")
    handle, w = _writer(path, encoding)
    with handle:
        w.writerow(MEMBERS.column_names)
        for m in _member_snapshot(_members(random.Random(rng.random()), scale.members), cycle):
            w.writerow(
                [
                    snap.isoformat(),
                    m.member_id,
                    m.name_en,
                    m.name_zh,
                    m.member_type,
                    m.country_iso3,
                    ";".join(m.fields),
                    m.joined_on.isoformat(),
                ]
            )
        if faults and cycle == 1:
            for rows in member_fault_rows(snap).values():
                w.writerows(rows)
    return path


def member_fault_rows(snap: date) -> dict[str, list[list[str]]]:
    """For each members rule, rows that break that rule and no other."""
    good = [snap.isoformat(), "", "Bad Row Ltd.", "坏数据", "enterprise", "CHN", "green_services", "2025-10-01"]

    def bad(i: int, column: str, value: str) -> list[list[str]]:
        row = list(good)
        row[1] = f"BAD-{i:02d}"
        row[MEMBERS.column_names.index(column)] = value
        return [row]

    return {
        "M01": bad(1, "snapshot_date", (snap - timedelta(days=1)).isoformat()),
        "M02": bad(2, "member_id", ""),
        "M03": bad(3, "name_en", ""),
        "M04": bad(4, "member_type", "ngo"),
        "M05": bad(5, "country_iso3", "XXX"),
        "M06": bad(6, "fields", "green_services;space_mining"),
        "M07": bad(7, "joined_on", (snap + timedelta(days=3)).isoformat()),
    }


# ------------------------------------------------------------------- trade


def _hs_pool(rng: random.Random, version: str, others: int) -> list[str]:
    """Green codes first, then other codes (below 900000: fault rows use 9x0000)."""
    green = sorted(hs for (v, hs) in reference.green_categories() if v == version)
    other: set[str] = set()
    while len(other) < others:
        other.add(f"{rng.randrange(100000, 899999):06d}")
    # A few codes with leading zeros: they must stay text.
    return green + sorted(other - set(green)) + ["030211", "020130", "090111"]


def _trade_rows(rng: random.Random, target: int, revision: int = 0) -> Iterator[list[str]]:
    """Unique keys, green codes over-represented, a WLD aggregate per reporter/year/flow/code."""
    reporters = SCO_MEMBERS
    partners = SCO_MEMBERS + PARTNERS + OTHERS
    combos = len(TRADE_YEARS) * len(reporters) * 2
    per_combo = max(1, -(-target // combos))
    others = max(300, 2 * per_combo // len(partners))
    pools = {v: _hs_pool(random.Random(v), v, others) for v in ("HS2017", "HS2022")}
    produced = 0
    base_price: dict[str, float] = {}
    for year in TRADE_YEARS:
        version = "HS2017" if year < 2022 else "HS2022"
        pool = pools[version]
        for reporter in reporters:
            for flow in ("X", "M"):
                keys: set[tuple[str, str]] = set()
                wanted = min(per_combo, target - produced)
                while len(keys) < wanted:
                    hs6 = pool[rng.randrange(len(pool))] if rng.random() < 0.5 else pool[rng.randrange(40)]
                    partner = partners[rng.randrange(len(partners))]
                    if partner == reporter:
                        continue
                    keys.add((partner, hs6))
                for partner, hs6 in sorted(keys):
                    price = base_price.setdefault(hs6, rng.uniform(0.3, 40.0))
                    weight = rng.randint(1_000, 5_000_000)
                    value = round(weight * price * rng.uniform(0.7, 1.3), 2)
                    yield [str(year), reporter, partner, flow, version, hs6, f"{value:.2f}", str(weight), str(revision)]
                    produced += 1
                if produced >= target:
                    return


def write_trade(out: Path, rng: random.Random, scale: Scale, cycle: int, faults: bool) -> list[Path]:
    paths = []
    main = out / "trade" / "trade_2020_2025_r0.csv"
    fixed = cycle >= 2  # night 2 re-drops the same name with the bad rows corrected
    handle, w = _writer(main)
    with handle:
        w.writerow(TRADE.column_names)
        count = 0
        wld: dict[tuple[str, str, str, str, str], list[float]] = {}
        progress = Progress(f"generate {main.name}", total=scale.trade_rows)
        for row in _trade_rows(random.Random(rng.random()), scale.trade_rows):
            w.writerow(row)
            count += 1
            if count % 10_000 == 0:
                progress.update(count, count)
            if row[0] in ("2024", "2025") and count % 7 == 0:
                k = (row[0], row[1], row[3], row[4], row[5])
                agg = wld.setdefault(k, [0.0, 0.0])
                agg[0] += float(row[6])
                agg[1] += float(row[7])
        progress.finish(count)
        for (year, reporter, flow, version, hs6), (value, weight) in sorted(wld.items()):
            w.writerow([year, reporter, "WLD", flow, version, hs6, f"{value:.2f}", f"{weight:.0f}", "0"])
        if faults:
            for rows in trade_fault_rows(corrected=fixed).values():
                w.writerows(rows)
    paths.append(main)
    if cycle >= 2:
        paths.append(_write_trade_revisions(out, faults))
        if faults:
            dup = out / "trade" / "trade_2020_2025_r0_copy.csv"
            shutil.copyfile(main, dup)
            paths.append(dup)
            broken = out / "trade" / "trade_missing_column.csv"
            bh, bw = _writer(broken)
            with bh:
                bw.writerow([c for c in TRADE.column_names if c != "revision"])
                bw.writerow(["2025", "CHN", "KAZ", "X", "HS2022", "854143", "10.00", "1"])
            latin = out / "trade" / "trade_legacy_latin1.csv"
            latin.write_bytes(
                (
                    ",".join(TRADE.column_names) + "\r\n2025,CHN,KAZ,X,HS2022,854143,10.00,1,0\r\n"
                    "# caf\xe9 \xa3 \xff\xfe\r\n"
                ).encode("latin-1")
            )
            paths += [broken, latin]
    return paths


def trade_fault_rows(corrected: bool = False) -> dict[str, list[list[str]]]:
    """For each trade rule, rows that break that rule and no other (``corrected``: the fixed versions)."""
    good = ["2025", "KAZ", "CHN", "X", "HS2022", "854143", "1000.00", "100", "0"]
    rows: dict[str, list[list[str]]] = {}
    faults = {
        "T01": (0, "1999"),
        "T02": (1, "KZX"),
        "T03": (2, "KAZ"),
        "T04": (3, "E"),
        "T05": (4, "HS2012"),
        "T06": (5, "85414"),
        "T07": (6, "-5"),
        "T08": (7, "12,5"),
        "T09": (8, "-1"),
    }
    for i, (rule, (col, value)) in enumerate(faults.items()):
        row = list(good)
        row[2] = ("ARM", "AZE", "EGY", "QAT", "SAU", "ARE", "BHR", "KWT", "MDV")[i]
        row[5] = f"9{i}0000"
        if not corrected:
            row[col] = value
        rows[rule] = [row]
    pair = ["2025", "KGZ", "MMR", "M", "HS2022", "870380", "55000.00", "20000", "0"]
    rows["T10"] = [pair, list(pair) if not corrected else pair[:5] + ["850760", "700.00", "50", "0"]]
    return rows


def _write_trade_revisions(out: Path, faults: bool) -> Path:
    """Revised 2025 figures from China: revision 1 beats revision 0; one stale revision is ignored."""
    path = out / "trade" / "trade_2025_r1.csv"
    handle, w = _writer(path)
    with handle:
        header = list(TRADE.column_names) + (["source_note"] if faults else [])
        w.writerow(header)
        rows = [
            ["2025", "CHN", "KAZ", "X", "HS2022", "854143", "9999999.00", "450000", "1"],
            ["2025", "CHN", "RUS", "X", "HS2022", "850760", "7777777.00", "120000", "1"],
            ["2025", "KGZ", "MMR", "M", "HS2022", "870380", "60000.00", "21000", "0"],
        ]
        for row in rows:
            w.writerow(row + (["customs revision"] if faults else []))
    return path


# --------------------------------------------------------------- recycling


def _tickets(rng: random.Random, park: str, half: int, count: int) -> Iterator[list[str]]:
    offset = PARK_OFFSETS[park]
    segments = reference.recycling_segments()
    start = datetime(TICKET_YEAR, 1 if half == 1 else 7, 1, tzinfo=offset)
    span = datetime(TICKET_YEAR, 7 if half == 1 else 12, 31 if half == 2 else 1, 23, 0, tzinfo=offset) - start
    seconds = int(span.total_seconds())
    for i in range(count):
        segment = segments[rng.randrange(len(segments))]
        weigh_in = start + timedelta(seconds=rng.randrange(seconds))
        weigh_out = weigh_in + timedelta(minutes=rng.randint(4, 90))
        tare = rng.randint(8_000, 16_000)
        cargo = rng.randint(500, 30_000)
        deduction = rng.choice((0, 0, 0, rng.randint(1, 200)))
        gross = tare + cargo + deduction
        net = gross - tare - deduction
        direction = "IN" if rng.random() < 0.7 else "OUT"
        hw = HAZARDOUS_SEGMENTS.get(segment) if rng.random() < 0.3 else None
        origin = "CHN" if park == "ZIYA" else "KGZ"
        destination = origin if direction == "IN" else rng.choice(("CHN", "KAZ", "RUS", "UZB", "PAK", "BLR"))
        yield [
            park,
            f"{park[:2]}{half}-{i + 1:07d}",
            f"ENT-{rng.randint(1, 900):04d}",
            direction,
            segment,
            rng.choice(MATERIALS[segment]),
            weigh_in.isoformat(timespec="seconds"),
            weigh_out.isoformat(timespec="seconds"),
            f"{gross}.0",
            f"{tare}.0",
            "" if deduction == 0 and rng.random() < 0.5 else f"{deduction}",
            f"{net}.0",
            hw or "",
            f"MF{rng.randint(10**7, 10**8 - 1)}" if hw else "",
            origin if rng.random() < 0.8 else "",
            destination if rng.random() < 0.8 else "",
            "OK",
        ]


def ticket_fault_rows(park: str = "ZIYA") -> dict[str, list[list[str]]]:
    """For each recycling rule, rows that break that rule and no other."""
    good = [
        park,
        "",
        "ENT-0001",
        "IN",
        "weee",
        "废冰箱",
        "2025-03-10T09:00:00+08:00",
        "2025-03-10T09:20:00+08:00",
        "12000",
        "9000",
        "",
        "3000",
        "",
        "",
        "CHN",
        "CHN",
        "OK",
    ]
    cols = RECYCLING.column_names

    def bad(n: int, **changes: str) -> list[str]:
        row = list(good)
        row[1] = f"BAD-{n:02d}"
        for column, value in changes.items():
            row[cols.index(column)] = value
        return row

    return {
        "R01": [bad(1, park_id="NOWHERE")],
        "R02": [bad(2, ticket_no="")],
        "R03": [bad(3, direction="SIDEWAYS")],
        "R04": [bad(4, segment="plastics")],
        "R05": [bad(5, weigh_out_at="2025-03-10T08:00:00+08:00")],
        "R06": [bad(6, tare_kg="-5", net_kg="12005")],
        "R07": [bad(7, net_kg="2500")],
        "R08": [bad(8, hw_code="HW-49", manifest_no="MF1")],
        "R09": [bad(9, hw_code="900-052-31")],
        "R10": [bad(10, origin_iso3="CN")],
        "R11": [bad(11, status="CANCELLED")],
        "R12": [bad(12), bad(12)],
    }


def write_recycling(out: Path, rng: random.Random, scale: Scale, cycle: int, faults: bool) -> list[Path]:
    paths = []
    for half in (1, 2) if cycle >= 2 else (1,):
        for park in ("ZIYA", "BATKEN"):
            path = out / "recycling" / f"tickets_{park}_2025H{half}.csv"
            encoding = "gb18030" if park == "ZIYA" and half == 1 and faults else "utf-8"
            handle, w = _writer(path, encoding)
            with handle:
                w.writerow(RECYCLING.column_names)
                ticket_rng = random.Random(f"{rng.random()}{park}{half}")
                w.writerows(_tickets(ticket_rng, park, half, scale.tickets_per_park_half))
                if faults and half == 1:
                    for rows in ticket_fault_rows(park).values():
                        w.writerows(rows)
            paths.append(path)
    if cycle >= 2:
        paths.append(_write_month_edges_and_void(out))
    return paths


def _write_month_edges_and_void(out: Path) -> Path:
    """Tickets at the month edge in local time, and a VOID for one that was OK."""
    path = out / "recycling" / "tickets_ZIYA_2025H2_corrections.csv"
    handle, w = _writer(path)
    with handle:
        w.writerow(RECYCLING.column_names)
        base = [
            "ZIYA",
            "",
            "ENT-0042",
            "IN",
            "waste_paper",
            "废纸箱",
            "",
            "",
            "15000",
            "10000",
            "",
            "5000",
            "",
            "",
            "CHN",
            "CHN",
            "OK",
        ]
        edge_local = base[:1] + ["EDGE-1"] + base[2:6]
        edge_local += ["2025-01-31T23:10:00+08:00", "2025-01-31T23:30:00+08:00"] + base[8:]
        edge_utc = base[:1] + ["EDGE-2"] + base[2:6] + ["2025-01-31T18:00:00Z", "2025-01-31T18:30:00Z"] + base[8:]
        void = base[:1] + ["ZI1-0000001"] + base[2:6] + ["2025-01-02T08:00:00+08:00", "2025-01-02T08:10:00+08:00"]
        void += base[8:16] + ["VOID"]
        for row in (edge_local, edge_utc, void):
            w.writerow(row)
    return path


# --------------------------------------------------------------------- all


def generate(out: Path, *, seed: int = 7, scale: str = "small", faults: bool = False, cycle: int = 1) -> list[Path]:
    """Write the inbox for night ``cycle`` (1..3) under ``out``; returns the files written."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}")
    if not 1 <= cycle <= len(CYCLE_DATES):
        raise ValueError(f"cycle must be 1..{len(CYCLE_DATES)}")
    size = SCALES[scale]
    paths = []
    for night in range(1, cycle + 1):
        rng = random.Random(seed)
        paths.append(write_members(out, random.Random(rng.random()), size, night, faults))
    rng = random.Random(seed)
    rng.random()
    paths += write_trade(out, random.Random(rng.random()), size, cycle, faults)
    paths += write_recycling(out, random.Random(rng.random()), size, cycle, faults)
    return paths
