"""A test seam for the login captcha: the production image captcha, with each answer also recorded.

In process: ``create_app(captcha=RecordingCaptcha())``. Real servers: ``HOST_CAPTCHA_GENERATOR=
"tests.captcha_recorder:generator"`` with ``HOST_CAPTCHA_ANSWERS=<file>``: each answer is appended to the file
as a line. The captcha is not weakened: answers are as random and the image is the same as in production.
"""

from __future__ import annotations

import os

from host.web.captcha import image_captcha


class RecordingCaptcha:
    def __init__(self) -> None:
        self.answers: list[str] = []

    def __call__(self) -> tuple[str, bytes]:
        answer, png = image_captcha()
        self.answers.append(answer)
        return answer, png


def generator() -> tuple[str, bytes]:
    answer, png = image_captcha()
    with open(os.environ["HOST_CAPTCHA_ANSWERS"], "a") as handle:
        handle.write(answer + "\n")
    return answer, png
