"""A rebuild works out only the datasets and jobs a change can reach, and still writes
exactly what a fresh build writes: random changes to a catalog of three separate
pipelines, each rebuild compared file by file with a fresh build of the same catalog."""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from docs_site.affected import DATASET_OWN, OwnDigests, to_work_out
from docs_site.build import SiteReport, build_site
from docs_site.facts import collect
from docs_site.lineage_data import ColumnLineageIndex
from lineage.catalog import Catalog
from lineage.model import (
    ColumnEdge,
    ColumnId,
    Dataset,
    DatasetId,
    DatasetKind,
    Field,
    Job,
    LineageBatch,
    Schema,
    Transformation,
    TransformationSubtype,
)

NS = "postgres://warehouse:5432"
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
KINDS = (Transformation.direct(TransformationSubtype.IDENTITY),
         Transformation.direct(TransformationSubtype.TRANSFORMATION),
         Transformation.indirect(TransformationSubtype.JOIN))  # fmt: skip
PIPELINES, MODELS = 3, 7  # per pipeline: one bronze source, then models reading earlier ones


def _files(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}  # fmt: skip


class Pipelines:
    """Three pipelines that share nothing, written to a catalog, and changes to them."""

    def __init__(self, url: str, seed: int) -> None:
        self.url, self.rng = url, random.Random(seed)
        self.datasets: dict[DatasetId, Dataset] = {}
        self.jobs: dict[DatasetId, Job] = {}  # by output
        self.edges: dict[str, list[ColumnEdge]] = {}  # by job name
        self.pipeline: dict[DatasetId, int] = {}
        self.moment = T0
        for p in range(PIPELINES):
            for m in range(MODELS):
                self._new_dataset(p, m)

    def _new_dataset(self, p: int, m: int) -> None:
        layer = "bronze" if m == 0 else "silver" if m < 4 else "gold"
        dataset_id = DatasetId(NS, f"p{p}.{layer}.t{m}")
        schema = Schema(tuple(Field(f"c{c}", "varchar", f"column {c} of t{m}" if c % 2 else None)
                              for c in range(4)))  # fmt: skip
        dataset = Dataset(dataset_id, DatasetKind.SOURCE if m == 0 else DatasetKind.TABLE,
                          schema, description=f"{layer} {m}", owners=(f"team-{p}",))  # fmt: skip
        self.datasets[dataset_id] = dataset
        self.pipeline[dataset_id] = p
        if m == 0:
            self._write(LineageBatch((dataset,)))
            return
        earlier = [d for d, q in self.pipeline.items() if q == p and d != dataset_id]
        parents = self.rng.sample(earlier, k=min(len(earlier), self.rng.randint(1, 2)))
        job = Job(NS, f"p{p}.model_{m}", kind="dbt_model", sql="SELECT 1",
                  owners=(f"team-{p}",), inputs=tuple(parents), outputs=(dataset_id,))  # fmt: skip
        self.jobs[dataset_id] = job
        self.edges[job.name] = [
            ColumnEdge(ColumnId(self.rng.choice(parents), f"c{self.rng.randrange(4)}"),
                       dataset_id, f"c{c}", (self.rng.choice(KINDS),), job.name)
            for c in range(4)
        ]  # fmt: skip
        self._write_model(dataset_id)

    def _write(self, batch: LineageBatch) -> None:
        self.moment += timedelta(hours=1)
        with Catalog(self.url) as catalog:
            catalog.write(batch, observed_at=self.moment)

    def _write_model(self, dataset_id: DatasetId) -> None:
        job = self.jobs.get(dataset_id)
        if job is None:
            self._write(LineageBatch((self.datasets[dataset_id],)))
        else:
            self._write(LineageBatch((self.datasets[dataset_id],), (job,),
                                     tuple(self.edges[job.name])))  # fmt: skip

    def size(self, p: int) -> int:
        """Datasets and jobs of pipeline ``p``."""
        return sum(q == p for q in self.pipeline.values()) + sum(
            self.pipeline[d] == p for d in self.jobs)

    # -- changes: each touches one pipeline, returned ----------------------------------------

    def change(self) -> int:
        kind = self.rng.choice([self.add_column, self.describe, self.run, self.owners,
                                self.drop_edge, self.add_model, self.check])  # fmt: skip
        return kind()

    def _pick(self, with_job: bool = False) -> DatasetId:
        pool = sorted(self.jobs if with_job else self.datasets)
        return self.rng.choice(pool)

    def add_column(self) -> int:
        target = self._pick(with_job=True)
        job, dataset = self.jobs[target], self.datasets[target]
        assert dataset.schema is not None
        name = f"added_{len(dataset.schema.fields)}"
        self.datasets[target] = replace(dataset, schema=Schema(
            (*dataset.schema.fields, Field(name, "bigint"))))  # fmt: skip
        self.edges[job.name].append(ColumnEdge(ColumnId(job.inputs[0], "c0"), target, name,
                                               (KINDS[1],), job.name))  # fmt: skip
        self._write_model(target)
        return self.pipeline[target]

    def describe(self) -> int:
        target = self._pick()
        dataset = self.datasets[target]
        assert dataset.schema is not None
        first, *rest = dataset.schema.fields
        text = f"described at {self.moment.isoformat()}"
        self.datasets[target] = replace(dataset, schema=Schema(
            (replace(first, description=text), *rest)))  # fmt: skip
        self._write_model(target)
        return self.pipeline[target]

    def run(self) -> int:
        target = self._pick(with_job=True)
        job = self.jobs[target]
        self.moment += timedelta(hours=1)
        run_id = f"run-{self.moment.timestamp():.0f}"
        with Catalog(self.url) as catalog:
            catalog.record_run(run_id, job.name, "START", self.moment, job_namespace=NS)
            catalog.record_run(run_id, job.name, self.rng.choice(["COMPLETE", "FAIL"]),
                               self.moment + timedelta(minutes=5), job_namespace=NS)  # fmt: skip
        return self.pipeline[target]

    def owners(self) -> int:
        target = self._pick()
        self.datasets[target] = replace(self.datasets[target],
                                        owners=(f"owner-{self.rng.randrange(1000)}",))
        self._write_model(target)
        return self.pipeline[target]

    def drop_edge(self) -> int:
        target = self._pick(with_job=True)
        edges = self.edges[self.jobs[target].name]
        if len(edges) > 1:
            edges.pop(self.rng.randrange(len(edges)))
        self._write_model(target)
        return self.pipeline[target]

    def add_model(self) -> int:
        p = self.rng.randrange(PIPELINES)
        self._new_dataset(p, sum(q == p for q in self.pipeline.values()))
        return p

    def check(self) -> int:
        target = self._pick()
        self.moment += timedelta(hours=1)
        with Catalog(self.url) as catalog:
            catalog.record_check_result(target, "row_count_min",
                                        self.rng.choice(["passed", "failed"]), self.moment)
        return self.pipeline[target]


