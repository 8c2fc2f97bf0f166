"""The weekly mood chart: a real PNG whose bars have the heights of the moods."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta

from PIL import Image

from bot.features.checkins import chart

MONDAY = date(2026, 11, 23)


def week(moods: Sequence[float | None]) -> list[chart.Day]:
    return [chart.Day(MONDAY + timedelta(days=i), m) for i, m in enumerate(moods)]


def measured_moods(png: bytes, days: int = 7) -> list[float | None]:
    """Read the bar heights back out of the pixels, in mood units (None: no bar)."""
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    rgb = image.convert("RGB")
    width, height = rgb.size
    left, bottom, ax_w, ax_h = chart.AXES
    x0, px_w = left * width, ax_w * width
    y_bottom = (1 - bottom) * height
    px_h = ax_h * height
    colours = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in chart.BAR_COLOURS.values()}
    out: list[float | None] = []
    for index in range(days):
        x = int(x0 + (index + 0.5) / days * px_w)
        top = None
        for y in range(int(y_bottom) - 2, 0, -1):
            if rgb.getpixel((x, y)) in colours:
                top = y
            elif top is not None:
                break
        out.append(None if top is None else (y_bottom - top) / px_h * chart.Y_MAX)
    return out


def test_png_bars_match_the_moods() -> None:
    moods: list[float | None] = [1, 2, None, 4, 5, 3.5, 2]
    png = chart.render_week(week(moods))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.size == (int(chart.SIZE[0] * chart.DPI), int(chart.SIZE[1] * chart.DPI))
    got = measured_moods(png)
    for want, have in zip(moods, got, strict=True):
        if want is None:
            assert have is None
        else:
            assert have is not None and abs(have - want) < 0.1, (want, have)


def test_an_empty_week_draws_no_bars() -> None:
    assert measured_moods(chart.render_week(week([None] * 7))) == [None] * 7


def test_summary_in_words() -> None:
    assert "geen stemming" in chart.summary(week([None] * 7))
    one = chart.summary(week([None, 3, None, None, None, None, None]))
    assert one == "Je vulde op 1 dag je stemming in, gemiddeld 3,0 van de 5."
    several = chart.summary(week([2, 4, None, 5, None, None, 3]))
    assert "4 dagen" in several and "gemiddeld 3,5" in several
    assert "fijnste dag was donderdag" in several
    # Every day the same: no "best day" to point at.
    assert "fijnste" not in chart.summary(week([3, 3, 3, None, None, None, None]))


def test_colour_for_rounds_into_the_scale() -> None:
    assert chart.colour_for(1.2) == chart.BAR_COLOURS[1]
    assert chart.colour_for(4.6) == chart.BAR_COLOURS[5]
