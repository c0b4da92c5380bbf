"""The OpenAPI schema each visitor is served (/api/schema/, /api/docs/)."""

from drf_spectacular.generators import SchemaGenerator
from rest_framework.permissions import IsAdminUser


class VisibleSchemaGenerator(SchemaGenerator):
    """Staff-only operations are documented to staff only. Everything else is listed for everyone, including
    the writes a visitor can make after logging in (the schema documents how to authenticate)."""

    def has_view_permissions(self, path, method, view) -> bool:
        request = getattr(view, "request", None)
        if request is None or getattr(request.user, "is_staff", False):
            return True
        return not any(isinstance(permission, IsAdminUser) for permission in view.get_permissions())


_ERROR_RESPONSES = {
    "400": "Malformed request or invalid input (field messages, or detail).",
    "401": "Wrong credentials.",
    "403": "Not allowed: log in, or not yours.",
    "404": "No such object or page.",
    "429": "Too many requests: see the Retry-After header.",
}
_ERROR_SCHEMA = {
    "type": "object",
    "description": "{'detail': message} or, for invalid input, {field: [messages]}.",
    # "detail" is also a field of some bodies (a report's details), whose messages are a list.
    "properties": {"detail": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}},
    "additionalProperties": True,
}
# Slugs are Unicode ("入门"): the `[-\w]` pattern Django's SlugField documents reads as ASCII-only to clients.
_ASCII_SLUG_PATTERN = r"^[-\w]+$"
_NO_NUL = r"^[^\u0000]*$"


def _walk_schemas(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_schemas(value)


def document_what_every_operation_can_answer(result, generator, request, public):
    """Postprocessing hook: the error answers every operation can give (bad input, NUL characters, log-in,
    missing objects and pages, rate limits), Unicode slugs, and query parameters as the API reads them (an
    empty value means "not given"; a NUL is refused)."""
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorDetail"] = _ERROR_SCHEMA
    for schema in _walk_schemas(result):
        if schema.get("pattern") == _ASCII_SLUG_PATTERN:
            del schema["pattern"]
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, description in _ERROR_RESPONSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}
                        },
                    },
                )
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if schema.get("type") == "string" and "enum" not in schema:
                    schema.setdefault("pattern", _NO_NUL)
                if parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
    return result
