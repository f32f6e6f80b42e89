"""``GET /rest/api/2/auditing/record`` (sysadmins): the audit log in Jira's shape, filtered and paged."""

from __future__ import annotations

import re
from datetime import datetime

import falcon

from host.audit import as_jira
from host.errors import BadRequest
from host.jsonio import send_json
from host.resources.common import query_int, require_sysadmin
from host.resources.jira import Resource

_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_instant(name: str, raw: str | None) -> int | None:
    """Epoch milliseconds, or an ISO 8601 date-time with an offset (Jira's ``2014-03-19T18:45:42.967+0000``)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if text.isdigit() and len(text) <= 15:
        return int(text)
    normalised = _OFFSET.sub(r"\1:\2", text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    try:
        moment = datetime.fromisoformat(normalised)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadRequest(
            f"The query parameter '{name}' must be epoch milliseconds or an ISO 8601 date-time with an offset",
            field=name,
        )
    return int(moment.timestamp() * 1000)


class AuditRecords(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        require_sysadmin(req)
        offset = query_int(req, "offset", 0)
        limit = query_int(req, "limit", 1000, minimum=1, maximum=1000)
        text = req.get_param("filter")
        if text is not None and len(text) > 255:
            raise BadRequest("The query parameter 'filter' must not exceed 255 characters", field="filter")
        since, until = parse_instant("from", req.get_param("from")), parse_instant("to", req.get_param("to"))
        if since is not None and until is not None and since > until:
            raise BadRequest("The query parameter 'from' must not be after 'to'", field="from")
        records, total = self.host.audit.search(text=text, since=since, until=until, offset=offset, limit=limit)
        send_json(resp, {"offset": offset, "limit": limit, "total": total, "records": [as_jira(r) for r in records]})
