"""Server-rendered bar charts: geometry computed here, drawn by the template as SVG attributes
(no inline style or script: the CSP stays strict)."""

from dataclasses import dataclass

SLOT = 24  # width of one week
BAR = 16
HEIGHT = 100  # drawing area; labels below it
LABEL_ROOM = 18


@dataclass(frozen=True)
class Bar:
    x: int
    y: float
    width: int
    height: float
    value: float | None
    label: str  # the week, "12 Oct"
    text: str  # the value as shown in the bar's tooltip

    @property
    def empty(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Chart:
    key: str  # deployments, lead_time, failure_rate, restore_time
    title: str
    unit: str
    headline: str  # the window's figure, big beside the title
    definition: str
    bars: list[Bar]
    top: float  # the value of the chart's top line
    width: int
    height: int = HEIGHT + LABEL_ROOM
    axis_y: int = HEIGHT

    @property
    def ticks(self) -> list[Bar]:
        """Bars whose week label is printed (every 4th, and the last)."""
        last = len(self.bars) - 1
        return [b for i, b in enumerate(self.bars) if i % 4 == last % 4]


def _nice_top(highest: float) -> float:
    if highest <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if highest <= step:
            return step
    return highest


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    if unit == "%":
        return f"{value:g} %"
    if unit == "h":
        return f"{value / 24:.1f} d" if value >= 48 else f"{value:.1f} h"
    return f"{value:g}"


def bar_chart(*, key, title, unit, headline, definition, values, labels) -> Chart:
    top = _nice_top(max([v for v in values if v is not None], default=0))
    bars = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = 0.0 if value is None else round(HEIGHT * value / top, 1)
        bars.append(
            Bar(
                x=index * SLOT + (SLOT - BAR) // 2,
                y=round(HEIGHT - height, 1),
                width=BAR,
                height=height,
                value=value,
                label=label,
                text=f"week of {label}: {format_value(value, unit)}",
            )
        )
    return Chart(
        key=key,
        title=title,
        unit=unit,
        headline=headline,
        definition=definition,
        bars=bars,
        top=top,
        width=len(values) * SLOT,
    )
