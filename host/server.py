"""Serving with gunicorn: several worker processes, one access-log line per request."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from host.config import Config


class HostServer(BaseApplication):
    def __init__(self, config: Config, **overrides: Any) -> None:
        self.host_config = config
        self.options = {
            "bind": [config.bind],
            "workers": config.workers,
            "worker_class": "sync",
            "accesslog": "-",
            "errorlog": "-",
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
            "graceful_timeout": 10,
            "timeout": 60,
            "proc_name": f"host {config.bind}",
            # gunicorn 27 opens a control socket at one fixed path: it would clash between instances.
            "control_socket_disable": True,
            **overrides,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        # Runs in each worker after the fork: every worker opens its own database connection.
        from host.app import create_app

        return create_app(self.host_config, migrate=False).app
