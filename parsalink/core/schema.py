"""OpenAPI additions: the error responses every operation can give, and the input limits.

drf-spectacular runs these hooks from SPECTACULAR_SETTINGS. The authentication schemes live next
to their classes (accounts/schema.py, apikeys/schema.py).
"""

import re

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error body (contract): human-readable `detail`, stable `code`; "
    "validation errors (400) add `fields`.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "code"],
}
_RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before retrying.",
    }
}
_BODY_METHODS = {"post", "put", "patch"}


def _key_scopes(generator) -> dict[tuple[str, str], str]:
    """(method, path) → the scope an API key needs, for every operation that declares one."""
    scopes = {}
    for path, _regex, method, callback in getattr(generator, "endpoints", None) or []:
        view_class = getattr(callback, "cls", None)
        actions = getattr(callback, "actions", None) or {}
        action = actions.get(method.lower(), method.lower())
        scope = (getattr(view_class, "required_scopes", None) or {}).get(action)
        if scope:
            scopes[(method.lower(), _shape(path))] = scope
    return scopes


def _shape(path: str) -> str:
    """`/api/contacts/{pk}/` and `/api/contacts/{id}/` alike (the generator renames pk later)."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _forbidden(scope: str | None) -> str:
    base = "Refused: `https_required` over plain HTTP, or not allowed for this caller"
    if scope is None:
        return base + " (e.g. an API key on a people-only endpoint: `user_token_required`)."
    return (
        base + f". An API key needs the `{scope}` scope (else `insufficient_scope`) and, when "
        "it has an address allowlist, a client address on it (else `ip_not_allowed`)."
    )


def _errors_for(method: str, path: str, operation: dict, scope: str | None) -> dict[int, str]:
    has_body = method in _BODY_METHODS
    errors = {
        401: "Missing, malformed, expired or revoked credentials (`WWW-Authenticate: Bearer`).",
        403: _forbidden(scope),
        429: "Rate limited; see `Retry-After`.",
        503: "The database is unreachable; retry after `Retry-After` seconds.",
    }
    if has_body or operation.get("parameters"):
        errors[400] = "Invalid input: `fields` maps each field to its messages."
    if "{" in path:
        errors[404] = "No such object in the caller's workspace."
    if has_body:
        errors[413] = "Request body over 1 MiB."
    # Any request line (path and query string) can be too long for the server to read.
    errors[414] = "Request line (path and query string) over 4094 bytes."
    return errors


def add_error_responses(result, generator, request, public):
    """Documents the {detail, code, fields} error responses on every operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_COMPONENT] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}}
    key_scopes = _key_scopes(generator)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            scope = key_scopes.get((method, _shape(path)))
            if scope:
                operation["x-api-key-scope"] = scope
            for status, description in _errors_for(method, path, operation, scope).items():
                response = responses.setdefault(str(status), {"description": description})
                response.setdefault("content", content)
                if status in (429, 503):
                    response.setdefault("headers", _RETRY_AFTER)
    return result


def describe_input_limits(result, generator, request, public):
    """Says what the server enforces: unknown body fields are refused, pageSize is 1..200."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False  # StrictSerializer: unknown field → 400
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("name") == "pageSize":
                    parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 200}
    return result
