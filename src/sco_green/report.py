"""The annual cooperation report: one self-contained HTML file built from the marts.

It follows the structure of the SCO Green Industry Development and Cooperation Report
(background; member states' overview; typical cooperation cases; cooperation space;
cooperation models and mechanisms; outlook). Headings are bilingual, numbers are
formatted for each language, charts are inline SVG (``sco_green.svg_chart``), and every
table names the mart it was read from and the latest load behind it. The file is
written to a temporary name and renamed, so a failed write leaves no partial report.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sco_green.svg_chart import bar_chart
from sco_green.warehouse import connect

SCO_MEMBERS_ORDER = ("CHN", "KAZ", "KGZ", "RUS", "TJK", "UZB", "IND", "PAK", "IRN", "BLR")

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",Arial,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2b24;line-height:1.5}
h1{color:#0b6b3a;border-bottom:3px solid #0b6b3a}h2{color:#0b6b3a;margin-top:2.5rem}
h2 .en,h1 .en,h3 .en{display:block;font-size:.7em;color:#4b6357;font-weight:normal}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #c9d6cf;padding:.25rem .5rem;text-align:right}th{background:#e8f3ed}
td.l,th.l{text-align:left}.src{font-size:.75rem;color:#6b7d74;margin-bottom:1rem}
.kpi{display:inline-block;margin:.4rem 1.2rem .4rem 0;padding:.6rem 1rem;background:#f1f7f3;border-radius:6px}
.kpi b{display:block;font-size:1.3rem;color:#0b6b3a}figure{margin:1rem 0}
.fig a.fid{font-size:.6rem;color:#9bb0a5;text-decoration:none;margin-left:.15rem;vertical-align:super}
.draft{position:fixed;top:40%;left:8%;transform:rotate(-30deg);font-size:9rem;color:rgba(179,38,30,.12);
font-weight:bold;pointer-events:none;z-index:10}
.status{border:2px solid #b3261e;background:#fdf1f0;padding:.6rem 1rem;border-radius:6px}
.status.complete{border-color:#0b6b3a;background:#f1f7f3}
@media print{body{margin:0;max-width:none}section{break-before:page}table,figure{break-inside:avoid}
nav{break-after:page}.fig a.fid{display:none}}
"""


@dataclass
class Section:
    anchor: str
    zh: str
    en: str
    body: str


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


def both(value: Decimal | float | int, en_unit: str, zh_unit: str) -> str:
    return f"{html.escape(fmt_zh(value, zh_unit))}<br><small>{html.escape(fmt_en(value, en_unit))}</small>"


def _fig(figures: dict[str, Any], figure_id: str, inner: str) -> str:
    """A stated figure carrying its stable id (attribute and anchor), so a reader can quote it."""
    if figure_id not in figures:
        return inner
    fid = html.escape(figure_id)
    return (
        f"<span class='fig' id='fig-{fid}' data-figure-id='{fid}'>{inner}"
        f"<a class='fid' href='#fig-{fid}' title='{fid}'>#</a></span>"
    )


def _heading(level: int, zh: str, en: str) -> str:
    return f"<h{level}>{html.escape(zh)}<span class='en'>{html.escape(en)}</span></h{level}>"


