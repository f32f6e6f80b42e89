"""Image captchas for the login page: challenges stored server-side (every node sees them), one answer each.

A generator is a callable returning ``(answer, png_bytes)``. The default draws a random answer and renders it
with the ``captcha`` library's ImageCaptcha. Tests inject a generator (``create_app(captcha=...)`` or, for a
real server, ``HOST_CAPTCHA_GENERATOR="module:callable"``) that records each answer where the test can read
it: the captcha itself is the same as in production.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import os
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from host.models import CaptchaChallenge

if TYPE_CHECKING:
    from host.core import Host

CaptchaGenerator = Callable[[], tuple[str, bytes]]
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: readable
ANSWER_LENGTH = 5
LIFETIME_MS = 10 * 60 * 1000


def random_answer() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(ANSWER_LENGTH))


def image_captcha() -> tuple[str, bytes]:
    """The production generator: a random answer drawn as a distorted, noisy PNG."""
    from captcha.image import ImageCaptcha

    answer = random_answer()
    return answer, ImageCaptcha(width=200, height=70).generate(answer).getvalue()


def generator_from_env() -> CaptchaGenerator:
    """``HOST_CAPTCHA_GENERATOR=module:callable`` (a test seam for real servers); the image captcha otherwise."""
    spec = os.environ.get("HOST_CAPTCHA_GENERATOR")
    if not spec:
        return image_captcha
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class Captchas:
    def __init__(self, host: Host, generator: CaptchaGenerator) -> None:
        self.host = host
        self.generator = generator

    def _digest(self, challenge_id: str, answer: str) -> str:
        message = f"captcha:{challenge_id}:{answer.strip().upper()}".encode()
        return hmac.new(self.host.config.secret, message, hashlib.sha256).hexdigest()

    def create(self, username: str) -> str:
        answer, png = self.generator()
        challenge_id = secrets.token_urlsafe(18)
        now = self.host.now_ms()
        CaptchaChallenge.delete().where(CaptchaChallenge.expires < now).execute()
        CaptchaChallenge.create(
            id=challenge_id,
            digest=self._digest(challenge_id, answer),
            username=username.lower()[:255],
            expires=now + LIFETIME_MS,
            used=False,
            image=png,
        )
        return challenge_id

    def image(self, challenge_id: str) -> bytes | None:
        row = CaptchaChallenge.get_or_none(
            (CaptchaChallenge.id == challenge_id[:64]) & (CaptchaChallenge.used == False)  # noqa: E712
        )
        if row is None or row.expires <= self.host.now_ms():
            return None
        return bytes(row.image)

    def solve(self, challenge_id: str, username: str, answer: str) -> bool:
        """True when ``answer`` solves the challenge for ``username``. Each challenge takes one attempt:
        it is used up (atomically, on every node) whatever the answer."""
        challenge_id = challenge_id[:64]
        row = CaptchaChallenge.get_or_none(CaptchaChallenge.id == challenge_id)
        if row is None or row.username != username.lower()[:255]:
            return False
        taken = (
            CaptchaChallenge.update(used=True)
            .where(
                (CaptchaChallenge.id == challenge_id)
                & (CaptchaChallenge.used == False)  # noqa: E712
                & (CaptchaChallenge.expires > self.host.now_ms())
            )
            .execute()
        )
        return taken == 1 and hmac.compare_digest(row.digest, self._digest(challenge_id, answer))
