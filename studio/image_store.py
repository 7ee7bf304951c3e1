"""Uploaded images kept on the server, so that a share link reopens the same image.

An upload is stored under the SHA-256 of its bytes (the first 32 hex digits are its
*reference*, the ``img=`` of the page address); nothing the visitor sends (file name, path)
decides where it is written. The store is bounded by count, bytes and age
(:data:`pipeline.limits.STORE_IMAGES`, :data:`~pipeline.limits.STORE_MB`,
:data:`~pipeline.limits.STORE_DAYS`): each new upload first removes the files older than the
age limit, then the least recently used ones until the new one fits. A link whose image was
removed says so (:func:`get` returns ``None``) and the page offers an upload.

The folder is ``$CLARITY_IMAGE_STORE`` or ``~/.cache/clarity/images``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from pathlib import Path

from pipeline import limits

REF = re.compile(r"^[0-9a-f]{32}$")
"""What a stored image's reference looks like (anything else is refused before any file access)."""

_LOCK = threading.Lock()
_DATA, _NAME = ".bin", ".name"


def folder() -> Path:
    """Where the images are kept (created on first use)."""
    base = os.environ.get("CLARITY_IMAGE_STORE") or Path.home() / ".cache" / "clarity" / "images"
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def reference(data: bytes) -> str:
    """The reference of ``data``: the first 32 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:32]


def put(data: bytes, name: str) -> str:
    """Keep ``data`` (an upload called ``name``) and return its reference; room is made first."""
    ref = reference(data)
    where = folder()
    target = where / f"{ref}{_DATA}"
    with _LOCK:
        if target.is_file():
            os.utime(target)  # recently used
            return ref
        _make_room(where, len(data))
        _write_atomic(target, data)
        _write_atomic(where / f"{ref}{_NAME}", _display_name(name).encode("utf-8"))
    return ref


def get(ref: str) -> tuple[bytes, str] | None:
    """The bytes and display name of a stored image, or ``None`` (unknown, removed or malformed)."""
    if not REF.match(ref or ""):
        return None
    where = folder()
    target = where / f"{ref}{_DATA}"
    try:
        data = target.read_bytes()
    except OSError:
        return None
    if reference(data) != ref:  # damaged on disk
        return None
    try:
        name = (where / f"{ref}{_NAME}").read_text(encoding="utf-8")
    except OSError:
        name = "shared image"
    os.utime(target)
    return data, name


def _display_name(name: str) -> str:
    """The last path part of ``name``, printable characters only, at most 80 of them."""
    base = re.split(r"[\\/]", name)[-1]
    clean = "".join(c for c in base if c.isprintable())[:80].strip()
    return clean or "image"


def _write_atomic(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _make_room(where: Path, incoming: int) -> None:
    """Remove expired images, then the least recently used, until one more of ``incoming`` bytes fits."""
    now = time.time()
    max_age = limits.STORE_DAYS.get() * 86400
    entries = []
    for path in where.glob(f"*{_DATA}"):
        try:
            info = path.stat()
        except OSError:
            continue
        if now - info.st_mtime > max_age:
            _remove(path)
        else:
            entries.append((info.st_mtime, info.st_size, path))
    entries.sort()  # oldest use first
    count, total = len(entries), sum(size for _, size, _ in entries)
    max_count, max_bytes = limits.STORE_IMAGES.get_int(), limits.STORE_MB.get() * 2**20
    for _, size, path in entries:
        if count + 1 <= max_count and total + incoming <= max_bytes:
            break
        _remove(path)
        count, total = count - 1, total - size


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_suffix(_NAME).unlink(missing_ok=True)
