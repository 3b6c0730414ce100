"""Fixtures: the ERP example catalog and its built site (built once per module)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from docs_site.build import SiteReport, build_site
from lineage.catalog import Catalog
from tests.docs_site import erp_catalog as erp


@dataclass(frozen=True)
class Drift:
    """A drift finding as lineage.drift will give it (duck-typed)."""

    dataset: object
    column: str | None
    kind: str
    severity: str
    message: str
    impact: tuple[str, ...] = ()


DRIFT = (Drift(erp.SILVER, "birth_date", "type_changed", "breaking",
               "birth_date: date -> varchar", ("erp.gold.dim_customers",)),)  # fmt: skip


def build_erp(catalog_url: str, out: Path, **options: object) -> SiteReport:
    with Catalog(catalog_url) as catalog:
        return build_site(catalog, out, contracts=[(erp.SILVER, erp.contract())],
                          runbook_notes={erp.SILVER: erp.NOTE},
                          now=options.pop("now", erp.NOW),
                          **options)  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture(scope="module")
def erp_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'catalog.db'}"
    with Catalog(url) as catalog:
        erp.fill(catalog)
    yield url


@pytest.fixture(scope="module")
def erp_site(erp_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ERP site with one drift finding."""
    out = tmp_path_factory.mktemp("site") / "site"
    build_erp(erp_db, out, drift=DRIFT)
    return out
