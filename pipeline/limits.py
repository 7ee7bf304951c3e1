"""Bounds on the work and memory one request may ask for, each with its default and setting.

Every limit is read from its environment variable when it is checked (so an operator sets it
where the server starts, and tests can change it); a missing or unreadable value means the
default. A request over a limit gets one message naming the limit, its value and the
variable that changes it (:func:`over_limit`). README "Limits and safety" lists them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import StageError


@dataclass(frozen=True)
class Limit:
    """One configurable bound.

    Attributes
    ----------
    env:
        The environment variable that sets it.
    default:
        The value without that variable.
    unit:
        What is counted, for messages ("pixels", "stages", "seconds").
    what:
        What is bounded, for messages and the README ("pixels of one stage's output").
    """

    env: str
    default: float
    unit: str
    what: str

    def get(self) -> float:
        """The current value: ``$env`` when it is a positive number, else :attr:`default`."""
        raw = os.environ.get(self.env, "").strip().replace("_", "")
        try:
            value = float(raw)
        except ValueError:
            return self.default
        return value if value > 0 else self.default

    def get_int(self) -> int:
        """:meth:`get` as a whole number (at least 1)."""
        return max(1, int(self.get()))


IMAGE_PIXELS = Limit("CLARITY_MAX_PIXELS", 50_000_000, "pixels", "pixels of one image, page or frame")
STAGE_PIXELS = Limit(
    "CLARITY_MAX_STAGE_PIXELS",
    50_000_000,
    "pixels",
    "pixels of one stage's output (whatever its parameters say)",
)
RUN_MB = Limit(
    "CLARITY_MAX_RUN_MB", 320, "MB", "megabytes of images one run keeps: the input and every stage's output"
)
STAGES = Limit("CLARITY_MAX_STAGES", 100, "stages", "stages in one preset")
WHITELIST_CHARS = Limit(
    "CLARITY_MAX_WHITELIST", 1000, "characters", "characters in the OCR whitelist or blacklist"
)
OCR_TIMEOUT_S = Limit(
    "CLARITY_MAX_OCR_TIMEOUT_S",
    60,
    "seconds",
    "seconds one OCR call may take in the studio (caps ocr.timeout_s)",
)
STAGE_TIME_S = Limit(
    "CLARITY_MAX_STAGE_TIME_S", 60, "seconds", "seconds the stages of one big image may take in the studio"
)
SESSION_OCR_S = Limit(
    "CLARITY_SESSION_OCR_BUDGET_S", 180, "seconds", "OCR seconds one studio session may use per 10 minutes"
)
OCR_WORKERS = Limit("CLARITY_OCR_WORKERS", 2, "processes", "OCR worker processes of the studio")
WORKER_MB = Limit(
    "CLARITY_OCR_WORKER_MB", 700, "MB", "memory of one OCR worker process (it is restarted above it)"
)
CACHE_MB = Limit("CLARITY_CACHE_MB", 256, "MB", "stage outputs kept in the studio's cache")
MEMORY_MB = Limit(
    "CLARITY_MEMORY_BUDGET_MB",
    1536,
    "MB",
    "memory of the studio server and its workers together: work in a worker is stopped above it",
)
STORE_IMAGES = Limit(
    "CLARITY_STORE_IMAGES", 500, "images", "uploaded images the studio keeps for share links"
)
STORE_MB = Limit("CLARITY_STORE_MB", 500, "MB", "megabytes of uploaded images kept for share links")
STORE_DAYS = Limit(
    "CLARITY_STORE_DAYS", 7, "days", "days an uploaded image is kept for share links after its last use"
)
MEMORY_BUDGET_MB = int(MEMORY_MB.default)
"""The studio server's documented memory budget (MB); :data:`MEMORY_MB` may set another."""

ALL = (
    IMAGE_PIXELS,
    STAGE_PIXELS,
    RUN_MB,
    STAGES,
    WHITELIST_CHARS,
    OCR_TIMEOUT_S,
    STAGE_TIME_S,
    SESSION_OCR_S,
    OCR_WORKERS,
    WORKER_MB,
    CACHE_MB,
    MEMORY_MB,
    STORE_IMAGES,
    STORE_MB,
    STORE_DAYS,
)
"""Every limit, in the order the README lists them."""


def over_limit(limit: Limit, subject: str, got: float, advice: str = "") -> str:
    """One sentence: ``subject`` has ``got`` units, more than ``limit`` allows, and how to change it."""
    value = limit.get()
    text = f"{subject}: {got:,.0f} {limit.unit}, more than the limit of {value:,.0f}"
    text += f" (set {limit.env} to change it)"
    return f"{text}; {advice}" if advice else text


def check_stage_pixels(width: int, height: int, subject: str) -> None:
    """Raise :class:`StageError` when a ``width`` x ``height`` stage output is over :data:`STAGE_PIXELS`.

    The runner calls it on every output; stages that enlarge call it before allocating, through
    :func:`pipeline.stages._image.check_output_size` (the runner connects the two).
    """
    if width * height > STAGE_PIXELS.get():
        raise StageError(
            over_limit(
                STAGE_PIXELS,
                f"{subject} would be {width} x {height}",
                width * height,
                "lower the factor or size",
            )
        )
