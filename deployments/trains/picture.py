"""The plan as a picture, drawn on the server as SVG: a column per wave, a box per service,
a line per dependency the train orders by (no script, so a strict CSP holds)."""

from dataclasses import dataclass

from .planner import Edge

BOX_W, BOX_H, GAP_X, GAP_Y, TOP = 180, 44, 70, 16, 40


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    name: str
    version: str
    owner: str
    state: str


@dataclass(frozen=True)
class Line:
    x1: int
    y1: int
    x2: int
    y2: int
    kind: str
    implied: bool = False  # through services outside the train


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    boxes: list[Box]
    lines: list[Line]
    headers: list[tuple[int, str]]


def train_picture(waves, edges: list[Edge]) -> Picture:
    """Layout of `waves` (WaveView list) and the `edges` between their components."""
    where, boxes, headers = {}, [], []
    for column, wave in enumerate(waves):
        x = 10 + column * (BOX_W + GAP_X)
        headers.append((x, f"Wave {wave.number} · {wave.affected} affected"))
        for row, service in enumerate(wave.services):
            y = TOP + row * (BOX_H + GAP_Y)
            where[service.component_id] = (x, y)
            boxes.append(
                Box(
                    x,
                    y,
                    service.component.name,
                    service.version,
                    str(service.component.owner or "no owner"),
                    service.state,
                )
            )
    lines = [
        Line(
            where[e.provider][0] + BOX_W,
            where[e.provider][1] + BOX_H // 2,
            where[e.consumer][0],
            where[e.consumer][1] + BOX_H // 2,
            e.kind,
            e.via is not None,
        )
        for e in edges
        if e.provider in where and e.consumer in where
    ]
    tallest = max((len(w.services) for w in waves), default=1)
    return Picture(
        width=20 + len(waves) * (BOX_W + GAP_X),
        height=TOP + tallest * (BOX_H + GAP_Y) + 10,
        boxes=boxes,
        lines=lines,
        headers=headers,
    )
