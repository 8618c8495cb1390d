"""The report's charts as SVG, drawn from the canonical data (each has its data table beneath it in the PDF).

Legible in black-and-white print: series differ by grey level and outline, the heat map has five well-separated grey
levels with a legend, lines have markers. Every text is escaped (``_esc``); numbers are formatted by ``Labels`` (first language),
words are in each language. Sizes are SVG user units; the PDF scales a chart to the text width (720 units ≈ 180 mm,
so 9 units ≈ 6.7 pt).

- :func:`daily_volume`: crossings per day, stacked by direction.
- :func:`release_distribution`: time to release per band (bars), the cumulative share (line), the target marked.
- :func:`stage_bars`: median wait and median service per stage, horizontal stacked bars.
- :func:`wait_heatmap`: median wait by weekday × hour, grey levels against the wait target (the two darkest are
  over it); the figures are in the table beneath (a number in each of 168 cells would double the chart's render
  time).
"""

from __future__ import annotations

import math
from html import escape

from flask_babel import lazy_gettext as _l

from osbp.bilateral.labels import Labels, agency_label, direction_label, stage_label

WIDTH = 720
FONT = "DejaVu Sans"
INK = "#1a1a1a"
DARK = "#4a4a4a"
LIGHT = "#c4c4c4"
GRID = "#d9d9d9"

PERSONS = _l("Persons")
CROSSINGS_TIMED = _l("Crossings timed")
CUMULATIVE_SHARE = _l("Share released within the time (%)")
MINUTES_TO_RELEASE = _l("Minutes from arrival to release")
TARGET = _l("Target: %(minutes)s min")
MEDIAN_WAIT = _l("Median wait")
MEDIAN_SERVICE = _l("Median service")
MINUTES = _l("Minutes")
MEDIAN_WAIT_MIN = _l("Median wait (min)")
SMALL_CELLS_NOT_DRAWN = _l('Cells of 1 to 4 persons ("< 5") are not drawn.')
NO_DATA = _l("No data for this period.")


def _esc(value) -> str:
    return escape(str(value), quote=True)


def _text(x, y, value, *, size=9, anchor="start", weight="normal", fill=INK) -> str:
    """One text (escaped). Texts are what a chart costs to render (each is laid out by Pango): keep them few."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
        f'fill="{fill}">{_esc(value)}</text>'
    )


def _rect(x, y, w, h, fill, stroke=None, stroke_width=0.6, dash=None) -> str:
    extra = f' stroke="{stroke}" stroke-width="{stroke_width}"' if stroke else ""
    if dash:
        extra += f' stroke-dasharray="{dash}"'
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}"{extra}/>'


def _line(x1, y1, x2, y2, stroke=INK, width=0.8, dash=None) -> str:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{width}"{extra}/>'
    )


def _svg(height: float, parts: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="{FONT}">'
        f"<title>{_esc(title)}</title>" + "".join(parts) + "</svg>"
    )


def _number(value) -> float:
    """A count as a number for drawing: a small cell ("< 5") and a missing one draw as nothing."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def nice_ceiling(value: float, ticks: int = 5) -> tuple[float, float]:
    """(axis maximum, step): a round step (1, 2, 2.5, 5 × 10ⁿ) giving about ``ticks`` intervals."""
    if value <= 0:
        return 1.0, 1.0 / ticks
    raw = value / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return step * math.ceil(value / step), step


def _legend(x, y, items: list[tuple[str, str]]) -> tuple[list[str], float]:
    """Swatches with their texts left to right; returns the parts and the x after the last item."""
    parts = []
    for kind, text in items:
        if kind == "line":
            parts.append(_line(x, y - 3.5, x + 18, y - 3.5, width=1.6))
            parts.append(f'<circle cx="{x + 9:.1f}" cy="{y - 3.5:.1f}" r="2.6" fill="#ffffff" stroke="{INK}"/>')
            x += 24
        elif kind == "dash":
            parts.append(_line(x + 5, y - 10, x + 5, y + 2, width=1.2, dash="3,2"))
            x += 12
        else:
            parts.append(_rect(x, y - 8, 12, 9, kind, stroke=INK))
            x += 17
        parts.append(_text(x, y, text))
        x += 7 + len(text) * 5.4
    return parts, x


