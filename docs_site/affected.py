"""Which datasets and jobs a rebuild works out again: those a change can reach.

A dataset's pages show its own facts and, of other datasets, only some of what lies
upstream or downstream of it. Each dataset gets digests of what others may show of it
(``OwnDigests``), kept in the build manifest; a rebuild compares them with the last
build's and works out the page values of:

- every dataset whose facts, edges, jobs or runs changed (``whole``), and every job
  reading or writing one;
- every dataset upstream or downstream of one whose *links* changed (its column edges, the
  inputs and outputs of its jobs; a new dataset too): distances, counts, hops and paths
  follow the links;
- every dataset downstream of one whose last run went to or from failed (a runbook lists
  every failed writer upstream), and every dataset with a column that may inherit a
  description from one whose column descriptions changed (over pass-through and rename
  hops, however far);
- every dataset or job whose 100-nearest lists hold one whose owners or last-run state
  changed (what those lists show of another dataset).

Every other dataset and job keeps its pages and digest from the last build, without its
values being worked out at all.

Why the links rule is enough: a page changes with what it reaches when a path appears,
breaks or gets shorter. A new path holds a new link, whose ends are datasets whose links
changed, and the path's part from the page's dataset to that end exists in this build's
graph. A broken path holds a removed link; the part up to the first one still exists, and
that link's end changed. The same holds upstream. A dataset that left the catalog is the
exception (its neighbours may still name it in edges the catalog kept, now without a page
to link to): then everything is worked out again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from docs_site.facts import DatasetFacts, JobKey, SiteFacts, job_key
from docs_site.incremental import digest_of
from docs_site.lineage_data import ColumnLineageIndex
from lineage.model import ColumnEdge, DatasetId, Job

__all__ = [
    "DATASET_OWN",
    "JOB_OWN",
    "OwnDigests",
    "edges_by_dataset",
    "job_own_digest",
    "to_work_out",
]

#: Manifest key prefixes of the own digests (``d:`` and ``j:`` hold the pages' digests).
DATASET_OWN, JOB_OWN = "o:", "jo:"

# The 100-nearest lists of a dataset (or a job's outputs): (starts, upstream) -> datasets.
Nearest = Callable[[Sequence[DatasetId], bool], Iterable[DatasetId]]


def edges_by_dataset(edges: Sequence[ColumnEdge]) -> dict[DatasetId, list[ColumnEdge]]:
    """The column edges touching each dataset (as source or target), in catalog order."""
    found: dict[DatasetId, list[ColumnEdge]] = {}
    for edge in edges:
        found.setdefault(edge.source.dataset, []).append(edge)
        if edge.target != edge.source.dataset:
            found.setdefault(edge.target, []).append(edge)
    return found


def _jobs_of(keys: Iterable[JobKey], site: SiteFacts) -> list[object]:
    return [(key, site.jobs.get(key), site.runs.get(key, [])) for key in keys]


@dataclass(frozen=True)
class OwnDigests:
    """What is recorded about one dataset, in the parts other pages show of it (an empty
    text: could not be digested, so it counts as changed)."""

    whole: str  # facts, edges, jobs and runs: its own pages
    links: str  # edges and the inputs and outputs of its jobs
    shown: str  # owners and last-run state: the lists of others
    described: str  # column descriptions: inherited downstream
    failed: bool  # last run failed: runbooks downstream list it

    @classmethod
    def of(
        cls, facts: DatasetFacts, site: SiteFacts, touching: Mapping[DatasetId, list[ColumnEdge]],
        owners: Mapping[DatasetId, tuple[str, ...]], failed: set[DatasetId],
    ) -> OwnDigests:  # fmt: skip
        keys = [*facts.writers, *facts.readers]
        # Edges as plain tuples: pickling their dataclasses was most of the digest's time.
        edges = [(e.source.dataset.namespace, e.source.dataset.name, e.source.name,
                  e.target.namespace, e.target.name, e.target_field, e.job,
                  tuple((t.type.value, t.subtype.value, t.masking) for t in e.transformations))
                 for e in touching.get(facts.id, [])]  # fmt: skip
        jobs = [(k, job.inputs, job.outputs) for k in keys if (job := site.jobs.get(k))]
        live = facts.live.table.columns if facts.live is not None else ()
        schema = facts.dataset.schema.fields if facts.dataset.schema is not None else ()
        return cls(
            whole=digest_of(facts, edges, _jobs_of(keys, site)) or "",
            links=digest_of(edges, jobs) or "",
            shown=digest_of(owners.get(facts.id, ()), site.writer_state(facts.id)) or "",
            described=digest_of([(f.name, f.description) for f in schema],
                                [(c.name, c.comment) for c in live]) or "",
            failed=facts.id in failed,
        )

    def text(self) -> str:
        """As the manifest keeps it."""
        return " ".join((self.whole, self.links, self.shown, self.described,
                         str(int(self.failed))))  # fmt: skip

    @classmethod
    def parse(cls, text: str | None) -> OwnDigests | None:
        parts = (text or "").split(" ")
        if len(parts) != 5 or parts[4] not in ("0", "1"):
            return None
        return cls(parts[0], parts[1], parts[2], parts[3], failed=parts[4] == "1")


def job_own_digest(job: Job, site: SiteFacts) -> str | None:
    """The digest of one job and its runs."""
    return digest_of(_jobs_of([job_key(job)], site))


@dataclass
class WorkOut:
    """What a rebuild works out again: datasets, and the datasets whose owners or state
    changed (jobs whose lists hold one are worked out too)."""

    datasets: set[DatasetId]
    shown: set[DatasetId]

    def job(self, job: Job, nearest: Nearest) -> bool:
        """True when ``job``'s pages must be worked out (its own digest aside)."""
        if any(d in self.datasets for d in (*job.inputs, *job.outputs)):
            return True
        return bool(self.shown) and not self.shown.isdisjoint(nearest(job.outputs, False))


