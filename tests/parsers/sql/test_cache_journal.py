"""The parse cache's journal: a scan that parsed a few new scripts appends just those, and
the next process reads the file and the journal as one cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from parsers.sql import cache as cache_module
from parsers.sql import clear_cache, export_cache, parse_sql
from parsers.sql import parse as sql_module
from parsers.sql.cache import ParseCache


def _parse(count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        parse_sql(f"select a, b + {i} as c from bronze.t{i}")


def _saved_with(folder: Path, count: int) -> ParseCache:
    clear_cache()
    cache = ParseCache(folder)
    cache.load()
    _parse(count)
    cache.save()
    return cache


def _new_process(folder: Path) -> ParseCache:
    clear_cache()
    cache = ParseCache(folder)
    cache.load()
    return cache


def test_a_few_new_scripts_are_appended_and_the_file_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _saved_with(tmp_path, 300)
    written = first.path.read_bytes()
    assert not first.journal.exists()

    second = _new_process(tmp_path)
    _parse(3, start=1000)  # a rescan after an edit: three new scripts
    second.save()
    assert first.path.read_bytes() == written
    assert len(first.journal.read_bytes().splitlines()) == 1
    everything = export_cache()

    third = _new_process(tmp_path)
    assert third.load() == len(everything) == 303
    assert export_cache() == everything

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again although the journal holds it")

    monkeypatch.setattr(sql_module, "_analyze", no_parsing)
    _parse(3, start=1000)
    _parse(300)
    third.save()  # nothing new: neither file is touched
    assert len(first.journal.read_bytes().splitlines()) == 1


def test_the_file_is_rewritten_once_the_journal_holds_a_quarter_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "_JOURNAL_MIN", 10)
    first = _saved_with(tmp_path, 40)
    for round_, start in enumerate((100, 200), 1):
        cache = _new_process(tmp_path)
        _parse(5, start=start)
        cache.save()
        assert len(first.journal.read_bytes().splitlines()) == round_
    cache = _new_process(tmp_path)
    _parse(5, start=300)  # 15 journaled entries > 10 and > 40 // 4
    cache.save()
    assert not first.journal.exists()
    assert _new_process(tmp_path).load() == 55 == len(export_cache())


def test_a_torn_journal_line_is_skipped_and_the_rest_is_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = _saved_with(tmp_path, 300)
    for start in (1000, 2000):
        cache = _new_process(tmp_path)
        _parse(2, start=start)
        cache.save()
        if start == 1000:  # that write was cut short
            first.journal.write_bytes(first.journal.read_bytes()[:40])
    assert len(first.journal.read_bytes().splitlines()) == 2
    caplog.clear()
    caplog.set_level(logging.WARNING)
    assert _new_process(tmp_path).load() == 302
    (message,) = [r.getMessage() for r in caplog.records if "cache journal" in r.getMessage()]
    assert str(first.journal) in message and "1 line(s)" in message


def test_a_journal_that_is_no_regular_file_is_neither_read_nor_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = _saved_with(tmp_path, 300)
    first.journal.symlink_to("/dev/zero")  # a clone can carry a symlink
    caplog.set_level(logging.WARNING)
    cache = _new_process(tmp_path)
    assert cache.load() == 300
    assert any(str(first.journal) in r.getMessage() for r in caplog.records)
    _parse(2, start=1000)
    cache.save()  # not appended through the link: the file is written whole instead
    assert not first.journal.is_symlink() and not first.journal.exists()
    assert _new_process(tmp_path).load() == 302
