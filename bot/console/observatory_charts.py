"""The observatory's charts drawn with matplotlib (Agg, no GUI), as SVG or PNG.

Why matplotlib: maintained, renders on the server (no JavaScript, no CDN), and writes SVG
whose text stays text (svg.fonttype "none"), so the page's browser tests can check labels.
Suppressed values are never drawn as zero: lines break, bars are hatched up to k and
labelled "<k", and the legend says why.

Figures are cached by their `ChartData` (frozen, hashable): the same data is the same
picture, so the cache never goes stale and a data change renders anew.
"""

from __future__ import annotations

import io
import re
import threading
from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING, Any, Literal

import matplotlib

matplotlib.use("Agg")  # before any figure: never a GUI backend on a server

from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bot.console import copy
from bot.console.observatory_data import ChartData

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

Format = Literal["svg", "png"]
# Okabe-Ito (readable with colour blindness); past seven themes lines turn dashed, and
# markers tell them apart too.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")
BAR = "#0072B2"
HIDDEN = "#6b6b6b"
MAX_MONTH_TICKS = 8
STYLE: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "text.parse_math": False,  # a "$" in a label is text, not TeX
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # shipped with matplotlib and in Debian's fonts
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
}
# pyplot is not used, but rcParams and the font cache are global: one render at a time.
_LOCK = threading.Lock()


def _lines(ax: Axes, data: ChartData) -> None:
    x = range(len(data.keys))
    for n, s in enumerate(data.series):
        # NaN breaks the line: a suppressed month is a gap, not a zero.
        y = [float("nan") if v is None else v for v in s.values]
        ax.plot(
            x,
            y,
            color=PALETTE[n % len(PALETTE)],
            linestyle="-" if n < len(PALETTE) else "--",
            marker=MARKERS[n % len(MARKERS)],
            linewidth=2,
            markersize=6,
            label=s.label,
            gid=f"mark{n}",
        )
    step = max(1, -(-len(x) // MAX_MONTH_TICKS))  # ceil: at most 8 month labels
    ax.set_xticks(list(x)[::step], list(data.labels)[::step])
    ax.set_xlim(-0.5, len(x) - 0.5)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(data.axis)
    ax.grid(axis="y", color="#dddddd")


def _bars(ax: Axes, data: ChartData) -> None:
    values = data.series[0].values
    shown = [data.k if v is None else v for v in values]  # hidden bars reach up to k
    horizontal = data.kind == "hbar"
    pos = range(len(values))
    draw = ax.barh if horizontal else ax.bar
    bars = draw(pos, shown, 0.6, color=BAR)
    for i, (bar, v) in enumerate(zip(bars, values, strict=True)):
        bar.set_gid(f"mark{i}")  # the marks the browser tests look for
        if v is None:
            bar.set(facecolor="white", edgecolor=HIDDEN, hatch="///", linewidth=1)
    ax.bar_label(
        bars,
        labels=[f"<{data.k}" if v is None else str(v) for v in values],
        padding=4,
        color="#222222",
    )
    peak = max(shown) * 1.18  # room for the value labels inside the axes
    value_axis = ax.xaxis if horizontal else ax.yaxis
    value_axis.set_major_locator(MaxNLocator(integer=True))
    if horizontal:
        ax.set_yticks(list(pos), list(data.labels))
        ax.invert_yaxis()  # largest on top
        ax.set_xlim(0, peak)
        ax.set_xlabel(data.axis)
        ax.grid(axis="x", color="#dddddd")
    else:
        ax.set_xticks(list(pos), list(data.labels))
        ax.set_ylim(0, peak)
        ax.set_ylabel(data.axis)
        ax.set_xlabel(data.xlabel)
        ax.grid(axis="y", color="#dddddd")
    ax.set_axisbelow(True)


def _legend(fig: FigureBase, ax: Axes, data: ChartData) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if data.kind != "lines":  # explicit: the first bar may be a hatched one
        handles, labels = [Patch(facecolor=BAR)], [data.series[0].label]
        if data.suppressed:
            handles.append(Patch(facecolor="white", edgecolor=HIDDEN, hatch="///"))
            labels.append(copy.text("observatory.suppressed", k=data.k))
    # Outside, below the axes: constrained layout makes room, it never covers the marks.
    columns = 3 if data.kind == "lines" else 2
    fig.legend(handles, labels, loc="outside lower center", ncols=columns, frameon=False)


def _figure(data: ChartData) -> Figure:
    rows = len(data.series) if data.kind == "lines" else len(data.keys)
    if data.empty:
        height = 1.6
    elif data.kind == "lines":
        height = 4.2 + 0.25 * -(-rows // 3)
    else:
        height = 2.0 + 0.36 * max(rows, 3)
    fig = Figure(figsize=(8, height), layout="constrained")
    if data.empty:
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_title(data.title)
        ax.text(0.5, 0.4, copy.text("observatory.empty"), ha="center", va="center", fontsize=12)
        return fig
    # The footnote gets its own strip at the bottom, so it never meets the legend.
    note = 0.3 if data.suppressed else 0.01
    parts: Any = fig.subfigures(2, 1, height_ratios=[height - note, note])
    chart, foot = parts
    ax = chart.add_subplot()
    ax.set_title(data.title)
    (_lines if data.kind == "lines" else _bars)(ax, data)
    _legend(chart, ax, data)
    if data.suppressed:
        key = "gap_note" if data.kind == "lines" else "suppressed_note"
        foot.text(
            0.5,
            0.5,
            copy.text(f"observatory.{key}", k=data.k),
            ha="center",
            va="center",
            fontsize=9,
            color="#444444",
        )
    return fig


@lru_cache(maxsize=64)
def render(data: ChartData, fmt: Format) -> bytes:
    """The chart as SVG (text kept as text) or PNG bytes."""
    with _LOCK, matplotlib.rc_context(STYLE):
        matplotlib.rcParams["svg.hashsalt"] = data.name  # stable ids, other charts' differ
        fig = _figure(data)
        out = io.BytesIO()
        fig.savefig(out, format=fmt, dpi=150 if fmt == "png" else 100, metadata=_metadata(fmt))
    return out.getvalue()


def _metadata(fmt: Format) -> dict[str, str | None]:
    # No creation date: the same data gives the same bytes (stable downloads and tests).
    return {"Date": None} if fmt == "svg" else {"Software": None}


_ID = re.compile(r'(\bid="|url\(#|xlink:href="#)')


def inline_svg(data: ChartData) -> str:
    """The SVG for inlining in the page: no XML prolog, ids prefixed by the chart's name
    (several charts share one document), and an accessible name."""
    svg = render(data, "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]
    svg = _ID.sub(lambda m: f"{m.group(1)}{data.name}-", svg)
    label = data.title + (f": {copy.text('observatory.empty')}" if data.empty else "")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" class="chart" ', 1)
