"""Writing outputs atomically: a temporary file beside the target, then a rename.

A reader (or a resumed batch) sees either the previous file or the complete new one, never a
half-written file: if the process dies while writing, only a hidden ``.<name>.*.tmp`` file is
left, which :func:`remove_stale_temporaries` clears on the next run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageError

TMP_SUFFIX = ".tmp"


def _file_mode() -> int:
    """Permissions of a new file under the current umask (``mkstemp`` alone gives 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_MODE = _file_mode()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` never holds a partial file.

    Parameters
    ----------
    path:
        The target; its folder is created when missing.
    data:
        The complete file contents.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _MODE)
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, text.encode("utf-8"))


def atomic_write_image(path: Path, image: np.ndarray) -> None:
    """Encode ``image`` (uint8 gray or BGR) in the format of ``path``'s ending and write it atomically."""
    ok, buffer = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise ImageError(f"{path}: cannot encode the image in this format")
    atomic_write(path, buffer.tobytes())


def remove_stale_temporaries(folder: Path) -> int:
    """Delete the temporary files an interrupted batch left under ``folder``; returns how many."""
    removed = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            if name.startswith(".") and name.endswith(TMP_SUFFIX):
                _unlink(os.path.join(root, name))
                removed += 1
    return removed


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
