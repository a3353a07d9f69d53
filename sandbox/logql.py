"""The LogQL subset the Loki sandbox understands, parsed as Loki does and refused as Loki does.

Log queries: a stream selector `{name="v", name!="v", name=~"re", name!~"re"}` followed by any of
the pipeline stages `|= "text"`, `!= "text"`, `|~ "re"`, `!~ "re"`, `| json`, `| logfmt` and
label filters `| name="v"` (also `!=`, `=~`, `!~`, and `>`, `>=`, `<`, `<=`, `==` against a
number). Metric queries: `count_over_time(<log query> [1m])` or `rate(...)`, optionally inside
`sum(...)` or `sum by (a, b) (...)`. Anything else is a 400 "parse error", as from Loki.
Strings are double-quoted (with backslash escapes) or back-quoted (raw).
"""

import functools
import json
import re
import shlex
from dataclasses import dataclass, field

NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
DURATION = re.compile(r"(\d+)(ms|s|m|h|d)")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
LABEL_OPS = ("=~", "!~", "!=", "==", ">=", "<=", "=", ">", "<")
LINE_OPS = ("|=", "!=", "|~", "!~")


class LogQLError(ValueError):
    pass


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def matches(self, labels: dict) -> bool:
        actual = labels.get(self.name, "")
        if self.op in ("=", "=="):
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        if self.op == "=~":
            return re.fullmatch(self.value, actual) is not None
        if self.op == "!~":
            return re.fullmatch(self.value, actual) is None
        try:
            left, right = float(actual), float(self.value)
        except ValueError:
            return False
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[
            self.op
        ]


@dataclass
class LogQuery:
    selector: list[Matcher]
    stages: list[tuple] = field(
        default_factory=list
    )  # ("line", op, text) | ("parse", kind) | ("label", Matcher)

    def apply(self, labels: dict, line: str) -> dict | None:
        """The line's labels after the pipeline, or None when a stage drops it."""
        labels = dict(labels)
        for stage in self.stages:
            if stage[0] == "line" and not _line_keeps(stage[1], stage[2], line):
                return None
            if stage[0] == "parse":
                labels.update(_parse_fields(stage[1], line, labels))
            if stage[0] == "label" and not stage[1].matches(labels):
                return None
        return labels


@dataclass
class MetricQuery:
    function: str  # count_over_time | rate
    inner: LogQuery
    range_seconds: float
    by: tuple[str, ...] | None  # None: no sum (one series per stream)


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def fail(self, expected: str):
        near = self.text[self.pos : self.pos + 12] or "end of query"
        raise LogQLError(
            f"parse error at line 1, col {self.pos + 1}: syntax error: unexpected {near!r}, "
            f"expecting {expected}"
        )

    def space(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def take(self, literal: str) -> bool:
        self.space()
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return True
        return False

    def expect(self, literal: str):
        if not self.take(literal):
            self.fail(repr(literal))

    def match(self, pattern: re.Pattern, expected: str) -> str:
        self.space()
        found = pattern.match(self.text, self.pos)
        if not found:
            self.fail(expected)
        self.pos = found.end()
        return found.group(0)

    def string(self) -> str:
        raw = self.match(STRING, "a string")
        return raw[1:-1] if raw.startswith("`") else json.loads(raw)

    def at_end(self) -> bool:
        self.space()
        return self.pos >= len(self.text)


def parse(text: str) -> LogQuery | MetricQuery:
    parser = _Parser(text)
    parser.space()
    query = _metric(parser) if NAME.match(text, parser.pos) else _log(parser)
    if not parser.at_end():
        parser.fail("end of query")
    return query


def _metric(p: _Parser) -> MetricQuery:
    name = p.match(NAME, "a function")
    if name == "sum":
        by: tuple[str, ...] = ()
        if p.take("by"):
            p.expect("(")
            by = tuple(_names(p))
        p.expect("(")
        inner = _range_function(p, p.match(NAME, "count_over_time or rate"))
        p.expect(")")
        inner.by = by
        return inner
    return _range_function(p, name)


def _names(p: _Parser) -> list[str]:
    names = [p.match(NAME, "a label name")]
    while p.take(","):
        names.append(p.match(NAME, "a label name"))
    p.expect(")")
    return names


def _range_function(p: _Parser, name: str) -> MetricQuery:
    if name not in ("count_over_time", "rate"):
        p.fail("count_over_time or rate (the sandbox supports only these)")
    p.expect("(")
    inner = _log(p)
    p.expect("[")
    amount, unit = DURATION.fullmatch(p.match(DURATION, "a duration")).groups()
    p.expect("]")
    p.expect(")")
    seconds = int(amount) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    return MetricQuery(name, inner, seconds, None)


def _log(p: _Parser) -> LogQuery:
    p.expect("{")
    selector = [_matcher(p, ("=~", "!~", "!=", "="))]
    while p.take(","):
        selector.append(_matcher(p, ("=~", "!~", "!=", "=")))
    p.expect("}")
    if not any(m.op in ("=", "=~") and m.value not in ("", ".*") for m in selector):
        raise LogQLError(
            "parse error : queries require at least one regexp or equality matcher that does "
            'not have an empty-compatible value. For instance, app=~".*" does not meet this '
            'requirement, but app=~".+" will'
        )
    query = LogQuery(selector)
    while True:
        op = next((o for o in LINE_OPS if p.take(o)), None)
        if op:
            query.stages.append(("line", op, _checked(op, p.string())))
        elif p.take("|"):
            query.stages.append(_stage(p))
        else:
            return query


def _stage(p: _Parser) -> tuple:
    name = p.match(NAME, "a parser or label filter")
    if name in ("json", "logfmt"):
        return ("parse", name)
    op = next((o for o in LABEL_OPS if p.take(o)), None)
    if op is None:
        p.fail("json, logfmt or a label filter")
    value = p.match(NUMBER, "a number") if op in (">", ">=", "<", "<=", "==") else p.string()
    return ("label", Matcher(name, op, _checked(op, value)))


def _matcher(p: _Parser, ops) -> Matcher:
    name = p.match(NAME, "a label name")
    op = next((o for o in ops if p.take(o)), None)
    if op is None:
        p.fail("=, !=, =~ or !~")
    return Matcher(name, op, _checked(op, p.string()))


def _checked(op: str, value: str) -> str:
    if "~" in op:
        try:
            re.compile(value)
        except re.error as exc:
            raise LogQLError(f"parse error : invalid regexp {value!r}: {exc}")
    return value


def _line_keeps(op: str, text: str, line: str) -> bool:
    if op == "|=":
        return text in line
    if op == "!=":
        return text not in line
    found = re.search(text, line) is not None
    return found if op == "|~" else not found


def _parse_fields(kind: str, line: str, labels: dict) -> dict:
    """Top-level fields as labels (Loki's `| json` and `| logfmt`); a clash gets `_extracted`."""
    return {
        (f"{key}_extracted" if key in labels else key): value
        for key, value in _fields(kind, line).items()
    }


@functools.lru_cache(maxsize=65_536)
def _fields(kind: str, line: str) -> dict:
    try:
        if kind == "json":
            data = json.loads(line)
            fields = data if isinstance(data, dict) else {}
        else:
            fields = dict(part.split("=", 1) for part in shlex.split(line) if "=" in part)
    except ValueError:
        return {"__error__": "JSONParserErr" if kind == "json" else "LogfmtParserErr"}
    return {
        str(key): value if isinstance(value, str) else json.dumps(value)
        for key, value in fields.items()
        if not isinstance(value, dict | list) and NAME.fullmatch(str(key))
    }
