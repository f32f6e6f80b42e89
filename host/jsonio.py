"""JSON in and out: compact output like Jira's, bounded and validated input."""

from __future__ import annotations

import json
from typing import Any

import falcon

from host.errors import JSON_CONTENT_TYPE, ApiError, BadRequest

MAX_BODY_BYTES = 1024 * 1024
TOO_LARGE = f"The request body is larger than the limit of {MAX_BODY_BYTES} bytes."

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(obj: Any) -> str:
    return _encoder.encode(obj)


def send_json(resp: falcon.Response, obj: Any, status: int = 200) -> None:
    resp.status = status
    resp.content_type = JSON_CONTENT_TYPE
    resp.text = _encoder.encode(obj)


def _reject_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def read_json_object(req: falcon.Request, error: type[ApiError] = BadRequest) -> dict[str, Any]:
    """Read the request body as a JSON object, or raise ``error`` (400/413/415) with a clear message."""
    length = req.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise _make(error, 413, TOO_LARGE)
    ctype = (req.content_type or "").split(";", 1)[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise _make(error, 415, f"Unsupported content type '{ctype}': send application/json")
    if length is None and "chunked" in (req.get_header("Transfer-Encoding") or "").lower():
        # No Content-Length: the server de-chunks wsgi.input (gunicorn does) and ends it at the last chunk.
        # Falcon's bounded stream would read nothing; read the raw stream, one byte past the limit at most.
        raw = req.stream.read(MAX_BODY_BYTES + 1)
    else:
        raw = req.bounded_stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise _make(error, 413, TOO_LARGE)
    if not raw.strip():
        raise _make(error, 400, "The request body is empty: a JSON object is required")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constants)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _make(error, 400, f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise _make(error, 400, "The request body is not valid JSON: it is nested too deeply") from None
    if not isinstance(data, dict):
        raise _make(error, 400, "The request body must be a JSON object")
    try:
        _encoder.encode(data).encode("utf-8")
    except UnicodeEncodeError:
        # "\ud800" is valid JSON syntax but no character: no string holding it can be stored or compared.
        raise _make(error, 400, "The request body is not valid JSON: it contains an unpaired surrogate") from None
    where = _nul_path(data)
    if where is not None:
        # PostgreSQL cannot store NUL in text, and no name, description or key needs one.
        message = f"'{where}' must not contain NUL (\\u0000) characters"
        if error is BadRequest:
            raise BadRequest(message, field=where)
        raise error(400, message)
    return data


def _nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string holding a NUL character, or None."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return path or "body"
            found = _nul_path(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _make(error: type[ApiError], status: int, message: str) -> ApiError:
    if error is BadRequest:
        return ApiError(status, message)
    return error(status, message)
