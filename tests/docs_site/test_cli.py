"""``lineage docs build``: the contracts folder and the Markdown notes beside contracts
reach the site; ``docs serve`` refuses a folder without a site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from lineage.catalog import Catalog
from lineage.cli import docs
from lineage.errors import ConfigError
from tests.docs_site import erp_catalog as erp
from tests.docs_site.helpers import page_of, text_of


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """The lineage app, reduced to the docs group."""

    docs.register(app)
    return app


def test_docs_build_reads_contracts_and_their_runbook_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lineage.yml").write_text("docs: {output: public/}\n", encoding="utf-8")
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "erp_customers.yml").write_text(
        "dataset: silver.erp_customers\nowners: [data-eng]\nschema:\n  fields:\n"
        "    - name: customer_id\n      constraints: [unique]\n", encoding="utf-8")  # fmt: skip
    (contracts / "erp_customers.md").write_text(
        "## Escalation\n\nPage **#erp-oncall** <b>now</b>\n", encoding="utf-8")  # fmt: skip
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with Catalog(url) as catalog:
        erp.fill(catalog)
    code = _app()(args=["docs", "build", "--catalog", url, "--title", "ERP <docs>",
                        "--base-url", "https://docs.example.com/"],
                  prog_name="lineage", standalone_mode=False)  # fmt: skip
    assert code in (None, 0)
    site = tmp_path / "public"  # docs.output of lineage.yml
    runbook = page_of(site, "runbooks/datasets", "erp.silver.erp_customers")
    assert "Page <strong>#erp-oncall</strong> &lt;b&gt;now&lt;/b&gt;" in runbook
    assert "unique(customer_id)" in text_of(runbook)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "<title>Datasets · ERP &lt;docs&gt;</title>" in index
    assert '<link rel="canonical" href="https://docs.example.com/index.html">' in index


def test_docs_build_says_what_a_rebuild_rendered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    with Catalog(url) as catalog:
        erp.fill(catalog)
    args = ["docs", "build", "--catalog", url, "--out", str(tmp_path / "site")]
    _app()(args=args, prog_name="lineage", standalone_mode=False)
    assert "rendered" not in capsys.readouterr().err  # a first build renders everything
    _app()(args=args, prog_name="lineage", standalone_mode=False)
    assert "nothing changed since the last build" in capsys.readouterr().err
    with Catalog(url) as catalog:  # one run more: the producer's pages and its readers'
        catalog.record_run("load-9", "erp.load_bronze", "COMPLETE", erp.NOW)
    _app()(args=args, prog_name="lineage", standalone_mode=False)
    said = " ".join(capsys.readouterr().err.split())
    assert re.search(r"of 7 datasets and jobs rendered \(\d worked out again\), the rest "
                     r"unchanged", said), said


def test_docs_serve_refuses_a_folder_without_a_site(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lineage docs build"):
        _app()(args=["docs", "serve", "--out", str(tmp_path)], prog_name="lineage",
               standalone_mode=False)  # fmt: skip
