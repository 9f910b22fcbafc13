"""Building blocks for contract rules as SQL.

Each rule is one query returning the ``source_row`` of every row that breaks it, with
``{batch}`` standing for the landed file (all text), or ``{typed}`` for the file's rows that
broke no rule on the landed text, cast to raw's types. A row-level rule (``where``) is a
predicate on one row; ``tagging_query`` evaluates every row-level rule of a file in one scan
of the landed rows, and adds the rows the other landed-text rules (keys that repeat) return, as
(source_row, rule_id) tags; ``typed_tagging_query`` adds the tags of the rules on typed rows
(unit values far from a median). GX then counts each rule's tags and the quarantine holds the
same tagged rows, so the rows quarantined are by construction the rows GX counts.

Every cast sits behind a CASE that checks the text first: PostgreSQL does not promise
left-to-right evaluation of OR/AND, but it does for CASE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BLOCK = "block"
WARN = "warn"


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: str
    description: str
    query: str  # selects source_row from {batch}, or from {typed}

    def __post_init__(self) -> None:
        # Rows breaking a block rule never reach the typed rows, so a rule reading them can only warn.
        if self.reads_typed and self.severity != WARN:
            raise ValueError(f"{self.rule_id}: a rule on the typed rows must be a warning")

    @property
    def reads_typed(self) -> bool:
        return "{typed}" in self.query

    def for_table(self, qualified_table: str) -> str:
        """The query on a table: ``str.format`` with ``batch`` and ``typed`` (so literal braces
        are doubled); a rule reads one of them."""
        return self.query.format(batch=qualified_table, typed=qualified_table)

    @property
    def predicate(self) -> str | None:
        """The condition a breaking row meets, for a row-level rule (made by ``where``)."""
        return self.query.removeprefix(ROW_RULE) if self.query.startswith(ROW_RULE) else None


def literal(value: str) -> str:
    """A SQL string literal; reference values are ours, but quote them properly anyway."""
    escaped = value.replace("'", "''").replace("{", "{{").replace("}", "}}")
    return "'" + escaped + "'"


def text_array(values: Iterable[str]) -> str:
    return "ARRAY[" + ",".join(literal(v) for v in sorted(values)) + "]::text[]"


def not_in(column: str, values: Iterable[str]) -> str:
    """True when the column is NULL or outside the set."""
    return f"({column} IS NULL OR NOT ({column} = ANY({text_array(values)})))"


def optional_not_in(column: str, values: Iterable[str]) -> str:
    return f"({column} IS NOT NULL AND NOT ({column} = ANY({text_array(values)})))"


ROW_RULE = "SELECT source_row FROM {batch} WHERE "


def where(predicate: str) -> str:
    """A row-level rule: the rows for which ``predicate`` is true (NULL counts as unbroken)."""
    return ROW_RULE + predicate


# The landing table's flag for a row its feed's screen (expectations/screens.py) cleared of
# every row-level rule.
SCREENED = "_screened"


def tagging_query(rules: list[Rule], qualified_table: str) -> str:
    """(source_row, rule_id) for every rule on the landed text that each row of the table breaks.

    The row-level rules are evaluated together in one scan of the rows landing did not screen
    (SCREENED): a row breaking none is dropped by their disjunction, and only a row breaking
    some has its rules spelt out, from a bitmask of the same predicates. Each other rule is its
    own query, its rows deduplicated.
    """
    rules = [r for r in rules if not r.reads_typed]
    row_rules = [r for r in rules if r.predicate is not None]
    if len(row_rules) > 30:
        raise ValueError("at most 30 row-level rules fit the bitmask")
    parts = []
    if row_rules:
        predicates = [f"({r.predicate.format(batch=qualified_table)})" for r in row_rules]
        mask = " | ".join(f"CASE WHEN {p} THEN {1 << i} ELSE 0 END" for i, p in enumerate(predicates))
        ids = "ARRAY[" + ", ".join(f"'{r.rule_id}'" for r in row_rules) + "]"
        parts.append(
            f"SELECT checked.source_row, ({ids})[bit + 1] AS rule_id FROM ("
            f"SELECT source_row, {mask} AS broken FROM {qualified_table} "
            f"WHERE NOT {SCREENED} AND ({' OR '.join(predicates)}) OFFSET 0"
            f") AS checked CROSS JOIN generate_series(0, {len(row_rules) - 1}) AS bit "
            "WHERE checked.broken & (1 << bit) <> 0"
        )
    parts += [_tags_of(r, qualified_table) for r in rules if r.predicate is None]
    return " UNION ALL ".join(f"({part})" for part in parts)


def typed_tagging_query(rules: list[Rule], qualified_table: str) -> str | None:
    """(source_row, rule_id) for every rule on typed rows that each row breaks; None without such rules."""
    parts = [_tags_of(r, qualified_table) for r in rules if r.reads_typed]
    return " UNION ALL ".join(f"({part})" for part in parts) or None


def _tags_of(rule: Rule, qualified_table: str) -> str:
    """A set-level rule's tags: its rows, each once."""
    return f"SELECT DISTINCT source_row, '{rule.rule_id}' FROM ({rule.for_table(qualified_table)}) AS bad"


def bad_decimal(column: str, *, required: bool, strictly_positive: bool = False) -> str:
    """Breaks when not a plain decimal, or negative (or <= 0 when strictly_positive)."""
    compare = "<= 0" if strictly_positive else "< 0"
    empty = "true" if required else "false"
    return (
        f"(CASE WHEN {column} IS NULL THEN {empty} "
        f"WHEN sco_util.is_decimal({column}) THEN {column}::numeric {compare} ELSE true END)"
    )


def digits(column: str, count: int) -> str:
    """True when the column is exactly ``count`` ASCII digits (NULL stays NULL).

    Said as a length and an unbounded pattern rather than ``[0-9]{count}``: PostgreSQL's
    regular expressions evaluate a bounded repeat markedly slower.
    """
    return f"(length({column}) = {count} AND {column} ~ '^[0-9]+$')"


def duplicated(columns: Iterable[str]) -> str:
    """Every row whose key occurs more than once in the file (NULL parts compare equal).

    A hash of the key finds the keys that may repeat first (an aggregate over one bigint per
    row rather than a sort of the whole file by its key columns);
    only the rows with such a hash are partitioned by the key itself, so a hash collision
    costs a few more rows to compare, never a wrong answer. The repeated hashes are computed
    once, as a materialised CTE: as an IN subquery, a parallel plan had every worker build the
    whole aggregate for itself.

    The hashes are grouped from a sorted subquery. Left to itself the planner has no
    statistics on the hash, guesses few distinct values and has each worker hash-aggregate
    its share, which on a file of distinct keys spills to disk in dozens of batches and is
    then sorted anyway; sorted by the workers and merged, the count is one pass.
    """
    cols = ", ".join(columns)
    key_hash = f"hash_record_extended(ROW({cols}), 0)"
    return (
        f"WITH repeated AS MATERIALIZED (SELECT key_hash FROM (SELECT {key_hash} AS key_hash FROM {{batch}} "
        "ORDER BY 1) AS hashed GROUP BY 1 HAVING count(*) > 1) "
        f"SELECT source_row FROM (SELECT source_row, count(*) OVER (PARTITION BY {cols}) AS n "
        f"FROM {{batch}} WHERE {key_hash} IN (SELECT key_hash FROM repeated)) AS keyed WHERE n > 1"
    )


RAGGED = Rule(
    "F01",
    BLOCK,
    "the record has as many fields as the header",
    where("_ragged"),
)
