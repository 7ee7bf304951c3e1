"""What the page address carries: the settings (``p=``) and the image (``img=`` or ``sample=``).

``img=`` is the reference of an upload kept on the server (:mod:`studio.image_store`),
``sample=`` a bundled sample's file name, ``page=`` the page of a multi-page file (1-based,
only when it is not the first). Opened in another browser, the address shows the same image,
settings and reading. Nothing in the address is used as a path: a reference must look like one
and a sample must be one of the bundled ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from pipeline import limits
from pipeline.errors import ImageError

from . import image_store, sources
from . import keys as K
from .state import State

IMAGE_PARAMS = ("img", "sample", "page")


def remember_upload(ss: State, data: bytes, name: str) -> str | None:
    """Keep an upload for links; returns a warning when it could not be kept (the page goes on)."""
    try:
        ss[K.IMAGE_LINK] = {"img": image_store.put(data, name)}
    except OSError as exc:
        ss[K.IMAGE_LINK] = {}
        return (
            f"This image could not be kept on the server for share links ({exc.strerror}); "
            "a link will open with the default sample."
        )
    return None


def remember_sample(ss: State, file: str) -> None:
    """The current image is the bundled sample ``file``."""
    ss[K.IMAGE_LINK] = {"sample": file}


def params(ss: State) -> dict[str, str]:
    """The address parameters of the current image (and page)."""
    out = dict(ss.get(K.IMAGE_LINK) or {})
    image = ss.get(K.IMAGE)
    if out and image is not None and image.pages > 1 and image.page > 0:
        out["page"] = str(image.page + 1)
    return out


def url(base: str, packed: str, ss: State) -> str:
    """The full share link: settings and image."""
    return f"{base}?{urlencode({'p': packed, **params(ss)})}"


def open_image(
    ss: State, query: Mapping[str, Any], load_sample: Callable[[sources.Sample], None] | None = None
) -> str | None:
    """On a session's first run, load the image the address names; returns a message for the
    visitor when it cannot be shown (the default sample stays). ``load_sample`` loads a sample
    with its own preset: given when the address carries no settings."""
    ref, sample_file = query.get("img"), query.get("sample")
    page = _page(query.get("page"))
    if ref:
        stored = image_store.get(str(ref))
        if stored is None:
            days = limits.STORE_DAYS.get()
            return (
                f"The image of this link is no longer on this server (uploads are kept {days:g} days "
                "after their last use, and only the most recent ones). Upload it again to read it "
                "with these settings; the default sample is shown meanwhile."
            )
        data, name = stored
        return _decode(ss, data, name, page, "upload", {"img": str(ref)})
    if sample_file:
        sample = next((s for s in sources.load_samples() if s.file == sample_file), None)
        if sample is None:
            return f"This link names a sample that does not exist here ({str(sample_file)[:80]!r})."
        if load_sample is not None:  # no settings in the link: the sample comes with its preset
            load_sample(sample)
            ss[K.INPUT_SAMPLE] = sample.file
            return None
        try:
            ss[K.IMAGE] = sources.load_sample_image(sample)
        except ImageError as exc:
            return str(exc)
        remember_sample(ss, sample.file)
        ss[K.INPUT_SAMPLE] = sample.file
        ss[K.EXPECTED] = sample.expected
    return None


def _decode(ss: State, data: bytes, name: str, page: int, origin: str, link: dict[str, str]) -> str | None:
    try:
        ss[K.IMAGE] = sources.decode(data, name, page - 1, origin)
    except ImageError as exc:
        return f"The image of this link could not be opened: {exc}"
    ss[K.IMAGE_LINK] = link
    ss[K.INPUT_SAMPLE] = None
    ss[K.INPUT_PAGE] = ss[K.IMAGE].page + 1
    ss[K.EXPECTED] = ""
    return None


def _page(raw: Any) -> int:
    """A 1-based page number from the address (1 when absent or not a small whole number)."""
    text = str(raw or "1")
    return int(text) if text.isdigit() and len(text) <= 5 else 1