def _y_axis(left, top, height, maximum, step, labels: Labels, *, right=None, percent=False) -> list[str]:
    parts = []
    value = 0.0
    while value <= maximum + step / 2:
        y = top + height - height * value / maximum
        if right is None:
            parts.append(_line(left, y, WIDTH - 12, y, stroke=GRID, width=0.5))
            parts.append(_text(left - 4, y + 3, labels.count(round(value)), size=8, anchor="end"))
        else:
            shown = labels.decimal(value * 100, 0) if percent else labels.count(round(value))
            parts.append(_text(right + 4, y + 3, shown, size=8))
        value += step
    return parts


# -- daily volume --------------------------------------------------------------------------------------------------


def daily_volume(data: dict, labels: Labels) -> str:
    section = data["sections"]["volume"]
    post = data["post"]
    directions = [f"{post['country_a']}-{post['country_b']}", f"{post['country_b']}-{post['country_a']}"]
    days = section["by_day"]
    height, top, left, bottom = 250.0, 34.0, 52.0, 36.0
    plot_h = height - top - bottom
    plot_w = WIDTH - left - 12
    title = labels.text(_l("Crossings per day"))
    if not days:
        return _svg(60, [_text(left, 30, labels.text(NO_DATA))], title)
    sums = [[sum(_number(v) for v in day["lanes"].get(d, {}).values()) for d in directions] for day in days]
    maximum, step = nice_ceiling(max(sum(s) for s in sums) or 1)
    fills = (DARK, LIGHT)
    legend_items = [(fills[i], direction_label(d)) for i, d in enumerate(directions)]
    parts, end = _legend(left, 14, legend_items)
    parts.append(_text(WIDTH - 12, 14, labels.text(PERSONS), size=8, anchor="end", fill=DARK))
    parts += _y_axis(left, top, plot_h, maximum, step, labels)
    slot = plot_w / len(days)
    bar = slot * 0.72
    every = max(1, math.ceil(len(days) / 16))  # about 16 day numbers: each one is a text to lay out
    several_months = days[0]["date"][:7] != days[-1]["date"][:7]
    for index, (day, (first, second)) in enumerate(zip(days, sums, strict=True)):
        x = left + index * slot + (slot - bar) / 2
        y = top + plot_h
        for value, fill in ((first, fills[0]), (second, fills[1])):
            h = plot_h * value / maximum
            y -= h
            parts.append(_rect(x, y, bar, h, fill, stroke=INK, stroke_width=0.4))
        if index % every == 0:
            # the day of the month; with the month when the period runs over more than one
            shown = labels.day_month(day["date"]) if several_months else str(int(day["date"][8:10]))
            parts.append(_text(x + bar / 2, top + plot_h + 11, shown, size=7.5, anchor="middle"))
    parts.append(_line(left, top + plot_h, WIDTH - 12, top + plot_h))
    first, last = days[0]["date"], days[-1]["date"]
    parts.append(
        _text(left + plot_w / 2, height - 6, f"{labels.date(first)} – {labels.date(last)}", size=8, anchor="middle")
    )
    return _svg(height, parts, title)


# -- release distribution ------------------------------------------------------------------------------------------