def _table(headers: list[tuple[str, str]], rows: list[list[str]], source: str, loaded: str, left: int = 1) -> str:
    head = "".join(
        f"<th class='{'l' if i < left else ''}'>{html.escape(zh)}<br><small>{html.escape(en)}</small></th>"
        for i, (zh, en) in enumerate(headers)
    )
    body = "".join(
        "<tr>" + "".join(f"<td class='{'l' if i < left else ''}'>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    if not rows:
        body = f"<tr><td class='l' colspan='{len(headers)}'>无数据 / no data</td></tr>"
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<div class='src'>数据来源 Source: <code>{html.escape(source)}</code> · 最近加载 latest load: "
        f"{html.escape(loaded)}</div>"
    )


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


def build_sections(conn: Any, year: int, figures: dict[str, Any] | None = None) -> list[Section]:
    figures = figures or {}
    loads = _latest_loads(conn)
    label = _labels(conn)
    trade_load = loads.get("trade", "trade: none")
    park_load = loads.get("recycling", "recycling: none")
    member_load = loads.get("members", "members: none")
    names = dict(conn.execute("SELECT iso3, name_zh || ' ' || name_en FROM ref.countries").fetchall())
    sections = []

    # -- background
    totals = conn.execute(
        "SELECT coalesce(sum(exports_usd), 0), coalesce(sum(intra_sco_exports_usd), 0)"
        " FROM marts.rpt_country_green_trade WHERE year = %s",
        (year,),
    ).fetchone()
    tonnes = conn.execute(
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
    kpis = (
        f"<div class='kpi'>联盟成员 Alliance members<b>{_fig(figures, f'members.active.ALL.{year}', str(members))}</b>"
        f"<small>{as_of or '-'}</small></div>"
        f"<div class='kpi'>绿色产品出口 Green exports"
        f"<b>{_fig(figures, f'trade.exports_usd.SCO.{year}', both(totals[0], 'USD ', '美元'))}</b></div>"
        f"<div class='kpi'>其中上合组织内 of which intra-SCO"
        f"<b>{_fig(figures, f'trade.intra_sco_exports_usd.SCO.{year}', both(totals[1], 'USD ', '美元'))}</b></div>"
        f"<div class='kpi'>园区入场回收量 Park inbound recycling"
        f"<b>{_fig(figures, f'recycling.inbound_t.ALL.{year}', both(tonnes, '', '吨'))}</b><small>t</small></div>"
    )
    sections.append(
        Section(
            "background",
            "一、背景",
            "1. Background",
            "<p>中国—上海合作组织绿色产业合作平台于2025年9月在天津子牙经济技术开发区揭牌启动，下设指导委员会、"
            "咨询委员会、合作联盟、合作促进中心和发展合作区。</p>"
            "<p>The China–SCO Green Industry Cooperation Platform was launched in September 2025 at the Tianjin "
            "Ziya Economic &amp; Technological Development Zone, with a steering committee, an advisory committee, "
            "a cooperation alliance, a promotion centre and development cooperation zones.</p>" + kpis,
        )
    )

    # -- member states' overview
    by_country, by_year, partners = _green_trade(conn, year)
    fields_by_country = conn.execute(
        "SELECT country_iso3, f, count(*) FROM marts.dim_members, unnest(fields) AS f"
        " WHERE valid_from <= make_date(%s, 12, 31) AND (valid_to IS NULL OR valid_to > make_date(%s, 12, 31))"
        " GROUP BY 1, 2 ORDER BY 1, 2",
        (year, year),
    ).fetchall()
    trade_rows: dict[str, list[list[str]]] = defaultdict(list)
    for iso, category, exports, imports in by_country:
        trade_rows[iso].append(
            [
                html.escape(label.get(category, category)),
                both(exports or 0, "USD ", "美元"),
                both(imports or 0, "USD ", "美元"),
            ]
        )
    field_rows: dict[str, list[list[str]]] = defaultdict(list)
    for iso, field, count in fields_by_country:
        field_rows[iso].append([html.escape(label.get(field, field)), str(count)])
    parts = []
    for iso in SCO_MEMBERS_ORDER:
        parts.append(_heading(3, names.get(iso, iso), iso))
        parts.append(
            _table(
                [("绿色类别", "green category"), ("出口", "exports"), ("进口", "imports")],
                trade_rows.get(iso, []),
                "marts.fct_trade",
                trade_load,
            )
        )
        parts.append(
            _table(
                [("领域", "field"), ("联盟成员", "alliance members")],
                field_rows.get(iso, []),
                "marts.dim_members",
                member_load,
            )
        )
    sections.append(
        Section("overview", "二、各国绿色产业发展概况", "2. Member states' green-industry overview", "".join(parts))
    )

    # -- typical cases
    cases = conn.execute(
        "SELECT title_zh, title_en, country_iso3, signed_on, figure_value, figure_unit_zh, figure_unit_en,"
        " summary_zh, summary_en FROM ref.cooperation_cases ORDER BY case_id"
    ).fetchall()
    case_html = "".join(
        f"{_heading(3, c[0], c[1])}<p><b>{both(c[4], '', c[5])}</b> {html.escape(c[6])} · "
        f"{html.escape(names.get(c[2], c[2]))} · {c[3]}</p><p>{html.escape(c[7])}</p><p>{html.escape(c[8])}</p>"
        for c in cases
    )
    sections.append(
        Section(
            "cases",
            "三、绿色产业国际合作典型案例",
            "3. Typical cases of international green-industry cooperation",
            case_html + "<div class='src'>数据来源 Source: <code>ref.cooperation_cases</code> (versioned seed)</div>",
        )
    )

    # -- cooperation space: trade growth by category and partner
    series: dict[str, dict[str, float]] = defaultdict(dict)
    for y, category, value in by_year:
        series[label.get(category, category)][str(y)] = float(value) / 1e6
    growth = conn.execute(
        "SELECT cur.country_iso3, cur.exports_usd, prev.exports_usd FROM marts.rpt_country_green_trade AS cur"
        " LEFT JOIN marts.rpt_country_green_trade AS prev ON prev.country_iso3 = cur.country_iso3"
        " AND prev.year = cur.year - 1 WHERE cur.year = %s ORDER BY cur.exports_usd DESC",
        (year,),
    ).fetchall()
    growth_rows = [
        [
            html.escape(names.get(iso, iso)),
            _fig(figures, f"trade.exports_usd.{iso}.{year}", both(cur, "USD ", "美元")),
            both(prev or 0, "USD ", "美元"),
            f"{(float(cur) / float(prev) - 1) * 100:+.1f}%" if prev else "-",
        ]
        for iso, cur, prev in growth
    ]
    space = (
        "<figure>"
        + bar_chart(series, "按类别的绿色产品出口 Green exports by category (百万美元 USD million)", "USD million")
        + "<figcaption>按类别的绿色产品出口 Green exports by category · source marts.fct_trade</figcaption></figure>"
        + "<figure>"
        + bar_chart(
            {"出口 exports": {names.get(p, p): float(v) / 1e6 for p, v in partners}},
            f"主要出口伙伴 Top partners of green exports {year} (百万美元 USD million)",
            "USD million",
        )
        + "<figcaption>主要合作伙伴 Main partners · source marts.fct_trade</figcaption></figure>"
        + _table(
            [("国家", "country"), (f"{year}年出口", f"exports {year}"), ("上年", "previous year"), ("增长", "growth")],
            growth_rows,
            "marts.rpt_country_green_trade",
            trade_load,
        )
    )
    sections.append(Section("space", "四、绿色产业合作空间", "4. Space for green-industry cooperation", space))

    # -- models and mechanisms: alliance composition and park recycling flows
    composition = []
    if as_of:
        composition = conn.execute(
            "SELECT member_type, sum(active_members) FROM marts.rpt_alliance_members WHERE as_of_date = %s"
            " GROUP BY 1 ORDER BY 2 DESC",
            (as_of,),
        ).fetchall()
    monthly = conn.execute(
        "SELECT park_id, month, segment, inbound_t, outbound_t, tickets, hazardous_t"
        " FROM marts.rpt_park_recycling_monthly WHERE extract(year FROM month) = %s ORDER BY 1, 2, 3",
        (year,),
    ).fetchall()
    tonnes_series: dict[str, dict[str, float]] = defaultdict(dict)
    per_segment: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for park, month, segment, inbound, outbound, _tickets, hazardous in monthly:
        key = f"{month:%Y-%m}"
        name = label.get(segment, segment)
        tonnes_series[name][key] = tonnes_series[name].get(key, 0.0) + float(inbound)
        agg = per_segment[(park, segment)]
        agg[0] += inbound
        agg[1] += outbound
        agg[2] += hazardous
    mechanisms = (
        _table(
            [("成员类型", "member type"), ("成员数", "members")],
            [[html.escape(label.get(t, t)), str(n)] for t, n in composition],
            "marts.rpt_alliance_members",
            member_load,
        )
        + "<figure>"
        + bar_chart(tonnes_series, f"各板块月度入场回收量 Monthly inbound recycling by segment {year} (吨 t)", "tonnes")
        + "<figcaption>各板块月度入场回收量 Monthly inbound tonnes by segment · source "
        "marts.rpt_park_recycling_monthly</figcaption></figure>"
        + _table(
            [
                ("园区", "park"),
                ("板块", "segment"),
                ("入场", "inbound t"),
                ("出场", "outbound t"),
                ("危废", "hazardous t"),
            ],
            [
                [
                    park,
                    html.escape(label.get(seg, seg)),
                    *(
                        _fig(figures, f"recycling.{measure}.{park}.{seg}.{year}", both(value, "", "吨"))
                        for measure, value in zip(("inbound_t", "outbound_t", "hazardous_t"), v, strict=True)
                    ),
                ]
                for (park, seg), v in sorted(per_segment.items())
            ],
            "marts.rpt_park_recycling_monthly",
            park_load,
            left=2,
        )
    )
    sections.append(
        Section("mechanisms", "五、绿色产业合作模式及机制", "5. Cooperation models and mechanisms", mechanisms)
    )
    sections.append(
        Section(
            "outlook",
            "六、发展愿景",
            "6. Outlook",
            "<p>汇集各方智慧与力量，深化绿色产业发展趋势与合作潜力研究，推动项目落地转化。</p>"
            "<p>Pool the wisdom and strength of all parties, deepen research on green-industry trends and "
            "cooperation potential, and turn projects into results.</p>",
        )
    )
    return sections


def status_section(year: int, gaps: list[Any]) -> Section:
    """What the year should have and what arrived, per feed; missing pieces make the report a DRAFT."""
    complete = not any(g.missing for g in gaps)
    rows = [
        [html.escape(g.feed), html.escape(g.expected), html.escape(g.arrived), html.escape(", ".join(g.missing) or "—")]
        for g in gaps
    ]
    verdict = (
        "<p class='status complete'>本报告数据完整。 The year's data is complete.</p>"
        if complete
        else "<p class='status'><b>草稿 DRAFT</b> — 部分数据尚未到达，见下表。 Some of the year's data has not arrived"
        " (below); figures may change.</p>"
    )
    table = _table(
        [("数据源", "feed"), ("应有", "the year should have"), ("已到", "arrived"), ("缺少", "missing")],
        rows,
        "marts, ref.sco_states, ref.parks, audit.feed_cycles",
        date.today().isoformat(),
        left=4,
    )
    return Section("completeness", "数据完整性", "Completeness of the year's data", verdict + table)


def revisions_section(revisions: list[dict[str, Any]]) -> Section | None:
    """Published figures the marts now state differently, and the loads that changed them."""
    if not revisions:
        return None
    rows = []
    for r in revisions:
        cause = "; ".join(f"load {c['load_id']} {c['file_name']} ({c['change']})" for c in r["cause"]) or "—"
        rows.append(
            [
                f"<code>{html.escape(r['figure_id'])}</code><br><small>{html.escape(r['label'])}</small>",
                html.escape(f"{r['published_value']} {r['unit']}"),
                html.escape(f"{r['current_value']} {r['unit']}"),
                html.escape(cause),
            ]
        )
    table = _table(
        [("数据编号", "figure"), ("已发布", "published"), ("当前", "current"), ("原因", "cause")],
        rows,
        "audit.restatements",
        f"release {revisions[0]['release_id']}",
        left=4,
    )
    return Section("revisions", "对已发布数据的修订", "Revisions to published figures", table)


def render(year: int, sections: list[Section], *, draft: bool = False) -> str:
    toc = "".join(f"<li><a href='#{s.anchor}'>{html.escape(s.zh)} {html.escape(s.en)}</a></li>" for s in sections)
    body = "".join(f"<section id='{s.anchor}'>{_heading(2, s.zh, s.en)}{s.body}</section>" for s in sections)
    title_zh = f"上海合作组织绿色产业发展和合作报告 {year}"
    title_en = f"SCO Green Industry Development and Cooperation Report {year}"
    mark = "<div class='draft' aria-hidden='true'>DRAFT 草稿</div>" if draft else ""
    prefix = "[DRAFT] " if draft else ""
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{prefix}{title_zh} / {title_en}</title><style>{CSS}</style></head><body>{mark}"
        f"{_heading(1, title_zh, title_en)}<p>生成日期 Generated: {date.today().isoformat()}</p>"
        f"<nav><ol>{toc}</ol></nav>{body}</body></html>"
    )


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
    from sco_green.releases import DraftRefused, completeness, gaps_text, is_complete, record_release, restatements_for

    with connect(url) as conn:
        check_year(conn, year)
        figures = compute_figures(conn, year)
        gaps = completeness(conn, year)
        complete = is_complete(gaps)
        sections = [status_section(year, gaps)]
        revisions = revisions_section(restatements_for(conn, year))
        if revisions:
            sections.append(revisions)
        sections += build_sections(conn, year, figures)
        text = render(year, sections, draft=not complete)
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
