from sco_green.ledger import Action, LedgerRow, decide


def test_new_file_is_loaded() -> None:
    [d] = decide([("a.csv", "s1")], [])
    assert d.action is Action.LOAD and d.supersedes == ()


def test_same_name_same_bytes_is_skipped() -> None:
    [d] = decide([("a.csv", "s1")], [LedgerRow(1, "a.csv", "s1", "loaded")])
    assert d.action is Action.SKIP


def test_same_bytes_other_name_is_duplicate() -> None:
    [d] = decide([("b.csv", "s1")], [LedgerRow(1, "a.csv", "s1", "loaded")])
    assert d.action is Action.DUPLICATE and d.duplicate_of == "a.csv"


def test_same_name_new_bytes_supersedes_the_loaded_version() -> None:
    history = [LedgerRow(1, "a.csv", "s1", "loaded"), LedgerRow(2, "a.csv", "s0", "superseded")]
    [d] = decide([("a.csv", "s2")], history)
    assert d.action is Action.LOAD and d.supersedes == (1,)


def test_blocked_version_is_superseded_by_a_correction() -> None:
    [d] = decide([("a.csv", "s2")], [LedgerRow(4, "a.csv", "s1", "blocked")])
    assert d.supersedes == (4,)


def test_two_identical_new_files_load_once_in_name_order() -> None:
    first, second = decide([("z.csv", "s9"), ("m.csv", "s9")], [])
    assert (first.file_name, first.action) == ("m.csv", Action.LOAD)
    assert (second.file_name, second.action, second.duplicate_of) == ("z.csv", Action.DUPLICATE, "m.csv")


def test_duplicate_rows_are_never_superseded() -> None:
    history = [LedgerRow(1, "a.csv", "s1", "loaded"), LedgerRow(2, "b.csv", "s1", "duplicate")]
    [d] = decide([("b.csv", "s3")], history)
    assert d.action is Action.LOAD and d.supersedes == ()


def test_bytes_only_ever_rejected_are_judged_afresh_under_a_new_name() -> None:
    """A snapshot rejected for its name loads once renamed: its bytes never reached the warehouse."""
    history = [LedgerRow(1, "members_20250931.csv", "s1", "rejected")]
    [d] = decide([("members_20250930.csv", "s1")], history)
    assert d.action is Action.LOAD and d.duplicate_of is None and d.supersedes == ()


def test_bytes_loaded_once_stay_a_duplicate_even_if_also_rejected_elsewhere() -> None:
    history = [LedgerRow(1, "x.csv", "s1", "rejected"), LedgerRow(2, "a.csv", "s1", "loaded")]
    [d] = decide([("b.csv", "s1")], history)
    assert d.action is Action.DUPLICATE and d.duplicate_of == "a.csv"


def test_a_file_known_to_be_rejected_does_not_make_its_bytes_a_duplicate_in_the_same_batch() -> None:
    first, second = decide(
        [("members_2025093.csv", "s1"), ("members_20250930.csv", "s1")], [], frozenset({"members_2025093.csv"})
    )
    assert (first.file_name, first.action) == ("members_2025093.csv", Action.LOAD)
    assert (second.file_name, second.action) == ("members_20250930.csv", Action.LOAD)
