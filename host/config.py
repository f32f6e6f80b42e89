"""Host configuration: read from command-line flags and ``HOST_*`` environment variables (flags win)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BIND = "127.0.0.1:8080"
SECRET_FILE = "secret.key"


@dataclass
class Config:
    data_dir: Path
    database_url: str
    base_url: str
    secret: bytes
    bind: str = DEFAULT_BIND
    workers: int = 2
    sysadmin_group: str = "jira-administrators"
    session_lifetime_seconds: int = 12 * 3600
    # Tests pass a cheap argon2 context; production uses the library defaults.
    password_hash_params: dict = field(default_factory=dict)


def default_data_dir() -> Path:
    return Path(os.environ.get("HOST_DATA_DIR") or "./data")


def load_or_create_secret(data_dir: Path) -> bytes:
    """Return the server secret stored in the data folder, creating it (0600) on first use."""
    path = data_dir / SECRET_FILE
    try:
        value = path.read_text().strip()
        if value:
            return value.encode()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # O_EXCL: when several processes start at once, exactly one writes the secret and the others read it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode()
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value.encode()


def build_config(
    *,
    data_dir: str | None = None,
    database_url: str | None = None,
    base_url: str | None = None,
    bind: str | None = None,
    workers: int | None = None,
    secret: str | None = None,
) -> Config:
    """Resolve the configuration: explicit arguments, then HOST_* variables, then defaults."""
    env = os.environ
    ddir = Path(data_dir or env.get("HOST_DATA_DIR") or "./data").resolve()
    ddir.mkdir(parents=True, exist_ok=True)
    bind = bind or env.get("HOST_BIND") or DEFAULT_BIND
    db_url = database_url or env.get("HOST_DATABASE_URL") or f"sqlite:///{ddir / 'host.sqlite3'}"
    base = (base_url or env.get("HOST_BASE_URL") or f"http://{bind}").rstrip("/")
    if workers is None:
        workers = int(env.get("HOST_WORKERS") or 2)
    if workers < 1:
        raise ValueError("workers must be at least 1")
    raw_secret = secret or env.get("HOST_SECRET")
    secret_bytes = raw_secret.encode() if raw_secret else load_or_create_secret(ddir)
    return Config(
        data_dir=ddir,
        database_url=db_url,
        base_url=base,
        secret=secret_bytes,
        bind=bind,
        workers=workers,
    )
