"""drf-spectacular hooks: every operation documents the error shape for the statuses it can return."""

ERROR_STATUSES = {
    "400": "invalid input",
    "401": "not authenticated",
    "403": "your role does not allow this, or the token is read-only",
    "404": "no such object, or not visible to you",
    "429": "rate limit of this token and scope reached",
}
WRITE_STATUSES = {"409": "conflict (stale version, duplicate)", "422": "Idempotency-Key reused with another request"}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {},
                },
            }
        },
    }
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            statuses = dict(ERROR_STATUSES)
            if method != "get":
                statuses |= WRITE_STATUSES
            for code, description in statuses.items():
                operation["responses"].setdefault(code, {"description": description, "content": error})
    return result