def release_distribution(data: dict, labels: Labels) -> str:
    section = data["sections"]["release"]
    rules = data["rules"]
    bands = section["histogram"]
    height, top, left, bottom, right = 270.0, 40.0, 52.0, 44.0, WIDTH - 44.0
    plot_h = height - top - bottom
    plot_w = right - left
    title = labels.text(_l("Distribution of the time to release"))
    if not bands:
        return _svg(60, [_text(left, 30, labels.text(NO_DATA))], title)
    maximum, step = nice_ceiling(max(_number(b["count"]) for b in bands) or 1)
    parts, end = _legend(
        left,
        14,
        [
            (LIGHT, labels.text(CROSSINGS_TIMED)),
            ("line", labels.text(CUMULATIVE_SHARE)),
        ],
    )
    parts += _y_axis(left, top, plot_h, maximum, step, labels)
    parts += _y_axis(left, top, plot_h, 1.0, 0.25, labels, right=right, percent=True)
    slot = plot_w / len(bands)
    for index, band in enumerate(bands):
        x = left + index * slot + slot * 0.12
        h = plot_h * _number(band["count"]) / maximum
        parts.append(_rect(x, top + plot_h - h, slot * 0.76, h, LIGHT, stroke=INK, stroke_width=0.5))
        label = f"{band['from_minutes']}–{band['to_minutes']}"
        parts.append(_text(left + (index + 0.5) * slot, top + plot_h + 11, label, size=7.5, anchor="middle"))
    parts.append(_line(left, top + plot_h, right, top + plot_h))
    parts.append(_line(right, top, right, top + plot_h, stroke=GRID, width=0.5))
    parts.append(
        _text(left + plot_w / 2, height - 20, labels.text(MINUTES_TO_RELEASE), size=8, anchor="middle", fill=DARK)
    )

    def x_of(minutes: float) -> float:
        for index, band in enumerate(bands):
            low, high = band["from_minutes"], band["to_minutes"]
            if minutes <= high:
                return left + (index + max(0.0, (minutes - low) / (high - low))) * slot
        return right

    points = [(x_of(0), top + plot_h, None)]
    for point in section["cumulative"]:
        if point["share"] is not None:
            points.append((x_of(point["minutes"]), top + plot_h - plot_h * point["share"], point["share"]))
    if section["overall"] and section["overall"].get("count") not in (None, 0, "< 5"):
        points.append((right, top, None))  # every timed crossing is within the outlier limit
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="1.6"/>')
        for x, y, share in points:
            if share is not None:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.8" fill="#ffffff" stroke="{INK}"/>')
                text = labels.share(share)
                parts.append(_rect(x - 6 - len(text) * 5.0, y - 13, len(text) * 5.0 + 3, 10, "#ffffff"))
                parts.append(_text(x - 4, y - 5, text, size=7.5, anchor="end", weight="bold"))
    target = rules["release_target_minutes"]
    x = x_of(target)
    parts.append(_line(x, top - 6, x, top + plot_h, width=1.2, dash="4,3"))
    parts.append(_text(x + 4, top - 2, labels.text(TARGET, minutes=target), size=8, weight="bold"))
    parts.append(_text(right + 4, top - 12, "%", size=8))
    return _svg(height, parts, title)


# -- stage breakdown -------------------------------------------------------------------------------------------------


def stage_bars(data: dict, labels: Labels) -> str:
    section = data["sections"]["stages"]
    rows = section["rows"]
    bottleneck = section.get("bottleneck") or {}
    row_h, top, label_w = 26.0, 30.0, 210.0
    left, right = label_w, WIDTH - 64
    height = top + row_h * max(len(rows), 1) + 26
    title = labels.text(_l("Waiting and processing time per stage"))
    totals = [
        ((r.get("waiting") or {}).get("median") or 0) / 60 + ((r.get("processing") or {}).get("median") or 0) / 60
        for r in rows
    ]
    maximum, step = nice_ceiling(max(totals, default=0) or 1)
    parts, _end = _legend(label_w, 14, [(LIGHT, labels.text(MEDIAN_WAIT)), (DARK, labels.text(MEDIAN_SERVICE))])
    scale = (right - left) / maximum
    value = 0.0
    while value <= maximum + step / 2:
        x = left + value * scale
        parts.append(_line(x, top - 4, x, top + row_h * len(rows), stroke=GRID, width=0.5))
        parts.append(_text(x, top + row_h * len(rows) + 11, labels.decimal(value, 0), size=8, anchor="middle"))
        value += step
    parts.append(_text(right, top + row_h * len(rows) + 23, labels.text(MINUTES), size=8, anchor="end", fill=DARK))
    for index, (row, total) in enumerate(zip(rows, totals, strict=True)):
        y = top + index * row_h
        key = {k: row[k] for k in ("country", "agency", "stage")}
        weight = "bold" if key == bottleneck else "normal"
        names = _stage_names(row, labels)
        parts.append(_text(label_w - 6, y + 10, names[0], size=8.5, anchor="end", weight=weight))
        if len(names) > 1:
            parts.append(_text(label_w - 6, y + 20, names[1], size=7.5, anchor="end", fill=DARK))
        wait = (row.get("waiting") or {}).get("median")
        work = (row.get("processing") or {}).get("median")
        x = left
        for seconds, fill in ((wait, LIGHT), (work, DARK)):
            if seconds:
                w = seconds / 60 * scale
                parts.append(_rect(x, y + 4, w, row_h - 10, fill, stroke=INK, stroke_width=0.5))
                x += w
        shown = labels.decimal(total) if work is not None else (row.get("processing") or {}).get("count") or "—"
        parts.append(_text(x + 4, y + row_h / 2 + 2, shown if isinstance(shown, str) else str(shown), size=8))
    parts.append(_line(left, top - 4, left, top + row_h * len(rows)))
    return _svg(height, parts, title)


