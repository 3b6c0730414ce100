"""The small renderers: safe Markdown for runbook notes, the SQL highlighter, the charts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from docs_site.charts import line_chart
from docs_site.highlight import highlight_sql
from docs_site.markdown import render_markdown


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("# Title", "<h3>Title</h3>"),
        ("a **b** *c* `<d>`", "<p>a <strong>b</strong> <em>c</em> <code>&lt;d&gt;</code></p>"),
        ("- one\n- two", "<ul><li>one</li><li>two</li></ul>"),
        ("```\n<x>\n```", "<pre><code>&lt;x&gt;</code></pre>"),
        ("[docs](https://example.com/a?b=1&c=2)",
         '<p><a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">docs</a></p>'),
        ("[x](javascript:alert(1))", "<p>x)</p>"),
        ('[x](" onmouseover="alert(1))', "<p>[x](&#34; onmouseover=&#34;alert(1))</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
    ],
)  # fmt: skip
def test_markdown_subset_is_rendered_and_html_is_escaped(text: str, html: str) -> None:
    assert str(render_markdown(text)) == html


def test_sql_is_highlighted_and_escaped() -> None:
    html = str(highlight_sql("SELECT '<b>' AS x, 42 FROM t -- {{ var('y') }}\nWHERE a < 1"))
    assert '<span class="sql-kw">SELECT</span>' in html
    assert '<span class="sql-string">&#39;&lt;b&gt;&#39;</span>' in html
    assert '<span class="sql-number">42</span>' in html
    assert "<span class=\"sql-comment\">-- {{ var(&#39;y&#39;) }}</span>" in html
    assert "a &lt; <span" in html and "<b>" not in html


def test_a_chart_is_deterministic_svg_with_first_and_last_values() -> None:
    t0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    points = [(t0 + timedelta(days=i), 100.0 + i) for i in range(5)]
    svg = str(line_chart(points, title="Row count <x>"))
    assert svg.startswith('<svg class="chart"') and svg.count("<circle") == 5
    assert "Row count &lt;x&gt;" in svg and "2026-11-05 00:00 104" in svg
    assert svg == str(line_chart(list(reversed(points)), title="Row count <x>"))
    assert str(line_chart([], title="none")) == ""
