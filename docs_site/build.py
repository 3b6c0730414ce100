"""Build the static docs site from the catalog: ``build_site(catalog, out)``.

The site is a folder of HTML pages, one stylesheet and one script (both written here,
nothing downloaded), plus data published for tools and for the pages' own lookups:

- ``schema.json``: every dataset's schema, the drift baseline (``silverline-schema/1``);
- ``lineage.json``: every column edge; ``data/datasets/<slug>.json``: one dataset;
- ``data/lineage/<slug>.js`` and ``search/*.js``: script shards the pages load on demand
  (they work from ``file://``, where fetch does not).

The output is a pure function of the catalog and the arguments: the same catalog and
``now`` give byte-identical files. Files of an earlier build that this build does not
write are removed (only in a folder holding the site's marker file). A rebuild renders
only the datasets and jobs whose pages' values changed and writes only the files that
did (``docs_site.incremental``): the result is what a full build writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docs_site import affected
from docs_site import context as ctx
from docs_site.context import LIST_LIMIT
from docs_site.facts import LAYERS, DriftFinding, SiteFacts, collect, job_key
from docs_site.fragments import ListRows
from docs_site.incremental import (
    MANIFEST,
    BuildManifest,
    code_digest,
    digest_of,
    unchanged_site,
)
from docs_site.lineage_data import ColumnLineageIndex, DownstreamEntry, edge_key
from docs_site.markdown import render_markdown
from docs_site.pages import environment
from docs_site.parallel import auto_processes, map_in_order
from docs_site.runbooks import dataset_runbook, failed_writers, job_commands
from docs_site.schema_json import schema_document, schema_json
from docs_site.search import SearchIndex
from lineage.errors import ConfigError
from lineage.model import ColumnId, DatasetId, redact_mapping
from lineage.model.memory import building_acyclic

if TYPE_CHECKING:
    from lineage.catalog import Catalog
    from lineage.contracts import Contract

__all__ = ["LIST_LIMIT", "MANIFEST", "MARKER", "STATIC", "SiteReport", "build_site"]

#: The file that marks a folder as a built site (so a rebuild may remove stale files).
MARKER = ".silverline-site"
STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class SiteReport:
    """What a build wrote."""

    out: Path
    datasets: int
    columns: int
    jobs: int
    pages: int
    files: int
    bytes: int
    seconds: float
    rendered: int = 0  # datasets and jobs whose files this build rendered (not kept)
    # datasets and jobs whose page values this build worked out (a change reached them)
    worked_out: int = 0


def _generator() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"silverline {version('silverline')}"
    except PackageNotFoundError:  # running from a source tree without metadata
        return "silverline"


def build_site(
    catalog: Catalog,
    out: Path,
    *,
    title: str = "Silverline",
    base_url: str | None = None,
    contracts: Sequence[tuple[DatasetId, Contract]] = (),
    runbook_notes: Mapping[DatasetId, str] | None = None,
    drift: Sequence[DriftFinding] = (),
    now: datetime | None = None,
    processes: int | None = None,
) -> SiteReport:
    """Render the catalog into ``out`` and return what was written.

    ``contracts`` and ``runbook_notes`` (Markdown) come from the composition root, which
    reads the contracts folder; ``drift`` holds open drift findings; ``now`` fixes the
    build time shown (default: the current time). ``processes`` render the pages
    (default: the cores, at most 4, from 300 datasets on; see ``docs_site.parallel``);
    the files are the same for any number.

    Raises:
        ConfigError: ``out`` is a non-empty folder that is not a site built here.
        CatalogError: the catalog cannot be read.
    """
    started = time.perf_counter()
    out = Path(out)
    _check_target(out)
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    # Nothing changed since the last build (catalog, arguments, this code): nothing to do.
    inputs = digest_of(catalog.change_marker(), code_digest(), _generator(), title, base_url,
                       list(contracts), dict(runbook_notes or {}), list(drift))  # fmt: skip
    kept = unchanged_site(out, inputs)
    if kept is not None:
        return SiteReport(out=out, **kept, seconds=time.perf_counter() - started)
    # The facts and the lineage index are a million acyclic objects: the collector walking
    # them as they are made was 60 % of the index build (6.0 s against 2.4 s at 10,000).
    with building_acyclic():
        site = collect(catalog, contracts=contracts, runbook_notes=runbook_notes, drift=drift)
        count = auto_processes(len(site.datasets)) if processes is None else max(1, processes)
        writer = _Writer(site, out, title, base_url, moment, count)
    writer.write_all()
    # The figures leave the manifest out: it holds them.
    written = [p for p in writer.finish() if p != writer.manifest.path]
    figures = {"datasets": len(site.datasets), "columns": writer.column_count,
               "jobs": len(site.jobs), "pages": sum(1 for p in written if p.suffix == ".html"),
               "files": len(written), "bytes": sum(p.stat().st_size for p in written)}  # fmt: skip
    writer.manifest.save(inputs, figures, written)
    return SiteReport(out=out, **figures, seconds=time.perf_counter() - started,
                      rendered=writer.rendered, worked_out=writer.worked_out)  # fmt: skip


# A reached dataset as plain values: the lists of the 100 nearest are most of what a
# dataset's pages are made from, and a tuple of strings pickles far faster than two
# dataclasses (2.1 ms of digest per dataset, 1.4 ms of it these lists, at 10,000).
_ENTRY_FIELDS = [f.name for f in fields(DownstreamEntry) if f.name != "dataset"]
_entry = attrgetter("dataset.namespace", "dataset.name", *_ENTRY_FIELDS)


def _page_digest(values: Mapping[str, Any], runbook: Any, shard: Any) -> str | None:
    """The digest of a dataset's page values, its long lists as plain tuples."""
    nearest = [(_entry(e), href) for e, href in values["downstream"]]
    rest = {k: v for k, v in values.items() if k != "downstream"}
    lists = ([(_entry(e), state) for e, state in runbook.upstream],
             [_entry(e) for e in runbook.downstream])  # fmt: skip
    return digest_of(rest, nearest, replace(runbook, upstream=[], downstream=[]), lists, shard)


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError("is a file, not a folder (--out names the site's folder)", obj=str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ConfigError(
            f"{out} is not empty and holds no site built by Silverline: choose another "
            "--out or empty it",
            obj=str(out),
        )


@dataclass(frozen=True)
class _DatasetPages:
    """What writing one dataset's files gives back to the build (from a worker, too)."""

    dataset: DatasetId
    names: list[str]  # its columns, as shown
    columns: int
    search_entry: tuple[str, str, str, str | None]  # name, page, kind, layer
    search_words: list[str]
    search_columns: list[tuple[str, list[str]]]
    digest: str | None = None  # of the values its files are rendered from
    rendered: bool = True
    written: list[Path] = field(default_factory=list)


class _Writer:
    """Writes every file of one build and remembers which."""

    def __init__(
        self, site: SiteFacts, out: Path, title: str, base_url: str | None, now: datetime,
        processes: int = 1,
    ) -> None:  # fmt: skip
        self.site, self.out, self.now, self.processes = site, out, now, processes
        self.env = environment()
        self.generator = _generator()
        # The build time is shown on the site-wide pages only: a dataset's or job's pages
        # change when its values do, so a rebuild can keep them.
        self.base: dict[str, Any] = {"title": title, "base_url": (base_url or "").rstrip("/"),
                     "generator": self.generator}  # fmt: skip
        scope = digest_of(code_digest(), self.base, len(site.drift), LIST_LIMIT)
        self.manifest = BuildManifest(out, scope or "")
        if self.manifest.path.exists():  # a build torn from here on keeps nothing of this one
            self.manifest.save(None, {}, [])
        self.rendered = self.worked_out = 0
        self._apart = False  # writing one dataset's or job's files (maybe in a worker)
        self.written: set[Path] = set()
        links = [(s, o) for j in site.jobs.values() for s in j.inputs for o in j.outputs]
        self.index = ColumnLineageIndex.build(site.edges, links)
        self.owners = ctx.owners_map(site)
        self.descriptions = ctx.descriptions_of(site)
        self.column_count = 0
        self.failed_writers = failed_writers(site)
        self.rows = ListRows(site)  # the long lists' rows (each worker fills its own cells)
        self.names: dict[DatasetId, list[str]] = {}  # each dataset's columns, as shown
        self.touching = affected.edges_by_dataset(site.edges)

    # -- files ---------------------------------------------------------------------------

    def page(self, template: str, path: str, built_at: datetime | None = None,
             **values: Any) -> None:  # fmt: skip
        canonical = f"{self.base['base_url']}/{path}" if self.base["base_url"] else ""
        html = self.env.get_template(template).render(
            root="../" * path.count("/"), path=path, canonical=canonical, built_at=built_at,
            drift_count=len(self.site.drift), limit=LIST_LIMIT, rows=self.rows, **self.base,
            **values)  # fmt: skip
        self.text(path, html)

    def text(self, path: str, content: str) -> None:
        target = self.out / path
        self.written.add(target)
        data = content.encode("utf-8")
        if not self._apart:  # a file of the whole site: rewritten only when it changed
            digest = hashlib.sha1(data).hexdigest()
            if self.manifest.unchanged("f:" + path, digest, [target]):
                return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def script(self, path: str, callback: str, key: str, data: Any) -> None:
        payload = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/")
        self.text(path, f"{callback}({json.dumps(key)},{payload});\n")

    def finish(self) -> list[Path]:
        """Write the marker, remove files of earlier builds, list what this build wrote
        (the manifest among them: the caller writes it)."""
        self.text(MARKER, "Built by Silverline (lineage docs build). Safe to delete.\n")
        self.written.add(self.manifest.path)
        kept = {str(p) for p in self.written}
        for folder, _, files in os.walk(self.out, topdown=False):
            for name in files:
                path = os.path.join(folder, name)
                if path not in kept:
                    os.unlink(path)
            if folder != str(self.out) and not os.listdir(folder):
                os.rmdir(folder)
        return sorted(self.written)

    # -- the site ------------------------------------------------------------------------

    def write_all(self) -> None:
        for name in ("site.css", "site.js"):
            self.text(f"static/{name}", (STATIC / name).read_text(encoding="utf-8"))
        search = SearchIndex()
        self._share_before_fork()
        datasets = list(self.site.datasets.values())
        again = self._reached_by_change(datasets)
        worked = {done.dataset: done for done in map_in_order(
            self._dataset_in_worker, [f for f in datasets if f.id in again.datasets],
            self.processes)}  # fmt: skip
        for facts in datasets:
            done = worked.get(facts.id) or self._kept_dataset(facts)
            self.written.update(done.written)
            self._settle(f"d:{facts.slug}", done.digest, done.rendered)
            self.names[done.dataset] = done.names
            self.column_count += done.columns
            search.add_dataset(*done.search_entry, words=done.search_words,
                               columns=done.search_columns)  # fmt: skip
        self.worked_out += len(worked)
        jobs = [job for job in self.site.jobs.values() if not self._kept_job(job, again)]
        for key, digest, rendered, written in map_in_order(self._job_in_worker, jobs,
                                                           self.processes):  # fmt: skip
            self.written.update(written)
            self._settle(key, digest, rendered)
        self.worked_out += len(jobs)
        self.index_pages()
        for name, content in search.files():
            self.text(f"search/{name}", content)
        document = schema_document(self.site.datasets.values(), generated_at=self.now,
                                   generator=self.generator)  # fmt: skip
        self.text("schema.json", schema_json(document))
        self.text("lineage.json", self._lineage_json())

    def _share_before_fork(self) -> None:
        """What every worker needs, computed once here (a fork inherits it)."""
        graph = self.index._graph()
        graph.reach(upstream=False)
        graph.reach(upstream=True)
        for template in ("dataset.html", "runbook_dataset.html", "job.html", "runbook_job.html"):
            self.env.get_template(template)

    def _reached_by_change(self, datasets: list[Any]) -> affected.WorkOut:
        """What this build works out: what a change since the last build can reach
        (``docs_site.affected``); the datasets' own digests recorded."""
        owns = map_in_order(self._own_digest, datasets, self.processes)
        for facts, own in zip(datasets, owns, strict=True):
            self.manifest.current[affected.DATASET_OWN + facts.slug] = own.text()
        return affected.to_work_out(datasets, owns, self.manifest.previous, self.index,
                                    self._nearest)  # fmt: skip

    def _own_digest(self, facts: Any) -> affected.OwnDigests:
        return affected.OwnDigests.of(facts, self.site, self.touching, self.owners,
                                      self.failed_writers)  # fmt: skip

    def _nearest(self, starts: Sequence[DatasetId], upstream: bool) -> list[DatasetId]:
        # The same walks the pages make (kept in the index for them).
        found = self.index.nearest(starts, self.owners, upstream=upstream, limit=LIST_LIMIT)
        return [entry.dataset for entry in found.entries]

    def _kept_dataset(self, facts: Any) -> _DatasetPages:
        """A dataset no change reached: its files and digest stay the last build's, and
        only what the site-wide files need of it is made (unless a file went missing)."""
        digest = self.manifest.previous.get(f"d:{facts.slug}")
        if not self._kept(f"d:{facts.slug}", digest, self._dataset_files(facts)):
            self.worked_out += 1
            return self._dataset_in_worker(facts)
        return self._summary(facts, ctx.column_names(facts, self.index), digest, rendered=False)

    def _kept_job(self, job: Any, again: affected.WorkOut) -> bool:
        """True when no change reached ``job`` and its files are still there: kept."""
        slug = self.site.job_slugs[job_key(job)]
        own = affected.job_own_digest(job, self.site)
        key = affected.JOB_OWN + slug
        if own is not None:
            self.manifest.current[key] = own
        if own is None or self.manifest.previous.get(key) != own:
            return False
        if again.job(job, self._nearest):
            return False
        digest = self.manifest.previous.get(f"j:{slug}")
        return self._kept(f"j:{slug}", digest, [f"jobs/{slug}.html", f"runbooks/jobs/{slug}.html"])

    def _settle(self, key: str, digest: str | None, rendered: bool) -> None:
        """What a worker found about one dataset or job, recorded here."""
        if digest is not None:
            self.manifest.merge({key: digest})
        self.rendered += rendered

    def _dataset_in_worker(self, facts: Any) -> _DatasetPages:
        with self._writing_apart() as written:  # what this dataset wrote, sent back
            done = self.dataset(facts)
        return replace(done, written=sorted(written))

    def _job_in_worker(self, job: Any) -> tuple[str, str | None, bool, list[Path]]:
        with self._writing_apart() as written:
            key, digest, rendered = self.job(job)
        return key, digest, rendered, sorted(written)

    @contextmanager
    def _writing_apart(self) -> Iterator[set[Path]]:
        # The same code runs in a worker and, for one process, here: the caller merges.
        kept, self.written, self._apart = self.written, set(), True
        try:
            yield self.written
        finally:
            self.written, self._apart = kept, False

    def _kept(self, key: str, digest: str | None, paths: list[str]) -> bool:
        """True when the previous build wrote ``paths`` from the same values: kept."""
        targets = [self.out / p for p in paths]
        if self.manifest.unchanged(key, digest, targets):
            self.written.update(targets)
            return True
        return False

    def dataset(self, facts: Any) -> _DatasetPages:
        values = ctx.dataset_context(facts, self.site, self.index, self.owners, self.descriptions)
        runbook = dataset_runbook(facts, self.site, self.index, self.owners,
                                  self.failed_writers)  # fmt: skip
        names = [c.name for c in values["columns"]]
        shard = ctx.lineage_shard(facts, self.site, self.index, names)
        files = self._dataset_files(facts)
        path = files[0]
        # Everything the four files show comes from these values (and the build's scope).
        digest = _page_digest(values, runbook, shard)
        rendered = not self._kept(f"d:{facts.slug}", digest, files)
        if rendered:
            nearest = [e for e, _ in values["downstream"][:LIST_LIMIT]]
            self.page("dataset.html", path, **values, runbook=runbook,
                      downstream_entries=nearest)  # fmt: skip
            self.page("runbook_dataset.html", files[1], **values, runbook=runbook,
                      note=render_markdown(facts.note) if facts.note else None)  # fmt: skip
            self.script(files[2], "SL.lineageShard", facts.slug, shard)
            self.text(files[3], self._dataset_json(facts, values))
        return self._summary(facts, names, digest, rendered)

    @staticmethod
    def _dataset_files(facts: Any) -> list[str]:
        """A dataset's four files: its page, runbook, lineage shard and JSON."""
        return [f"datasets/{facts.slug}.html", f"runbooks/datasets/{facts.slug}.html",
                f"data/lineage/{facts.slug}.js", f"data/datasets/{facts.slug}.json"]  # fmt: skip

    def _summary(self, facts: Any, names: list[str], digest: str | None,
                 rendered: bool) -> _DatasetPages:  # fmt: skip
        """What the site-wide files need of one dataset: its columns as shown, and its
        search entry (own descriptions only: an inherited one is the upstream column's)."""
        dataset = facts.dataset
        # meta values are searchable, after the secret-masking rules (never a password)
        meta_words = [v for v in redact_mapping(dict(facts.meta)).values() if isinstance(v, str)]
        own = self.descriptions.get
        return _DatasetPages(
            dataset=facts.id,
            names=names,
            columns=len(names),
            search_entry=(dataset.id.name, f"datasets/{facts.slug}.html", dataset.kind.value,
                          facts.layer),
            search_words=[dataset.description or "", *dataset.tags,
                          *self.owners.get(dataset.id, ()), *meta_words],
            search_columns=[(name, [own(ColumnId(facts.id, name)) or ""]) for name in names],
            digest=digest,
            rendered=rendered,
        )  # fmt: skip

    def job(self, job: Any) -> tuple[str, str | None, bool]:
        """Write a job's pages (unless kept); its manifest key, digest and whether it was
        rendered."""
        slug = self.site.job_slugs[job_key(job)]
        values = ctx.job_context(job, self.site)
        # Nearest to any of its outputs (the outputs themselves are not downstream).
        downstream = self.index.nearest(job.outputs, self.owners, upstream=False,
                                        limit=LIST_LIMIT)  # fmt: skip
        commands = job_commands(job)
        files = [f"jobs/{slug}.html", f"runbooks/jobs/{slug}.html"]
        # Links are named by the datasets' slugs, a function of their ids: in the values.
        digest = digest_of(values, [_entry(e) for e in downstream.entries], downstream.total,
                           commands)  # fmt: skip
        key = f"j:{slug}"
        if self._kept(key, digest, files):
            return key, digest, False
        self.page("job.html", files[0], **values)
        self.page("runbook_job.html", files[1], **values, commands=commands,
                  downstream=downstream.entries, downstream_total=downstream.total)  # fmt: skip
        return key, digest, True

    def index_pages(self) -> None:
        groups: dict[str, dict[str, list[Any]]] = {}
        coverage: dict[str, dict[str, int]] = {}
        for facts in self.site.datasets.values():
            layer = facts.layer or "other"
            groups.setdefault(layer, {}).setdefault(facts.id.namespace, []).append(facts)
            names = self.names[facts.id]
            described = sum(1 for n in names if self.descriptions.get(ColumnId(facts.id, n)))
            tested = {t.column for t in facts.dataset.tests if t.column}
            tested |= {c.column for k in facts.contracts for c in k.constraints}
            row = coverage.setdefault(layer, dict.fromkeys(
                ("datasets", "owned", "described", "columns", "described_columns",
                 "tested_columns"), 0))  # fmt: skip
            row["datasets"] += 1
            row["owned"] += bool(self.owners.get(facts.id))
            row["described"] += bool(facts.dataset.description)
            row["columns"] += len(names)
            row["described_columns"] += described
            row["tested_columns"] += len(tested & set(names))
        order = [*LAYERS, "other"]
        layers = [(name, sorted(groups[name].items())) for name in order if name in groups]
        self.page("index.html", "index.html", built_at=self.now, layers=layers, site=self.site,
                  owners=self.owners,
                  coverage=[(n, coverage[n]) for n in order if n in coverage])  # fmt: skip
        self.page("drift.html", "drift.html", built_at=self.now, findings=self.site.drift,
                  href=lambda d: ctx.dataset_href(self.site, d))
        listed = sorted(self.site.jobs.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        self.page("jobs.html", "jobs/index.html", built_at=self.now,
                  jobs=[(job, self.site.job_slugs[key], self.site.runs.get(key, []))
                        for key, job in listed])  # fmt: skip

    # -- published data ------------------------------------------------------------------

    def _lineage_json(self) -> str:
        edges = [{
            "source": {**e.source.dataset.to_dict(), "field": e.source.name},
            "target": {**e.target.to_dict(), "field": e.target_field},
            "transformations": [t.to_dict() for t in e.transformations],
            "job": e.job,
        } for e in sorted(self.site.edges, key=edge_key)]  # fmt: skip
        document = {"format": "silverline-lineage/1", "generated_at": self.now.isoformat(),
                    "edges": edges}  # fmt: skip
        return json.dumps(document, sort_keys=True, ensure_ascii=False) + "\n"

    def _dataset_json(self, facts: Any, values: Mapping[str, Any]) -> str:
        dataset = facts.dataset
        document = {
            **dataset.id.to_dict(),
            "kind": dataset.kind.value,
            "layer": facts.layer,
            "description": dataset.description,
            "owners": list(values["owners"]),
            "tags": list(dataset.tags),
            "columns": [{
                "name": c.name, "type": c.type, "description": c.description,
                "inherited_from": c.inherited_from, "status": c.status,
                "constraints": c.constraints, "tests": c.tests,
                "inputs": [{"column": h.label, "transformation": h.transformation,
                            "status": h.status, "job": h.job} for h in c.inputs],
            } for c in values["columns"]],
            "downstream": [{**e.dataset.to_dict(), "distance": e.distance, "direct": e.direct,
                            "owners": list(e.owners)} for e, _ in values["downstream"]],
            "downstream_total": values["downstream_total"],
            "checks": [{"check": r.check, "column": r.column, "status": r.status.value,
                        "observed_at": r.observed_at.isoformat()} for r in facts.latest_checks],
        }  # fmt: skip
        return json.dumps(document, sort_keys=True, ensure_ascii=False) + "\n"

