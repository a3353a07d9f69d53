"""The shipped release workflow, `examples/github/deploy.yml`, as the GitHub sandbox runs it.

The sandbox has no workflow of its own: it loads that file, checks `workflow_dispatch` inputs
against the inputs it declares the way GitHub does, evaluates its `${{ }}` expressions and job
`if:` conditions, and hands each step's shell lines to `shell_line` in `sandbox/github.py`,
which calls the shipped `switchyard_client.py` for the lines that invoke it.

GitHub's limits and messages (docs "Events that trigger workflows" and the REST endpoint
"Create a workflow dispatch event"): at most 25 inputs and 65,535 characters of inputs payload;
an undeclared input is refused with `Unexpected inputs provided: ["a", "b"]`, a missing required
one with `Required input 'x' not provided`, and a `choice` or `boolean` value outside its
options with `Provided value 'v' for input 'x' not in the list of allowed values`. GitHub's
message for a bad `number` is not documented; the sandbox says `... is not a valid number`.
"""

import importlib.util
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "github"
WORKFLOW_FILE = EXAMPLES / "deploy.yml"
CLIENT_FILE = EXAMPLES / "switchyard_client.py"
MAX_INPUTS = 25
MAX_INPUTS_CHARACTERS = 65_535
INPUT_TYPES = {"string", "choice", "boolean", "number", "environment"}


@dataclass(frozen=True)
class Input:
    name: str
    type: str
    required: bool
    default: str | None
    options: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    name: str
    uses: str
    run: str
    env: dict


@dataclass(frozen=True)
class Job:
    id: str
    condition: str
    environment: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Workflow:
    name: str
    run_name: str
    inputs: dict[str, Input]
    jobs: tuple[Job, ...]


_cache: dict[tuple[Path, float], Workflow] = {}


def workflow_load(path: Path = WORKFLOW_FILE) -> Workflow:
    """The workflow in `path` (re-read when the file changes). Raises ValueError when invalid."""
    key = (path, path.stat().st_mtime)
    if key not in _cache:
        _cache[key] = _parse(yaml.safe_load(path.read_text()))
    return _cache[key]


def _parse(doc: dict) -> Workflow:
    triggers = doc.get("on", doc.get(True)) or {}  # YAML 1.1 reads a bare `on` as true
    declared = ((triggers.get("workflow_dispatch") or {}).get("inputs")) or {}
    if len(declared) > MAX_INPUTS:
        raise ValueError(f"workflow_dispatch may declare at most {MAX_INPUTS} inputs")
    inputs = {}
    for name, spec in declared.items():
        kind = spec.get("type", "string")
        if kind not in INPUT_TYPES:
            raise ValueError(f"input {name!r} has an unknown type {kind!r}")
        default = spec.get("default")
        inputs[name] = Input(
            name=name,
            type=kind,
            required=bool(spec.get("required", False)),
            default=None if default is None else _text(default),
            options=tuple(str(o) for o in spec.get("options", ("true", "false"))),
        )
    jobs = []
    for job_id, job in (doc.get("jobs") or {}).items():
        steps = tuple(
            Step(
                name=step.get("name") or f"Run {step.get('uses', '')}",
                uses=step.get("uses", ""),
                run=step.get("run", ""),
                env=dict(step.get("env") or {}),
            )
            for step in job.get("steps", [])
        )
        condition = str(job.get("if", "")).strip()
        environment = str(job.get("environment", "") or "")
        jobs.append(Job(id=job_id, condition=condition, environment=environment, steps=steps))
    return Workflow(
        name=doc.get("name", ""), run_name=doc.get("run-name", ""), inputs=inputs, jobs=tuple(jobs)
    )


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# ---- dispatch -------------------------------------------------------------------------------


def dispatch_problem(workflow: Workflow, inputs) -> str:
    """GitHub's 422 message for the `inputs` of a dispatch, or '' when it accepts them."""
    if not isinstance(inputs, dict):
        return "Invalid request.\n\nFor 'properties/inputs', is not an object."
    if len(inputs) > MAX_INPUTS:
        return f"Invalid request.\n\nNo more than {MAX_INPUTS} properties are allowed; "
    if len(json.dumps(inputs, separators=(",", ":"))) > MAX_INPUTS_CHARACTERS:
        return f"inputs are too large: at most {MAX_INPUTS_CHARACTERS} characters are allowed"
    unexpected = sorted(set(inputs) - set(workflow.inputs))
    if unexpected:
        return f"Unexpected inputs provided: {json.dumps(unexpected)}"
    for declared in workflow.inputs.values():
        value = inputs.get(declared.name)
        if value is None or (declared.type == "string" and not str(value).strip()):
            if declared.required and declared.default is None:
                return f"Required input '{declared.name}' not provided"
            continue
        if not isinstance(value, str | bool | int | float):
            return f"Invalid request.\n\nFor 'properties/{declared.name}', is not a string."
        problem = _value_problem(declared, _text(value))
        if problem:
            return problem
    return ""


def _value_problem(declared: Input, text: str) -> str:
    if declared.type in {"choice", "boolean"} and text not in declared.options:
        return (
            f"Provided value '{text}' for input '{declared.name}' not in the list of allowed values"
        )
    if declared.type == "number":
        try:
            float(text)
        except ValueError:
            return f"Provided value '{text}' for input '{declared.name}' is not a valid number"
    return ""


def run_inputs(workflow: Workflow, given: dict) -> dict[str, str]:
    """`inputs` as the run sees them: every declared input, defaults filled in, as text."""
    resolved = {}
    for name, declared in workflow.inputs.items():
        value = given.get(name)
        resolved[name] = _text(value) if value is not None else (declared.default or "")
    return resolved


