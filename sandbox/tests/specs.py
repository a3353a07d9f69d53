"""Strict schema checks: the official specs allow unknown fields; our sandboxes send none."""

import copy
import json

from jsonschema import Draft4Validator, FormatChecker


def strict(schema, definitions: dict | None = None):
    """Refuse properties the schema does not name. An `allOf` of `$ref`s (swagger's way to
    extend a definition) is folded into the object first, so that its fields count as named."""
    if isinstance(schema, list):
        return [strict(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    if definitions is not None and "properties" in schema and "allOf" in schema:
        properties = dict(schema["properties"])
        for part in schema.pop("allOf"):
            target = part
            if "$ref" in part:
                target = definitions[part["$ref"].rsplit("/", 1)[-1]]
            properties.update(target.get("properties") or {})
        schema["properties"] = properties
    schema = {key: strict(value, definitions) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    return schema


def swagger_validator(path):
    """validate(instance, definition) against a swagger 2.0 document, strictly: unknown fields,
    wrong types and malformed date-times fail, with every error listed."""
    swagger = json.loads(path.read_text())
    definitions = swagger["definitions"]
    strict_definitions = {
        name: strict(copy.deepcopy(definition), definitions)
        for name, definition in definitions.items()
    }

    def validate(instance, definition: str) -> None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": strict_definitions}
        validator = Draft4Validator(schema, format_checker=FormatChecker())
        errors = sorted(validator.iter_errors(instance), key=str)
        assert not errors, "\n".join(
            f"{definition} {list(e.absolute_path)}: {e.message}" for e in errors[:10]
        )

    return validate
