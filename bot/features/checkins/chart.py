"""The weekly mood chart: one bar per day (the day's average mood, 1..5) as a small PNG.

matplotlib is imported lazily, with the Agg backend, so the bot starts fast and needs no display.
The layout is fixed (figure size, DPI, axes box) so tests can measure the bars in the pixels.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# Figure size in inches and DPI: 8 x 4.5 at 100 DPI = 800 x 450 pixels.
SIZE = (8.0, 4.5)
DPI = 100
# The axes box as fractions of the figure: left, bottom, width, height.
AXES = (0.1, 0.17, 0.86, 0.7)
Y_MAX = 5.0
BAR_WIDTH = 0.6
DAY_ABBR = ("ma", "di", "wo", "do", "vr", "za", "zo")
MOOD_WORDS = {1: "zwaar", 2: "niet zo goed", 3: "gaat wel", 4: "best oké", 5: "goed"}
# Warm for low days, green for good ones; never red (nothing here is an alarm).
BAR_COLOURS = {1: "#9c6b98", 2: "#b58db1", 3: "#d9a441", 4: "#8fbf7f", 5: "#4f9a5a"}


@dataclass(frozen=True)
class Day:
    """One day of the chart: the local date and the average mood (None: no check-in)."""

    day: date
    mood: float | None


def colour_for(mood: float) -> str:
    """The bar colour of a (possibly averaged) mood."""
    return BAR_COLOURS[min(5, max(1, round(mood)))]


def render_week(days: Sequence[Day], title: str = "Je week in beeld") -> bytes:
    """Draw the days as bars on a 1..5 scale and return the PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    # A Figure without pyplot: no global state, safe to use from several tasks.
    fig = Figure(figsize=SIZE, dpi=DPI, facecolor="white")
    ax = fig.add_axes(AXES)
    ax.set_xlim(-0.5, len(days) - 0.5)
    ax.set_ylim(0, Y_MAX)
    for index, d in enumerate(days):
        if d.mood is not None:
            ax.bar(index, d.mood, width=BAR_WIDTH, color=colour_for(d.mood), linewidth=0)
        else:
            # An empty day is fine: a small grey dash, no judgement.
            ax.text(index, 0.15, "–", ha="center", va="bottom", color="#bbbbbb", fontsize=14)
    ax.set_xticks(range(len(days)))
    ax.set_xticklabels([f"{DAY_ABBR[d.day.weekday()]}\n{d.day.day}/{d.day.month}" for d in days])
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_yticklabels([MOOD_WORDS[i] for i in range(1, 6)], fontsize=8)
    ax.tick_params(axis="both", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#999999")
    ax.set_title(title, fontsize=13, color="#333333")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def summary(days: Sequence[Day]) -> str:
    """The one-line summary in words that goes with the chart (Dutch, for the client)."""
    filled = [d for d in days if d.mood is not None]
    if not filled:
        return "Deze week heb je geen stemming ingevuld. Dat is helemaal oké."
    average = sum(d.mood for d in filled if d.mood is not None) / len(filled)
    count = len(filled)
    days_word = "dag" if count == 1 else "dagen"
    text = f"Je vulde op {count} {days_word} je stemming in, gemiddeld {_comma(average)} van de 5"
    best = max(filled, key=lambda d: (d.mood or 0, d.day))
    if count > 1 and any(d.mood != best.mood for d in filled):
        text += f"; je fijnste dag was {_WEEKDAY_NAMES[best.day.weekday()]}"
    return text + "."


_WEEKDAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def _comma(value: float) -> str:
    """One decimal with a Dutch decimal comma."""
    return f"{value:.1f}".replace(".", ",")