# ---- expressions ----------------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:('[^']*')|(&&|\|\||==|!=|!|\(|\))|([A-Za-z_][\w.-]*))")


def evaluate(expression: str, context: dict) -> str:
    """A `${{ }}` expression: context names, 'strings', == != ! && || and parentheses.

    Values are text; as in GitHub's expressions, '' is false and any other text true, `a || b`
    is a when a is true, else b. Comparisons answer 'true' or ''.
    """
    tokens = _tokens(expression)
    value, rest = _or(tokens, context)
    if rest:
        raise ValueError(f"cannot read expression {expression!r}")
    return value


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    expression = expression.strip()
    while position < len(expression):
        match = TOKEN.match(expression, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot read expression {expression!r}")
        literal, operator, name = match.groups()
        if literal is not None:
            tokens.append(("text", literal[1:-1]))
        elif operator:
            tokens.append(("op", operator))
        else:
            tokens.append(("name", name))
        position = match.end()
    return tokens


def _or(tokens, context):
    left, tokens = _and(tokens, context)
    while tokens and tokens[0] == ("op", "||"):
        right, tokens = _and(tokens[1:], context)
        left = left or right
    return left, tokens


def _and(tokens, context):
    left, tokens = _compare(tokens, context)
    while tokens and tokens[0] == ("op", "&&"):
        right, tokens = _compare(tokens[1:], context)
        left = right if left else left
    return left, tokens


def _compare(tokens, context):
    left, tokens = _unary(tokens, context)
    while tokens and tokens[0] in {("op", "=="), ("op", "!=")}:
        operator = tokens[0][1]
        right, tokens = _unary(tokens[1:], context)
        left = "true" if (left == right) == (operator == "==") else ""
    return left, tokens


def _unary(tokens, context):
    if not tokens:
        raise ValueError("expression ends too early")
    kind, value = tokens[0]
    if (kind, value) == ("op", "!"):
        inner, rest = _unary(tokens[1:], context)
        return ("" if inner else "true"), rest
    if (kind, value) == ("op", "("):
        inner, rest = _or(tokens[1:], context)
        if not rest or rest[0] != ("op", ")"):
            raise ValueError("missing )")
        return inner, rest[1:]
    if kind == "text":
        return value, tokens[1:]
    if kind == "name":
        return _lookup(value, context), tokens[1:]
    raise ValueError(f"unexpected {value!r}")


def _lookup(name: str, context: dict) -> str:
    value = context
    for part in name.split("."):
        value = value.get(part, "") if isinstance(value, dict) else ""
    return "" if isinstance(value, dict) else str(value)


def interpolate(text: str, context: dict) -> str:
    """Replace every `${{ expression }}` in `text` with its value."""
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: evaluate(m[1], context), text)


def condition_holds(condition: str, context: dict) -> bool:
    if not condition:
        return True
    inner = condition.strip()
    if inner.startswith("${{") and inner.endswith("}}"):
        inner = inner[3:-2]
    return bool(evaluate(inner, context))


# ---- shell lines ----------------------------------------------------------------------------


def shell_lines(script: str) -> list[str]:
    """The commands of a `run:` script, continuation lines joined."""
    return [line.strip() for line in script.replace("\\\n", " ").splitlines() if line.strip()]


def expand(text: str, env: dict) -> str:
    """The shell's `$NAME` and `${NAME}` from `env` (what the runner's bash would put there)."""
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: str(env.get(m[1], "")), text)


def client_argv(line: str, env: dict) -> list[str] | None:
    """The arguments after `switchyard_client.py` on `line` ($VARS expanded), or None.

    `out="$(python3 switchyard_client.py rollout ...)"` gives the arguments inside `$( )`.
    """
    head, found, rest = line.partition("switchyard_client.py")
    if not found:
        return None
    if "$(" in head:
        rest = rest[: rest.rfind(")")]
    argv, tokens = [], iter(shlex.split(expand(rest, env)))
    for token in tokens:
        redirect = re.fullmatch(r"\d*(>>?|<)(&?\d+|.*)", token)
        if redirect and not redirect[2]:
            next(tokens, None)  # `> file`: the target is the next word
        elif not redirect:
            argv.append(token)
    return argv


def yq_assignments(line: str, env: dict) -> dict[str, object] | None:
    """`yq -i ".a.b = strenv(X) | .c = ${JSON}" file` -> {"a.b": env[X], "c": {...}}, or None."""
    if not line.startswith("yq -i"):
        return None
    expression = expand(shlex.split(line)[2], env)
    assignments = {}
    for part in expression.split(" | "):
        path, _, value = part.partition("=")
        value = value.strip()
        strenv = re.fullmatch(r"strenv\((\w+)\)", value)
        assignments[path.strip().lstrip(".")] = (
            str(env.get(strenv[1], "")) if strenv else json.loads(value)
        )
    return assignments


def commit_message(line: str, env: dict) -> str | None:
    """The message of `git commit -m "..."` ($VARS expanded), or None for other lines."""
    if not line.startswith("git commit"):
        return None
    tokens = shlex.split(line)
    return expand(tokens[tokens.index("-m") + 1], env) if "-m" in tokens else ""


_client = None


def example_client():
    """examples/github/switchyard_client.py, loaded as a module (it is not a package)."""
    global _client
    if _client is None:
        spec = importlib.util.spec_from_file_location("switchyard_client", CLIENT_FILE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _client = module
    return _client
