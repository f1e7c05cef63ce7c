"""Importing the published source formats into the node-local index.

Sample files live in tests/raterd/data (made by make_samples.py there); each
carries a few rows an importer must skip, counted here exactly.
"""

from __future__ import annotations

import bz2
import gzip
import json
import logging
import multiprocessing
import os
import sqlite3
import threading
import zipfile

import pytest

from raterd.sources import (
    ImportRefused,
    SourceFileError,
    SourceFormatError,
    SourceIndex,
    blocklist_hits,
    import_blocklist,
    import_companies_house,
    import_gleif_csv,
    import_phishtank,
    open_readonly,
    registry_match,
    status,
)
from raterd.sources import _index

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
CH = os.path.join(DATA, "BasicCompanyData-sample.csv")
GLEIF = os.path.join(DATA, "gleif-goldencopy-lei2-sample.csv")
FEED = os.path.join(DATA, "phishing-domains-sample.txt")
PHISHTANK = os.path.join(DATA, "online-valid-sample.json")


@pytest.fixture
def index(tmp_path):
    with SourceIndex(tmp_path / "sources.db") as idx:
        yield idx


def _data_tables(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return sorted(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'data_%'"))


def _ch_text() -> str:
    with open(CH, encoding="utf-8", newline="") as f:
        return f.read()


# -- counts per format -----------------------------------------------------------

def test_companies_house_sample_counts_good_and_bad_rows(index):
    report = import_companies_house(index, CH)
    # 9 companies (any status); skipped: a short row, an empty name, number "N/A".
    assert (report.source, report.rows, report.skipped) == ("companies-house", 9, 3)
    [row] = status(index)
    assert row["name"] == "companies-house" and row["kind"] == "registry"
    assert row["format"] == "companies-house-csv"
    assert (row["rows"], row["skipped"]) == (9, 3)
    assert row["files"] == CH
    assert row["imported_at"].endswith("+00:00")


def test_companies_house_header_names_with_leading_spaces_are_found(index):
    # " CompanyNumber" in the header: the number column must still be read.
    import_companies_house(index, CH)
    [found] = registry_match(index, "Example Trading Ltd", registration="01234568")
    assert found.matched_name == "EXAMPLE TRADING LTD"


def test_gleif_sample_counts_records_not_names(index):
    report = import_gleif_csv(index, GLEIF)
    # 6 records (one stored under two names, two under their transliteration
    # too); skipped: bad LEI, short row, empty legal name.
    assert (report.source, report.rows, report.skipped) == ("gleif", 6, 3)


def test_blocklist_sample_counts(index):
    report = import_blocklist(index, FEED, "openphish")
    # kept: 8 entries (one a duplicate in other case); skipped: IP URL,
    # localhost, sites.google.com, a two-word line, "co.uk".
    assert (report.source, report.rows, report.skipped) == ("openphish", 8, 5)
    assert status(index)[0]["format"] == "domain-list"


def test_phishtank_sample_counts(index):
    report = import_phishtank(index, PHISHTANK)
    # skipped: docs.google.com, unverified, no url, IP-address URL.
    assert (report.source, report.rows, report.skipped) == ("phishtank", 4, 4)


def test_compressed_inputs_are_read_as_published(index, tmp_path):
    zipped = tmp_path / "BasicCompanyDataAsOneFile-2024-05-01.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(CH, "BasicCompanyDataAsOneFile-2024-05-01.csv")
    assert import_companies_house(index, zipped).rows == 9

    gz = tmp_path / "online-valid.json.gz"
    gz.write_bytes(gzip.compress(open(PHISHTANK, "rb").read()))
    assert import_phishtank(index, gz).rows == 4

    bz = tmp_path / "feed.txt.bz2"          # detected by content, not name
    bz.write_bytes(bz2.compress(open(FEED, "rb").read()))
    assert import_blocklist(index, bz, "feed").rows == 8


def test_multi_part_download_is_one_import(index, tmp_path):
    text = _ch_text()
    header, *rows = text.split("\r\n")
    part1, part2 = tmp_path / "part1_2.csv", tmp_path / "part2_2.csv"
    part1.write_text("\r\n".join([header] + rows[:4]) + "\r\n", encoding="utf-8")
    part2.write_text("\r\n".join([header] + rows[4:]), encoding="utf-8")
    report = import_companies_house(index, [part1, part2])
    assert (report.rows, report.skipped) == (9, 3)
    assert registry_match(index, "Acme Widgets Ltd", "SW1A 1AA")            # from part 1
    assert registry_match(index, "Northern Lights Ltd", "BT1 1AA")          # from part 2


def test_wrong_file_for_the_format_is_refused_by_its_header(index):
    with pytest.raises(SourceFormatError, match="CompanyNumber"):
        import_companies_house(index, GLEIF)
    with pytest.raises(SourceFormatError, match="LEI"):
        import_gleif_csv(index, CH)
    with pytest.raises(SourceFormatError, match=r"'\['"):
        import_phishtank(index, FEED)
    assert status(index) == []


def test_missing_input_file_is_a_file_error(index, tmp_path):
    with pytest.raises(SourceFileError):
        import_blocklist(index, tmp_path / "nope.txt", "feed")


def test_import_progress_is_reported_while_streaming(index, tmp_path, monkeypatch):
    monkeypatch.setattr(_index, "BATCH_ROWS", 1000)
    big = tmp_path / "BasicCompanyData-big.csv"
    header = _ch_text().split("\r\n", 1)[0]
    width = header.count(",") + 1
    with open(big, "w", encoding="utf-8", newline="") as f:
        f.write(header + "\r\n")
        for i in range(5000):
            fields = [f"COMPANY NUMBER {i} LIMITED", f"{i:08d}", "", "", f"{i} HIGH STREET", "", "LONDON", "",
                      "UNITED KINGDOM", "E1 6AN", "Private Limited Company", "Active"]
            f.write(",".join(f'"{v}"' for v in fields + [""] * (width - len(fields))) + "\r\n")
    seen = []
    report = import_companies_house(index, big, progress=seen.append)
    assert report.rows == 5000
    steps = [p for p in seen if not p.done]
    assert len(steps) >= 5
    assert [p.rows for p in steps] == sorted(p.rows for p in steps)
    assert all(0 < p.bytes_done <= p.bytes_total == os.path.getsize(big) for p in steps)
    assert seen[-1].done and seen[-1].fraction == 1.0 and seen[-1].rows == 5000
    assert registry_match(index, "Company Number 4321 Ltd", "e16an")


# -- replacing, and failing without harm ----------------------------------------

def test_reimport_replaces_the_previous_data(index, tmp_path):
    import_companies_house(index, CH)
    moved = tmp_path / "BasicCompanyData-next.csv"
    moved.write_text(_ch_text().replace('"SW1A 1AA"', '"EC2A 4NE"'), encoding="utf-8")
    report = import_companies_house(index, moved)
    assert report.rows == 9
    assert registry_match(index, "Acme Widgets Ltd", "EC2A 4NE")
    assert registry_match(index, "Acme Widgets Ltd", "SW1A 1AA") == []
    [row] = status(index)
    assert row["files"] == str(moved)
    assert len(_data_tables(index.path)) == 1  # the old generation is gone


def test_reimport_of_a_blocklist_drops_entries_no_longer_listed(index, tmp_path):
    import_blocklist(index, FEED, "feed")
    smaller = tmp_path / "feed.txt"
    smaller.write_text("# today\ntracker-phish-sample.net\n")
    assert import_blocklist(index, smaller, "feed").rows == 1
    assert blocklist_hits(index, "evil-bank-login-sample.com") == []
    assert blocklist_hits(index, "tracker-phish-sample.net")


def test_truncated_compressed_file_fails_and_the_old_data_keeps_serving(index, tmp_path):
    import_companies_house(index, CH)
    broken = tmp_path / "BasicCompanyData.csv.gz"
    packed = gzip.compress(_ch_text().encode("utf-8") * 3)
    broken.write_bytes(packed[: len(packed) * 2 // 3])          # cut off midway
    with pytest.raises(SourceFormatError, match="truncated|corrupt"):
        import_companies_house(index, broken)
    assert registry_match(index, "Acme Widgets Ltd", "SW1A 1AA")
    assert status(index)[0]["files"] == CH
    assert len(_data_tables(index.path)) == 1                    # half-built table dropped


def test_damaged_compressed_data_is_a_format_error(index, tmp_path):
    packed = bytearray(gzip.compress(_ch_text().encode("utf-8")))
    packed[12:40] = b"\xff" * 28                                  # deflate stream ruined from the start
    damaged = tmp_path / "BasicCompanyData.csv.gz"
    damaged.write_bytes(bytes(packed))
    with pytest.raises(SourceFormatError, match="corrupt"):
        import_companies_house(index, damaged)
    zipped = tmp_path / "BasicCompanyData.zip"
    zipped.write_bytes(b"PK\x03\x04" + b"\x00" * 100)               # no central directory
    with pytest.raises(SourceFormatError, match="zip"):
        import_companies_house(index, zipped)
    assert status(index) == []


def test_phishtank_dump_cut_off_midway_keeps_the_old_list(index, tmp_path):
    import_phishtank(index, PHISHTANK)
    text = open(PHISHTANK, encoding="utf-8").read()
    cut = tmp_path / "online-valid.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(SourceFormatError, match="truncated|bad item"):
        import_phishtank(index, cut)
    assert blocklist_hits(index, "account-verify-sample.com")
    assert status(index)[0]["rows"] == 4


def test_a_flood_of_bad_rows_is_a_corrupt_file(index, tmp_path, monkeypatch):
    monkeypatch.setattr(_index, "BAD_ROWS_MIN", 20)
    import_companies_house(index, CH)
    header = _ch_text().split("\r\n", 1)[0]
    junk = tmp_path / "BasicCompanyData-junk.csv"
    junk.write_text(header + "\r\n" + "\r\n".join(f'"X{i}","garbage"' for i in range(100)))
    with pytest.raises(SourceFormatError, match="bad rows"):
        import_companies_house(index, junk)
    assert registry_match(index, "Acme Widgets Ltd", "SW1A 1AA")


def test_an_import_with_no_usable_rows_is_refused(index, tmp_path):
    import_blocklist(index, FEED, "feed")
    empty = tmp_path / "feed.txt"
    empty.write_text("# nothing today\n\n")
    with pytest.raises(ImportRefused, match="no usable rows"):
        import_blocklist(index, empty, "feed")
    assert blocklist_hits(index, "evil-bank-login-sample.com")


def test_a_register_that_shrank_by_half_needs_force(index, tmp_path):
    import_companies_house(index, CH)
    header, *rows = _ch_text().split("\r\n")
    few = tmp_path / "BasicCompanyData-few.csv"
    few.write_text("\r\n".join([header] + rows[:2]), encoding="utf-8")
    with pytest.raises(ImportRefused, match="truncated download"):
        import_companies_house(index, few)
    assert status(index)[0]["rows"] == 9
    assert import_companies_house(index, few, force=True).rows == 2


def test_a_source_name_cannot_change_kind(index):
    import_blocklist(index, FEED, "mixed")
    with pytest.raises(ImportRefused, match="blocklist"):
        import_companies_house(index, CH, name="mixed")
    assert status(index)[0]["kind"] == "blocklist"


def test_a_table_left_by_a_crashed_import_is_dropped_by_the_next(index):
    import_blocklist(index, FEED, "feed")
    with sqlite3.connect(index.path) as conn:
        conn.execute("CREATE TABLE data_999 (domain TEXT, entry TEXT, note TEXT)")
    import_phishtank(index, PHISHTANK)
    assert "data_999" not in _data_tables(index.path)
    assert len(_data_tables(index.path)) == 2


def test_bad_source_names_are_rejected(index):
    with pytest.raises(ValueError):
        import_blocklist(index, FEED, "Bad Name; DROP TABLE sources")


# -- what a worker's read-only view sees ------------------------------------------

def test_a_worker_sees_a_reimport_without_reopening(index, tmp_path):
    import_companies_house(index, CH)
    worker = open_readonly(index.path)
    assert registry_match(worker, "Acme Widgets Ltd", "SW1A 1AA")
    moved = tmp_path / "next.csv"
    moved.write_text(_ch_text().replace('"SW1A 1AA"', '"EC2A 4NE"'), encoding="utf-8")
    import_companies_house(index, moved)
    assert registry_match(worker, "Acme Widgets Ltd", "EC2A 4NE")
    assert registry_match(worker, "Acme Widgets Ltd", "SW1A 1AA") == []
    worker.close()


def test_lookups_during_an_import_see_old_then_new_never_a_mix(index, tmp_path, monkeypatch):
    monkeypatch.setattr(_index, "BATCH_ROWS", 50)  # many commits while the worker reads
    import_companies_house(index, CH)
    header, *rows = _ch_text().split("\r\n")
    filler = [f'"FILLER {i} LIMITED","{i + 10000000:08d}","","","1 X ST","","LEEDS","","","LS1 1AA","",'
              f'"Active"' + ',""' * (header.count(",") - 11) for i in range(3000)]
    moved = tmp_path / "next.csv"
    moved.write_text("\r\n".join([header] + filler + rows).replace('"SW1A 1AA"', '"EC2A 4NE"'), encoding="utf-8")

    worker = open_readonly(index.path)
    results: list[tuple[bool, bool]] = []
    done = threading.Event()

    def read() -> None:
        for _ in range(100_000):  # bounded; the import ends long before
            # Looked at before reading, so the last pair is read after the
            # import returned and must see the new generation.
            finished = done.is_set()
            old = bool(registry_match(worker, "Acme Widgets Ltd", "SW1A 1AA"))
            new = bool(registry_match(worker, "Acme Widgets Ltd", "EC2A 4NE"))
            results.append((old, new))
            if finished:
                return

    reader = threading.Thread(target=read)
    reader.start()
    import_companies_house(index, moved)
    done.set()
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert worker.last_error is None
    # Before the swap: old only. After: new only. Never neither (a half-loaded
    # generation) and never old again once new was seen.
    first_new = next(i for i, (_, new) in enumerate(results) if new)
    assert first_new > 2, "the worker read nothing while the import ran"
    assert all(old and not new for old, new in results[:first_new - 1])
    assert all(new and not old for old, new in results[first_new + 1:])
    worker.close()


def _hits_in_child(worker, queue) -> None:
    queue.put([h.value for h in blocklist_hits(worker, "tracker-phish-sample.net")])


def test_an_index_opened_before_fork_works_in_the_child(index):
    import_blocklist(index, FEED, "feed")
    worker = open_readonly(index.path)
    assert blocklist_hits(worker, "tracker-phish-sample.net")    # parent has used its connection
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_hits_in_child, args=(worker, queue))
    child.start()
    try:
        assert queue.get(timeout=30) == ["tracker-phish-sample.net"]
    finally:
        child.join(timeout=30)
    assert child.exitcode == 0
    assert blocklist_hits(worker, "tracker-phish-sample.net")    # and the parent's still works
    worker.close()


def test_missing_index_matches_nothing_with_a_warning_then_appears(tmp_path, caplog, monkeypatch):
    path = tmp_path / "later.db"
    monkeypatch.setattr(_index, "REOPEN_SECONDS", 0.0)  # look for the file again at every lookup
    with caplog.at_level(logging.WARNING, logger="raterd.sources"):
        worker = open_readonly(path)
    assert "does not exist" in caplog.text
    assert registry_match(worker, "Acme Widgets Ltd", "SW1A 1AA") == []
    assert blocklist_hits(worker, "evil-bank-login-sample.com") == []
    assert status(worker) == []
    assert not path.exists()  # a reader never creates the file

    with SourceIndex(path) as writer:
        import_blocklist(writer, FEED, "feed")
    assert blocklist_hits(worker, "evil-bank-login-sample.com")
    worker.close()


def test_garbage_index_file_matches_nothing_and_records_why(tmp_path, caplog):
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not an SQLite database" * 100)
    with caplog.at_level(logging.WARNING, logger="raterd.sources"):
        worker = open_readonly(path)
        assert blocklist_hits(worker, "evil-bank-login-sample.com") == []
    assert worker.last_error is not None
    assert "unusable" in str(worker.last_error)
    assert "unusable" in caplog.text


def test_import_on_a_readonly_index_is_refused(tmp_path):
    with SourceIndex(tmp_path / "s.db"):
        pass
    worker = open_readonly(tmp_path / "s.db")
    from raterd.sources import SourceIndexError
    with pytest.raises(SourceIndexError, match="read-only"):
        import_blocklist(worker, FEED, "feed")


def test_status_lists_every_source(index):
    import_companies_house(index, CH)
    import_gleif_csv(index, GLEIF)
    import_blocklist(index, FEED, "openphish")
    import_phishtank(index, PHISHTANK)
    rows = {r["name"]: r for r in status(index)}
    assert set(rows) == {"companies-house", "gleif", "openphish", "phishtank"}
    assert {r["kind"] for r in rows.values()} == {"registry", "blocklist"}
    json.dumps(list(rows.values()))  # the CLI's --json must be able to print it