def _build(url: str, out: Path) -> SiteReport:
    with Catalog(url) as catalog:
        return build_site(catalog, out, now=NOW, processes=1)


@pytest.fixture(params=[100, 2], ids=["lists-100", "lists-2"])
def list_limit(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """The nearest lists' length: 2 cuts them short in these pipelines, so a change of
    owners or state far away must leave the pages whose lists do not reach it."""
    limit = int(request.param)
    for module in ("docs_site.build", "docs_site.context", "docs_site.runbooks"):
        monkeypatch.setattr(f"{module}.LIST_LIMIT", limit)
    return limit


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_changes_rebuild_only_their_pipeline_and_match_a_fresh_build(
    tmp_path: Path, seed: int, list_limit: int
) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    pipelines = Pipelines(url, seed)
    site = tmp_path / "site"
    first = _build(url, site)
    total = first.datasets + first.jobs
    assert first.worked_out == total  # nothing to keep from
    for step in range(6):
        touched = pipelines.change()
        rebuilt = _build(url, site)
        fresh = _build(url, tmp_path / f"fresh-{step}")
        assert _files(site) == _files(fresh.out), f"step {step}"
        # Nothing of the other two pipelines is worked out again.
        assert rebuilt.worked_out <= pipelines.size(touched), f"step {step}"
    assert _build(url, site).worked_out == 0  # and with nothing changed, nothing at all


def test_a_change_downstream_works_out_what_lies_upstream(tmp_path: Path) -> None:
    """A failed run of a gold model changes the lists of every dataset above it (their
    downstream list shows its state), but no dataset of the other pipelines."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    pipelines = Pipelines(url, 3)
    site = tmp_path / "site"
    _build(url, site)
    gold = max((d for d in pipelines.jobs if pipelines.pipeline[d] == 0), key=lambda d: d.name)
    with Catalog(url) as catalog:
        catalog.record_run("late", pipelines.jobs[gold].name, "FAIL", NOW, job_namespace=NS)
    rebuilt = _build(url, site)
    assert _files(site) == _files(_build(url, tmp_path / "fresh").out)
    assert 1 < rebuilt.worked_out <= pipelines.size(0)


def test_a_dataset_gone_from_the_catalog_works_everything_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    Pipelines(url, 4)
    with Catalog(url) as catalog:
        datasets = list(collect(catalog).datasets.values())
    own = OwnDigests("a", "b", "c", "d", failed=False)
    assert OwnDigests.parse(own.text()) == own
    previous = {DATASET_OWN + f.slug: own.text() for f in datasets}
    index = ColumnLineageIndex.build([], [])
    def nearest(starts: object, upstream: bool) -> list[DatasetId]:
        return []
    kept = to_work_out(datasets, [own] * len(datasets), previous, index, nearest)
    assert kept.datasets == set()
    gone = to_work_out(datasets[1:], [own] * (len(datasets) - 1), previous, index, nearest)
    assert gone.datasets == {f.id for f in datasets[1:]}
    undigested = replace(own, whole="")  # could not be digested: counts as changed
    owns = [own] * len(datasets)
    owns[2] = undigested
    assert to_work_out(datasets, owns, previous, index, nearest).datasets == {datasets[2].id}


def test_a_job_listing_a_changed_dataset_none_of_its_datasets_lists_is_worked_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job writing two outputs lists what lies downstream of both, the outputs left
    out: with lists of one, it lists ``c_x`` while its first output lists its second one
    (a nearer name) and nothing else lists ``c_x``. New owners of ``c_x`` change the
    job's pages all the same."""
    for module in ("docs_site.build", "docs_site.context", "docs_site.runbooks"):
        monkeypatch.setattr(f"{module}.LIST_LIMIT", 1)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    source, first, second, far = (DatasetId(NS, f"m.{n}") for n in ("s", "a_out", "b_out",
                                                                      "c_x"))  # fmt: skip
    schema = Schema((Field("c0", "varchar"),))
    made = {d: Dataset(d, DatasetKind.TABLE, schema, owners=("team",))
            for d in (source, first, second, far)}  # fmt: skip
    jobs = (Job(NS, "m.both", inputs=(source,), outputs=(first, second)),
            Job(NS, "m.again", inputs=(first,), outputs=(second,)),
            Job(NS, "m.far", inputs=(first,), outputs=(far,)))  # fmt: skip
    edges = (ColumnEdge(ColumnId(source, "c0"), first, "c0", (KINDS[0],), "m.both"),
             ColumnEdge(ColumnId(source, "c0"), second, "c0", (KINDS[0],), "m.both"),
             ColumnEdge(ColumnId(first, "c0"), second, "c0", (KINDS[0],), "m.again"),
             ColumnEdge(ColumnId(first, "c0"), far, "c0", (KINDS[0],), "m.far"))  # fmt: skip
    with Catalog(url) as catalog:
        catalog.write(LineageBatch(tuple(made.values()), jobs, edges), observed_at=T0)
    site = tmp_path / "site"
    _build(url, site)
    with Catalog(url) as catalog:
        catalog.write(LineageBatch((replace(made[far], owners=("new-owners",)),)),
                      observed_at=T0 + timedelta(days=1))  # fmt: skip
    rebuilt = _build(url, site)
    assert _files(site) == _files(_build(url, tmp_path / "fresh").out)
    assert rebuilt.worked_out < len(made) + len(jobs)


def test_heirs_are_the_columns_a_description_passes_down_to() -> None:
    """``a.c`` passes through ``b.c`` to ``c.c`` (renamed there); ``b.t`` is computed
    from ``a.t`` and ``d.c`` joins two inputs: neither inherits, so ``d`` is no heir."""
    a, b, c, d = (DatasetId(NS, n) for n in ("a", "b", "c", "d"))
    identity = (Transformation.direct(TransformationSubtype.IDENTITY),)
    computed = (Transformation.direct(TransformationSubtype.TRANSFORMATION),)
    index = ColumnLineageIndex.build([
        ColumnEdge(ColumnId(a, "c"), b, "c", identity, "j1"),
        ColumnEdge(ColumnId(b, "c"), c, "renamed", identity, "j2"),
        ColumnEdge(ColumnId(a, "t"), b, "t", computed, "j1"),
        ColumnEdge(ColumnId(b, "t"), d, "c", identity, "j3"),
        ColumnEdge(ColumnId(c, "renamed"), d, "c", identity, "j3"),
    ])  # fmt: skip
    assert index.heirs([a]) == {b, c}
    assert index.heirs([b]) == {c}
    assert index.heirs([d]) == set()
    assert index.inherited_description(ColumnId(c, "renamed"), {ColumnId(a, "c"): "x"}) == (
        "x", ColumnId(a, "c"))  # fmt: skip
