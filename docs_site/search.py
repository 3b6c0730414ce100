"""The client-side search index: a prefix index built at build time, sharded into
script files that work from ``file://`` (JSONP style, no fetch).

Layout under ``search/``:

- ``datasets.js``: ``SL.searchDatasets([[[name, href, kind, layer], ...], split])`` —
  every dataset once (a column document points at its dataset by index), and the
  two-character keys split by three characters.
- ``s-<key>.js``: ``SL.searchShard(key, {"d": docs, "n": {...}, "w": {...}})`` for every
  token whose first two characters give ``key`` (three for a split key, whose own shard
  keeps only its two-character tokens). ``d`` lists the shard's documents as
  ``[dataset_index, column_or_empty]``; ``n`` maps name tokens (a dataset's full or last
  name, a column's name) and ``w`` word tokens (name parts, description words, tags,
  owners, meta values) to lists of positions in ``d``.

The page loads one shard per query (its first two or three characters), finds the tokens starting
with the query by binary search over the sorted keys and ranks exact names first.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SearchDoc", "SearchIndex", "shard_key", "tokens_of"]

_WORD = re.compile(r"[a-z0-9]+")
_KEY_SAFE = re.compile(r"[^a-z0-9]")
_MAX_WORDS = 24  # description words indexed per document
_SPLIT_AT = 20_000  # postings of a two-character shard before it splits by three
# Words that would put most documents in one shard and never narrow a search.
_STOPWORDS = frozenset((
    "the", "of", "and", "for", "in", "to", "an", "is", "on", "at", "by", "with", "from", "or",
    "as", "be", "this", "that", "it", "its", "are", "was",
))  # fmt: skip


@functools.lru_cache(maxsize=65536)
def shard_key(token: str, size: int = 2) -> str:
    """The shard a token lives in: its first ``size`` characters, made file-name safe."""
    return _KEY_SAFE.sub("_", token[:size].lower())


def tokens_of(text: str) -> list[str]:
    """Lower-case words of a text (``erp_customers`` gives ``erp``, ``customers``)."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class SearchDoc:
    """One searchable thing: a dataset (``column`` None) or one of its columns."""

    dataset_index: int
    column: str | None
    names: tuple[str, ...]  # exact names: ranked first on an exact hit
    words: tuple[str, ...] = ()


@dataclass
class SearchIndex:
    """Datasets (name, href, kind, layer) and their documents, written as shards."""

    datasets: list[tuple[str, str, str, str]] = field(default_factory=list)
    docs: list[SearchDoc] = field(default_factory=list)

    def add_dataset(
        self,
        name: str,
        href: str,
        kind: str,
        layer: str | None,
        *,
        words: Iterable[str] = (),
        columns: Sequence[tuple[str, Iterable[str]]] = (),
    ) -> None:
        """Index a dataset and its columns (each with its own extra words)."""
        index = len(self.datasets)
        self.datasets.append((name, href, kind, layer or ""))
        last = name.rsplit(".", 1)[-1]
        self.docs.append(
            SearchDoc(index, None, tuple(dict.fromkeys((name.lower(), last.lower()))),
                      tuple(_words(name, *words)))
        )  # fmt: skip
        # "table.column" queries search the column name and filter on the dataset (site.js).
        for column, extra in columns:
            lowered = column.lower()
            self.docs.append(
                SearchDoc(index, column, (lowered,),
                          tuple(w for w in _words(column, *extra) if w != lowered))
            )  # fmt: skip

    def write(self, folder: Path) -> list[Path]:
        """Write ``datasets.js`` and the shards; returns the files written."""
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, content in self.files():
            written.append(folder / name)
            written[-1].write_text(content, encoding="utf-8")
        return written

    def files(self) -> list[tuple[str, str]]:
        """``datasets.js`` and the shards: (file name, content)."""
        # key -> (docs: (dataset, column) -> position, names: token -> positions, words: ...)
        shards: dict[str, tuple[dict[tuple[int, str], int], dict[str, list[int]],
                                dict[str, list[int]]]] = {}  # fmt: skip
        # A two-character key holding too many postings splits by three characters, so no
        # shard the page loads is large (its two-character tokens stay in the small one).
        counts: dict[str, int] = {}
        for doc in self.docs:
            for token in (*doc.names, *doc.words):
                if len(token) > 1:
                    key = shard_key(token)
                    counts[key] = counts.get(key, 0) + 1
        split = sorted(k for k, n in counts.items() if n > _SPLIT_AT)
        split_set = set(split)
        for doc in self.docs:
            ident = (doc.dataset_index, doc.column or "")
            for slot, tokens in ((1, doc.names), (2, doc.words)):
                for token in tokens:
                    if len(token) < 2:
                        continue
                    key = shard_key(token)
                    if key in split_set and len(token) > 2:
                        key = shard_key(token, 3)
                    shard = shards.get(key)
                    if shard is None:
                        shard = shards[key] = ({}, {}, {})
                    docs = shard[0]
                    position = docs.get(ident)
                    if position is None:
                        position = docs[ident] = len(docs)
                    table = shard[1] if slot == 1 else shard[2]
                    postings = table.setdefault(token, [])
                    if not postings or postings[-1] != position:
                        postings.append(position)
        files = [("datasets.js", _js("SL.searchDatasets", [[list(d) for d in self.datasets],
                                                          split]))]  # fmt: skip
        for key in sorted(shards):
            docs, names, words = shards[key]
            document = {"d": [list(d) for d in docs], "n": dict(sorted(names.items())),
                        "w": dict(sorted(words.items()))}  # fmt: skip
            files.append((f"s-{key}.js", _js("SL.searchShard", document, key)))
        return files


def _words(*texts: str) -> list[str]:
    found = dict.fromkeys(
        w for w in _WORD.findall(" ".join(texts).lower())
        if len(w) > 1 and w not in _STOPWORDS and not w.isdigit()
    )  # fmt: skip
    return list(found)[:_MAX_WORDS]


def _js(callback: str, data: object, key: str | None = None) -> str:
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    # "</" never appears raw, so the file is safe even if someone inlines it in HTML.
    payload = payload.replace("</", "<\\/")
    prefix = f"{callback}({json.dumps(key)}," if key is not None else f"{callback}("
    return f"{prefix}{payload});\n"
