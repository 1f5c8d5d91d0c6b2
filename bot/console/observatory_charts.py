"""Server-rendered SVG charts for the observatory page (no JavaScript, no CDN).

Suppressed values (None: below k) are drawn as gaps and labelled "<k", never as zero,
so a chart cannot reveal what the tables hide.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

WIDTH = 640
BAR_HEIGHT = 22
LABEL_WIDTH = 190
PALETTE = ("#1f6f8b", "#e07a1f", "#2e8b57", "#8b3a62", "#6a5acd", "#b8860b", "#4682b4")


def bar_chart(title: str, items: list[tuple[str, int | None]], *, k: int) -> Markup:
    """Horizontal bars, one per label; `None` values are shown as "<k" without a bar."""
    height = BAR_HEIGHT * max(len(items), 1) + 10
    top = max((v for _, v in items if v), default=1)
    scale = (WIDTH - LABEL_WIDTH - 60) / top
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} '
        f'{height}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(items):
        y = i * BAR_HEIGHT + 5
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
        )
        if value is None:
            parts.append(
                f'<text x="{LABEL_WIDTH + 4}" y="{y + 15}" class="suppressed">&lt;{k}</text>'
            )
            continue
        w = max(value * scale, 1)
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{w:.1f}" height="{BAR_HEIGHT - 6}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{LABEL_WIDTH + w + 4:.1f}" y="{y + 15}">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    title: str, months: list[str], series: dict[str, list[int | None]], *, k: int
) -> Markup:
    """One line per series over the months; suppressed points break the line."""
    height, left, bottom, top_pad = 240, 40, 30, 10
    plot_w, plot_h = WIDTH - left - 150, height - bottom - top_pad
    peak = max((v for values in series.values() for v in values if v), default=1)
    step = plot_w / max(len(months) - 1, 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return left + i * step, top_pad + plot_h - v / peak * plot_h

    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} '
        f'{height}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}"'
        ' stroke="#888"/>',
        f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end">{peak}</text>',
    ]
    for i, month in enumerate(months):
        x = left + i * step
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{escape(month)}</text>'
        )
    for n, (name, values) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, v in enumerate(values):
            if v is None:  # below k: a gap, not a zero
                runs.append([])
                continue
            x, y = xy(i, v)
            runs[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(name)} {escape(months[i])}: {v}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="2" '
                    f'points="{" ".join(run)}"/>'
                )
        y_legend = top_pad + 14 + n * 16
        parts.append(
            f'<rect x="{left + plot_w + 12}" y="{y_legend - 9}" width="10" height="10" '
            f'fill="{color}"/><text x="{left + plot_w + 26}" y="{y_legend}">{escape(name)}</text>'
        )
    parts.append(
        f'<text x="{WIDTH - 4}" y="{height - 8}" text-anchor="end" class="suppressed">'
        f"punti mancanti: &lt;{k}</text></svg>"
    )
    return Markup("".join(parts))
