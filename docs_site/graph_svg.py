"""The neighbourhood graph of one dataset as inline SVG, laid out at build time.

Three layers (inputs, the dataset, outputs); each dataset is a box whose rows are its
columns (the ports); every column edge is a curve from an input port to an output port,
solid for DIRECT, dashed for INDIRECT. Neighbour boxes are ordered by the mean position of
the ports they connect to (one barycentre pass), which removes most crossings. Never a
whole-project layout: the page carries only its own neighbourhood.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from markupsafe import Markup, escape

from docs_site.lineage_data import ColumnHop, ColumnLineageIndex
from lineage.model import ColumnId, DatasetId

__all__ = ["neighbourhood_svg"]

_BOX_W, _ROW_H, _HEAD_H, _GAP_X, _GAP_Y = 230, 16, 22, 120, 14
_MAX_BOXES, _MAX_PORTS = 8, 30


@dataclass
class _Box:
    dataset: DatasetId
    columns: list[str]
    x: float = 0.0
    y: float = 0.0

    @property
    def height(self) -> float:
        return _HEAD_H + _ROW_H * max(len(self.columns), 1) + 4

    def port_y(self, column: str) -> float:
        return self.y + _HEAD_H + _ROW_H * self.columns.index(column) + _ROW_H / 2


def neighbourhood_svg(
    dataset: DatasetId,
    columns: list[str],
    index: ColumnLineageIndex,
    href: Callable[[DatasetId, str | None], str],
    known: Mapping[DatasetId, object],
) -> Markup:
    """The SVG of ``dataset``'s one-hop neighbourhood (empty Markup without edges)."""
    center = _Box(dataset, columns[:_MAX_PORTS])
    ups: dict[DatasetId, dict[str, None]] = {}
    downs: dict[DatasetId, dict[str, None]] = {}
    links: list[tuple[ColumnId, ColumnId, ColumnHop]] = []
    for name in center.columns:
        target = ColumnId(dataset, name)
        for hop in index.inputs.get(target, []):
            if isinstance(hop.other, ColumnId) and hop.other.dataset != dataset:
                ups.setdefault(hop.other.dataset, {})[hop.other.name] = None
                links.append((hop.other, target, hop))
        for hop in index.outputs.get(target, []):
            if isinstance(hop.other, ColumnId) and hop.other.dataset != dataset:
                downs.setdefault(hop.other.dataset, {})[hop.other.name] = None
                links.append((target, hop.other, hop))
    if not links:
        return Markup("")
    center_rank = {c: i for i, c in enumerate(center.columns)}

    def boxes(side: dict[DatasetId, dict[str, None]], upstream: bool) -> list[_Box]:
        made = []
        for other, names in side.items():
            ports = sorted(names)[:_MAX_PORTS]
            ranks = [
                center_rank[(t if upstream else s).name]
                for s, t, _ in links
                if (s if upstream else t).dataset == other and (s if upstream else t).name in ports
            ]
            made.append((sum(ranks) / len(ranks) if ranks else 0.0, str(other), _Box(other, ports)))
        made.sort(key=lambda item: (item[0], item[1]))
        return [box for _, _, box in made[:_MAX_BOXES]]

    left, right = boxes(ups, True), boxes(downs, False)
    step = _BOX_W + _GAP_X
    columns_x = [0.0, step, 2 * step] if left else [0.0, 0.0, step]
    height = 0.0
    for stack, x in ((left, columns_x[0]), ([center], columns_x[1]), (right, columns_x[2])):
        y = 10.0
        for box in stack:
            box.x, box.y = x + 10, y
            y += box.height + _GAP_Y
        height = max(height, y)
    placed = {b.dataset: b for b in (*left, center, *right)}
    width = (columns_x[2] if right else columns_x[1]) + _BOX_W + 20
    parts = [
        f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" role="img">'
        f"<title>Column lineage around {escape(dataset.name)}</title>"
    ]
    for source, target, hop in links:
        a, b = placed.get(source.dataset), placed.get(target.dataset)
        if a is None or b is None or source.name not in a.columns or target.name not in b.columns:
            continue
        x1, y1 = a.x + _BOX_W, a.port_y(source.name)
        x2, y2 = b.x, b.port_y(target.name)
        mid = (x1 + x2) / 2
        dash = "" if hop.status != "indirect" else ' stroke-dasharray="4 3"'
        parts.append(
            f'<path class="edge edge-{hop.status}" d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} '
            f'{mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" fill="none"{dash}><title>'
            f"{escape(source.name)} -> {escape(target.name)}: {escape(hop.label)}</title></path>"
        )
    for box in placed.values():
        main = " box-main" if box.dataset == dataset else ""
        parts.append(
            f'<g class="box{main}"><rect x="{box.x:.1f}" y="{box.y:.1f}" width="{_BOX_W}" '
            f'height="{box.height:.1f}" rx="4"/>'
        )
        title = escape(_short(box.dataset.name, 34))
        if box.dataset in known:
            parts.append(
                f'<a href="{escape(href(box.dataset, None))}"><text x="{box.x + 6:.1f}" '
                f'y="{box.y + 15:.1f}" class="box-title">{title}</text></a>'
            )
        else:
            parts.append(
                f'<text x="{box.x + 6:.1f}" y="{box.y + 15:.1f}" class="box-title">{title}</text>'
            )
        for column in box.columns:
            y = box.port_y(column) + 4
            label = escape(_short(column, 32))
            link = escape(href(box.dataset, column)) if box.dataset in known else None
            text = f'<text x="{box.x + 10:.1f}" y="{y:.1f}" class="port">{label}</text>'
            parts.append(f'<a href="{link}">{text}</a>' if link else text)
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(text: str, size: int) -> str:
    return text if len(text) <= size else "…" + text[-(size - 1):]