def to_work_out(
    datasets: Sequence[DatasetFacts], owns: Sequence[OwnDigests],
    previous: Mapping[str, str], index: ColumnLineageIndex, nearest: Nearest,
) -> WorkOut:  # fmt: skip
    """The datasets whose page values a rebuild works out (see the module's rules)."""
    now = {DATASET_OWN + facts.slug for facts in datasets}
    if any(key.startswith(DATASET_OWN) and key not in now for key in previous):
        everything = {facts.id for facts in datasets}
        return WorkOut(everything, everything)
    found: set[DatasetId] = set()
    linked: list[DatasetId] = []  # links changed: up- and downstream
    failing: list[DatasetId] = []  # failed or not: downstream
    described: list[DatasetId] = []  # descriptions changed: where they are inherited
    shown: set[DatasetId] = set()
    for facts, own in zip(datasets, owns, strict=True):
        before = OwnDigests.parse(previous.get(DATASET_OWN + facts.slug))
        if before is not None and before == own and own.whole:
            continue
        found.add(facts.id)
        if before is None or not own.links or before.links != own.links:
            linked.append(facts.id)
        if before is None or before.failed != own.failed:
            failing.append(facts.id)
        if before is None or not own.described or before.described != own.described:
            described.append(facts.id)
        if before is None or not own.shown or before.shown != own.shown:
            shown.add(facts.id)
    found.update(linked)
    found.update(index.reachable(linked, upstream=True))
    found.update(index.reachable([*linked, *failing], upstream=False))
    found.update(index.heirs(described))
    for upstream in (True, False):
        # A dataset on the other side lists this one when it is among its 100 nearest.
        for candidate in index.reachable(shown, upstream=not upstream):
            if candidate not in found and not shown.isdisjoint(nearest([candidate], upstream)):
                found.add(candidate)
    return WorkOut(found, shown)
