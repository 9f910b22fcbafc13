"""The annual cooperation report: one self-contained HTML file built from the marts.

It follows the structure of the SCO Green Industry Development and Cooperation Report
(background; member states' overview; typical cooperation cases; cooperation space;
cooperation models and mechanisms; outlook). Headings are bilingual, numbers are
formatted for each language, charts are inline SVG (``sco_green.svg_chart``), and every
table names the mart it was read from and the latest load behind it. The file is
written to a temporary name and renamed, so a failed write leaves no partial report.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from markupsafe import Markup

from sco_green.releases import is_complete
from sco_green.rendering import render_template
from sco_green.svg_chart import bar_chart
from sco_green.warehouse import connect

SCO_MEMBERS_ORDER = ("CHN", "KAZ", "KGZ", "RUS", "TJK", "UZB", "IND", "PAK", "IRN", "BLR")


def _scaled(value: Decimal | float | int, steps: tuple[tuple[float, str], ...]) -> tuple[str, str]:
    """The number in the largest unit of ``steps`` it reaches, and that unit's word."""
    v = float(value)
    for size, word in steps:
        if abs(v) >= size:
            return f"{v / size:,.2f}", word
    return (f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"), ""


def fmt_en(value: Decimal | float | int, unit: str = "") -> str:
    number, word = _scaled(value, ((1e9, " billion"), (1e6, " million")))
    return f"{unit}{number}{word}"


def fmt_zh(value: Decimal | float | int, unit: str = "") -> str:
    number, word = _scaled(value, ((1e8, "亿"), (1e4, "万")))
    return f"{number}{word}{unit}"


def _latest_loads(conn: Any) -> dict[str, str]:
    rows = conn.execute(
        "SELECT feed, max(loaded_at) FROM audit.load_ledger WHERE status = 'loaded' GROUP BY feed"
    ).fetchall()
    return {feed: f"{feed}: {when:%Y-%m-%d %H:%M} UTC" for feed, when in rows}


# The report's three views of green trade in one scan of fct_trade (each alone scanned it again):
# per reporter and category in the year (exports, imports), per year and category over six years
# (exports), per partner in the year (exports).
GREEN_TRADE = """
SELECT
    grouping(reporter_iso3, partner_iso3, green_category) AS grouped_away,
    year, reporter_iso3, partner_iso3, green_category,
    sum(trade_value_usd) FILTER (WHERE flow = 'X') AS exports,
    sum(trade_value_usd) FILTER (WHERE flow = 'M') AS imports
FROM marts.fct_trade
WHERE green_category IS NOT NULL AND year BETWEEN %(first)s AND %(year)s
GROUP BY GROUPING SETS ((year, reporter_iso3, green_category), (year, green_category), (year, partner_iso3))
"""
TOP_PARTNERS = 12


def _green_trade(conn: Any, year: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(reporter, category, exports, imports) in ``year``; (year, category, exports) over six years;
    the top partners' (partner, exports) in ``year``, largest first."""
    by_country, by_year, partners = [], [], []
    for grouped_away, y, reporter, partner, category, exports, imports in conn.execute(
        GREEN_TRADE, {"first": year - 5, "year": year}
    ):
        if grouped_away == 0b010 and y == year:  # partner grouped away
            by_country.append((reporter, category, exports, imports))
        elif grouped_away == 0b110 and exports is not None:
            by_year.append((y, category, exports))
        elif grouped_away == 0b101 and y == year and exports is not None:
            partners.append((partner, exports))
    partners.sort(key=lambda row: (-row[1], row[0]))
    return sorted(by_country), sorted(by_year), partners[:TOP_PARTNERS]


LABEL_SEEDS = (
    ("green_categories", "green_category"),
    ("member_types", "member_type"),
    ("member_fields", "field"),
    ("recycling_segments", "segment"),
)


def _labels(conn: Any) -> dict[str, str]:
    """Each category, member type, field and segment code's name in Chinese and English (the seeds)."""
    labels: dict[str, str] = {}
    for table, key in LABEL_SEEDS:
        if conn.execute("SELECT to_regclass(%s) IS NULL", (f"ref.{table}",)).fetchone()[0]:
            continue  # a seed the warehouse's last build predates: its codes are shown as they are
        for code, en, zh in conn.execute(f"SELECT {key}, label_en, label_zh FROM ref.{table}"):
            labels[code] = f"{zh} {en}"
    return labels


@dataclass
class ReportPage:
    """Everything the report template shows, read from the marts (templates/report.html.j2)."""

    year: int
    generated: str
    figure_ids: set[str]
    labels: dict[str, str]
    names: dict[str, str]
    loads: dict[str, str]
    gaps: list[Any]
    revisions: list[dict[str, Any]]
    members: int
    as_of: date | None
    exports: Decimal
    intra_sco_exports: Decimal
    inbound_t: Decimal
    member_states: tuple[str, ...]
    trade_by_country: dict[str, list[tuple[str, Decimal | None, Decimal | None]]]
    fields_by_country: dict[str, list[tuple[str, int]]]
    cases: list[dict[str, Any]]
    category_chart: Markup
    partner_chart: Markup
    growth: list[tuple[str, Decimal, Decimal | None, str]]
    composition: list[tuple[str, int]]
    tonnes_chart: Markup
    segments: list[tuple[str, str, dict[str, Decimal]]]

    @property
    def complete(self) -> bool:
        return is_complete(self.gaps)

    @property
    def draft(self) -> bool:
        return not self.complete

    @property
    def toc(self) -> list[tuple[str, str, str]]:
        revisions = [("revisions", "对已发布数据的修订", "Revisions to published figures")] if self.revisions else []
        return [("completeness", "数据完整性", "Completeness of the year's data"), *revisions, *SECTIONS]


CATEGORY_CHART = "Green exports by category (百万美元 USD million)"
TONNES_CHART = "Monthly inbound recycling by segment"
SECTIONS = (
    ("background", "一、背景", "1. Background"),
    ("overview", "二、各国绿色产业发展概况", "2. Member states' green-industry overview"),
    ("cases", "三、绿色产业国际合作典型案例", "3. Typical cases of international green-industry cooperation"),
    ("space", "四、绿色产业合作空间", "4. Space for green-industry cooperation"),
    ("mechanisms", "五、绿色产业合作模式及机制", "5. Cooperation models and mechanisms"),
    ("outlook", "六、发展愿景", "6. Outlook"),
)


def _headline(conn: Any, year: int) -> dict[str, Any]:
    """The background's key figures: members on the year's last snapshot, green exports, inbound tonnes."""
    exports, intra = conn.execute(
        "SELECT coalesce(sum(exports_usd), 0), coalesce(sum(intra_sco_exports_usd), 0)"
        " FROM marts.rpt_country_green_trade WHERE year = %s",
        (year,),
    ).fetchone()
    inbound = conn.execute(
        "SELECT coalesce(sum(inbound_t), 0) FROM marts.rpt_park_recycling_monthly WHERE extract(year FROM month) = %s",
        (year,),
    ).fetchone()[0]
    as_of = conn.execute(
        "SELECT max(as_of_date) FROM marts.rpt_alliance_members WHERE as_of_date <= make_date(%s, 12, 31)", (year,)
    ).fetchone()[0]
    members = 0
    if as_of:
        members = conn.execute(
            "SELECT sum(active_members) FROM marts.rpt_alliance_members WHERE as_of_date = %s", (as_of,)
        ).fetchone()[0]
    return {"exports": exports, "intra_sco_exports": intra, "inbound_t": inbound, "as_of": as_of, "members": members}


def _fields_by_country(conn: Any, year: int) -> dict[str, list[tuple[str, int]]]:
    """Members active on 31 December by country and field of activity."""
    by_country: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for iso, field, count in conn.execute(
        "SELECT country_iso3, f, count(*) FROM marts.dim_members, unnest(fields) AS f"
        " WHERE valid_from <= make_date(%s, 12, 31) AND (valid_to IS NULL OR valid_to > make_date(%s, 12, 31))"
        " GROUP BY 1, 2 ORDER BY 1, 2",
        (year, year),
    ):
        by_country[iso].append((field, count))
    return by_country


def _cases(conn: Any) -> list[dict[str, Any]]:
    cursor = conn.execute(
        "SELECT title_zh, title_en, country_iso3, signed_on, figure_value, figure_unit_zh, figure_unit_en,"
        " summary_zh, summary_en FROM ref.cooperation_cases ORDER BY case_id"
    )
    columns = [c.name for c in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor]


def _growth(conn: Any, year: int) -> list[tuple[str, Decimal, Decimal | None, str]]:
    """Each reporter's green exports in the year against the year before, largest first."""
    return [
        (iso, current, previous, f"{(float(current) / float(previous) - 1) * 100:+.1f}%" if previous else "-")
        for iso, current, previous in conn.execute(
            "SELECT cur.country_iso3, cur.exports_usd, prev.exports_usd FROM marts.rpt_country_green_trade AS cur"
            " LEFT JOIN marts.rpt_country_green_trade AS prev ON prev.country_iso3 = cur.country_iso3"
            " AND prev.year = cur.year - 1 WHERE cur.year = %s ORDER BY cur.exports_usd DESC",
            (year,),
        )
    ]


def _composition(conn: Any, as_of: date | None) -> list[tuple[str, int]]:
    if as_of is None:
        return []
    return conn.execute(
        "SELECT member_type, sum(active_members) FROM marts.rpt_alliance_members WHERE as_of_date = %s"
        " GROUP BY 1 ORDER BY 2 DESC",
        (as_of,),
    ).fetchall()


def _park_recycling(
    conn: Any, year: int, label: dict[str, str]
) -> tuple[dict[str, dict[str, float]], list[tuple[str, str, dict[str, Decimal]]]]:
    """Monthly inbound tonnes per segment (the chart's series) and each park and segment's year totals."""
    series: dict[str, dict[str, float]] = defaultdict(dict)
    totals: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(
        lambda: {"inbound_t": Decimal(0), "outbound_t": Decimal(0), "hazardous_t": Decimal(0)}
    )
    for park, month, segment, inbound, outbound, hazardous in conn.execute(
        "SELECT park_id, month, segment, inbound_t, outbound_t, hazardous_t"
        " FROM marts.rpt_park_recycling_monthly WHERE extract(year FROM month) = %s ORDER BY 1, 2, 3",
        (year,),
    ):
        name, key = label.get(segment, segment), f"{month:%Y-%m}"
        series[name][key] = series[name].get(key, 0.0) + float(inbound)
        park_total = totals[(park, segment)]
        park_total["inbound_t"] += inbound
        park_total["outbound_t"] += outbound
        park_total["hazardous_t"] += hazardous
    return series, [(park, segment, t) for (park, segment), t in sorted(totals.items())]


def collect(
    conn: Any, year: int, figures: dict[str, Any], gaps: list[Any], revisions: list[dict[str, Any]]
) -> ReportPage:
    """The report's content for ``year`` from the published marts."""
    label = _labels(conn)
    names = dict(conn.execute("SELECT iso3, name_zh || ' ' || name_en FROM ref.countries").fetchall())
    by_country, by_year, partners = _green_trade(conn, year)
    trade_by_country: dict[str, list[tuple[str, Decimal | None, Decimal | None]]] = defaultdict(list)
    for iso, category, exports, imports in by_country:
        trade_by_country[iso].append((category, exports, imports))
    by_category: dict[str, dict[str, float]] = defaultdict(dict)
    for y, category, value in by_year:
        by_category[label.get(category, category)][str(y)] = float(value) / 1e6
    headline = _headline(conn, year)
    tonnes_series, segments = _park_recycling(conn, year, label)
    loads = {"trade": "trade: none", "recycling": "recycling: none", "members": "members: none"} | _latest_loads(conn)
    return ReportPage(
        year=year,
        generated=date.today().isoformat(),
        figure_ids=set(figures),
        labels=label,
        names=names,
        loads=loads,
        gaps=gaps,
        revisions=revisions,
        member_states=SCO_MEMBERS_ORDER,
        trade_by_country=trade_by_country,
        fields_by_country=_fields_by_country(conn, year),
        cases=_cases(conn),
        category_chart=Markup(bar_chart(by_category, f"按类别的绿色产品出口 {CATEGORY_CHART}", "USD million")),
        partner_chart=Markup(
            bar_chart(
                {"出口 exports": {names.get(p, p): float(v) / 1e6 for p, v in partners}},
                f"主要出口伙伴 Top partners of green exports {year} (百万美元 USD million)",
                "USD million",
            )
        ),
        growth=_growth(conn, year),
        composition=_composition(conn, headline["as_of"]),
        tonnes_chart=Markup(bar_chart(tonnes_series, f"各板块月度入场回收量 {TONNES_CHART} {year} (吨 t)", "tonnes")),
        segments=segments,
        **headline,
    )


def render(page: ReportPage) -> str:
    return render_template("report.html.j2", {"zh": fmt_zh, "en": fmt_en}, page=page)


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename: never a partial report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class NoDataForYear(ValueError):
    """The marts hold nothing for the year asked for."""


YEARS_WITH_DATA = """
SELECT year FROM marts.rpt_country_green_trade
UNION SELECT extract(year FROM month)::int FROM marts.rpt_park_recycling_monthly
UNION SELECT extract(year FROM as_of_date)::int FROM marts.rpt_alliance_members
ORDER BY 1
"""


def years_with_data(conn: Any) -> list[int]:
    """The years for which the published marts hold trade, recycling or a members snapshot."""
    if conn.execute("SELECT to_regclass('marts.rpt_alliance_members') IS NULL").fetchone()[0]:
        return []
    return [row[0] for row in conn.execute(YEARS_WITH_DATA).fetchall()]


def _spans(years: list[int]) -> str:
    """2019, 2021-2025 for [2019, 2021, 2022, 2023, 2024, 2025]."""
    spans: list[list[int]] = []
    for y in years:
        if spans and y == spans[-1][-1] + 1:
            spans[-1].append(y)
        else:
            spans.append([y])
    return ", ".join(str(s[0]) if len(s) == 1 else f"{s[0]}-{s[-1]}" for s in spans)


def check_year(conn: Any, year: int) -> None:
    """NoDataForYear naming the years there are, when the marts hold nothing for ``year``."""
    years = years_with_data(conn)
    if year not in years:
        held = f"they hold {_spans(years)}" if years else "they hold no data yet (run a nightly first)"
        raise NoDataForYear(f"the marts hold no data for {year}; {held}")


def nightly_report_year(conn: Any, wanted: int) -> int | None:
    """The year a night's report covers: the logical date's year, or the latest year with data
    when that one has none yet (early January); None when the marts are empty."""
    years = years_with_data(conn)
    if wanted in years:
        return wanted
    earlier = [y for y in years if y < wanted]
    return earlier[-1] if earlier else (years[-1] if years else None)


def write_report(
    year: int,
    out_dir: Path,
    url: str | None = None,
    *,
    publish: bool = False,
    allow_incomplete: str | None = None,
) -> Path:
    """Write the year's report; with ``publish``, also record it as a release (refused for a DRAFT
    unless ``allow_incomplete`` gives the reason) and keep its HTML under ``releases/<year>/``."""
    from sco_green.figures import compute_figures
    from sco_green.releases import DraftRefused, completeness, gaps_text, record_release, restatements_for

    with connect(url) as conn:
        check_year(conn, year)
        figures = compute_figures(conn, year)
        gaps = completeness(conn, year)
        complete = is_complete(gaps)
        text = render(collect(conn, year, figures, gaps, restatements_for(conn, year)))
        if publish and not complete and not allow_incomplete:
            raise DraftRefused(
                f"the {year} report is a DRAFT ({gaps_text(gaps)}); pass --allow-incomplete REASON to publish it"
            )
        path = out_dir / f"sco_green_report_{year}.html"
        write_atomically(path, text)
        if publish:
            with conn.transaction():
                release_id = record_release(conn, year, text, figures, complete, None if complete else allow_incomplete)
            kept = out_dir / "releases" / str(year) / f"release_{release_id}.html"
            write_atomically(kept, text)
            return kept
    return path
