"""The audit log: a host service every plugin writes to (``host.audit.record``), read in Jira's shape."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import peewee

from host.models import AuditRecord

if TYPE_CHECKING:
    from host.auth import Actor


@dataclass(frozen=True)
class Item:
    """An object an audit record is about (Jira's objectItem / associatedItems entry)."""

    id: str
    name: str
    type_name: str
    parent_id: str | None = None
    parent_name: str | None = None

    def as_json(self) -> dict[str, Any]:
        doc = {"id": self.id, "name": self.name, "typeName": self.type_name}
        if self.parent_id is not None:
            doc.update(parentId=self.parent_id, parentName=self.parent_name)
        return doc


def _jsonable(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Jira's changedValues for the keys whose value differs between ``old`` and ``new``."""
    return [
        {"fieldName": key, "changedFrom": _jsonable(old.get(key)), "changedTo": _jsonable(new.get(key))}
        for key in new
        if old.get(key) != new.get(key)
    ]


def iso(ms: int) -> str:
    dt = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+0000"


class AuditLog:
    def __init__(self, clock: Callable[[], int]) -> None:
        self.now_ms = clock

    def record(
        self,
        summary: str,
        *,
        category: str,
        source: str = "host",
        actor: Actor | None = None,
        author_key: str | None = None,
        remote_address: str | None = None,
        object_item: Item | None = None,
        changed_values: list[dict[str, Any]] | None = None,
        associated_items: list[Item] | None = None,
    ) -> int:
        """Write one record; returns its id. Never put a secret in any argument."""
        key = author_key if author_key is not None else (actor.key if actor is not None else None)
        items = associated_items or []
        names = [summary, category] + [i.name for i in ([object_item] if object_item else []) + items]
        return AuditRecord.insert(
            created=self.now_ms(),
            category=category[:255],
            summary=summary[:255],
            event_source=source[:255],
            author_key=key,
            remote_address=(remote_address or None) and str(remote_address)[:64],
            object_item=json.dumps(object_item.as_json(), ensure_ascii=False) if object_item else None,
            changed_values=json.dumps(changed_values or [], ensure_ascii=False),
            associated_items=json.dumps([i.as_json() for i in items], ensure_ascii=False),
            search_text=" ".join(n for n in names if n).lower(),
        ).execute()

    @staticmethod
    def _where(text: str | None, since: int | None, until: int | None) -> Any:
        condition: Any = True
        clauses = []
        if text:
            clauses.append(AuditRecord.search_text.contains(text.lower()))
        if since is not None:
            clauses.append(AuditRecord.created >= since)
        if until is not None:
            clauses.append(AuditRecord.created <= until)
        for clause in clauses:
            condition = clause if condition is True else condition & clause
        return condition

    def search(
        self,
        *,
        text: str | None = None,
        since: int | None = None,
        until: int | None = None,
        offset: int = 0,
        limit: int = 1000,
    ) -> tuple[list[AuditRecord], int]:
        """Newest first; the text filter matches summary, category and item names (case-insensitive)."""
        condition = self._where(text, since, until)
        query = AuditRecord.select()
        count = AuditRecord.select(peewee.fn.COUNT(AuditRecord.id))
        if condition is not True:
            query, count = query.where(condition), count.where(condition)
        total = count.scalar() or 0
        return list(query.order_by(AuditRecord.id.desc()).offset(offset).limit(limit)), total

    def iterate(self, *, since: int | None = None, until: int | None = None) -> Iterator[AuditRecord]:
        """Oldest first, for export."""
        condition = self._where(None, since, until)
        query = AuditRecord.select()
        if condition is not True:
            query = query.where(condition)
        return query.order_by(AuditRecord.id).iterator()


def as_jira(record: AuditRecord) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": record.id,
        "summary": record.summary,
        "remoteAddress": record.remote_address or "",
        "authorKey": record.author_key or "",
        "created": iso(record.created),
        "category": record.category,
        "eventSource": record.event_source,
    }
    if record.object_item:
        doc["objectItem"] = json.loads(record.object_item)
    doc["changedValues"] = json.loads(record.changed_values)
    doc["associatedItems"] = json.loads(record.associated_items)
    return doc