def _stage_names(row: dict, labels: Labels) -> list[str]:
    """The stage's name in each language: "RW Immigration · Counter"."""
    out: list[str] = []
    for lang in labels.langs:
        agency = labels.in_lang(lang, str, agency_label(row["agency"]))
        stage = labels.in_lang(lang, str, stage_label(row["stage"]))
        name = f"{row['country']} {agency} · {stage}"
        if name not in out:
            out.append(name)
    return out


# -- wait heat map ---------------------------------------------------------------------------------------------------

SHADES = ("#f4f4f4", "#d2d2d2", "#a6a6a6", "#5e5e5e", "#262626")


def shade_limits(target_minutes: float) -> list[float]:
    """Upper limits (minutes) of the first four grey levels: a third, two thirds, the target, 1.5 × the target."""
    return [target_minutes / 3, target_minutes * 2 / 3, target_minutes, target_minutes * 1.5]


def wait_heatmap(data: dict, labels: Labels) -> str:
    from osbp.bilateral.annex import pattern_hours

    section = data["sections"]["pattern"]
    target = section["wait_target"]["minutes"]
    hours = pattern_hours(section)
    title = labels.text(_l("Median wait by weekday and hour"))
    if not hours:
        return _svg(60, [_text(20, 30, labels.text(NO_DATA))], title)
    cells = {(c["weekday"], c["hour"]): c for c in section["median_wait"]}
    left, top, cell_h = 96.0, 24.0, 22.0
    cell_w = (WIDTH - left - 8) / len(hours)
    limits = shade_limits(target)
    parts = [_text(left, 12, labels.text(MEDIAN_WAIT_MIN), size=8.5, fill=DARK)]
    for column, hour in enumerate(hours):
        parts.append(_text(left + (column + 0.5) * cell_w, top - 3, f"{hour:02d}", size=7.5, anchor="middle"))
    for weekday in range(7):
        y = top + weekday * cell_h
        parts.append(_text(left - 6, y + cell_h / 2 + 3, " / ".join(labels.weekday(weekday)), size=8, anchor="end"))
        for column, hour in enumerate(hours):
            x = left + column * cell_w
            cell = cells.get((weekday, hour))
            if cell is None:
                parts.append(_rect(x + 0.5, y + 0.5, cell_w - 1, cell_h - 1, "#ffffff", stroke=GRID, stroke_width=0.4))
                continue
            median = cell["median"]
            if median is None:
                parts.append(_rect(x + 0.5, y + 0.5, cell_w - 1, cell_h - 1, "#ffffff", stroke=DARK, dash="1.5,1.5"))
                parts.append(_text(x + cell_w / 2, y + cell_h / 2 + 3, "< 5", size=6.5, anchor="middle", fill=DARK))
                continue
            minutes = median / 60
            level = sum(1 for limit in limits if minutes >= limit)
            parts.append(_rect(x + 0.5, y + 0.5, cell_w - 1, cell_h - 1, SHADES[level], stroke="#ffffff"))
    # Legend: the grey levels with their ranges, the target.
    y = top + 7 * cell_h + 18
    x = left
    bounds = [0, *limits]
    for level, shade in enumerate(SHADES):
        low = bounds[level]
        text = (
            f"≥ {labels.decimal(low, 0)}"
            if level == len(SHADES) - 1
            else f"{labels.decimal(low, 0)}–{labels.decimal(bounds[level + 1], 0)}"
        )
        parts.append(_rect(x, y - 9, 16, 11, shade, stroke=INK, stroke_width=0.4))
        parts.append(_text(x + 20, y, text, size=8))
        x += 26 + len(text) * 5.4
    parts.append(_text(x + 6, y, labels.text(TARGET, minutes=target), size=8, weight="bold"))
    return _svg(y + 8, parts, title)
