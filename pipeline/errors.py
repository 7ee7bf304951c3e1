"""Errors that Clarity expects and reports to the user, and the exit codes they map to.

Every error a user can cause (a bad image, a wrong preset, a missing Tesseract language) is a
:class:`ClarityError` subclass whose message is meant to be shown as is: it names the thing
that is wrong, what is wrong with it, and what to do. The CLI maps them to exit codes in one
place (:func:`exit_code_for`) and never prints a traceback for them; the studio shows the
message in an error box and keeps running.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Exit codes of ``python -m pipeline``."""

    OK = 0
    SOME_FAILED = 1  # some inputs failed, the others were processed
    USAGE = 2  # bad command line or invalid preset


class ClarityError(Exception):
    """Base class of the errors whose message is shown to the user as is."""

    exit_code: ExitCode = ExitCode.SOME_FAILED


class ImageError(ClarityError):
    """An input image cannot be read (missing, empty, corrupt, unsupported, too large)."""


class PresetError(ClarityError):
    """A preset (file, YAML text or share link) is invalid."""

    exit_code = ExitCode.USAGE


class StageError(ClarityError):
    """A stage failed on a particular image (for example a crop outside the image)."""


class OcrError(ClarityError):
    """Tesseract could not run: missing program, missing language, timeout."""


class TesseractNotFound(OcrError):
    """Neither the Tesseract program nor its library could be found."""


class LanguageNotInstalled(OcrError):
    """A requested Tesseract language has no traineddata file."""


class EngineNotAvailable(OcrError):
    """An OCR engine cannot start: its package, a model file or its runtime is missing or broken."""


class OcrTimeout(OcrError):
    """Tesseract took longer than the configured timeout."""


class TuneUsageError(ClarityError):
    """The tuning was asked for something impossible (bad option, no expected text for CER)."""

    exit_code = ExitCode.USAGE


class TuneError(ClarityError):
    """No image could be scored (none given, none readable, or every reading failed)."""


def exit_code_for(error: BaseException) -> ExitCode:
    """Return the CLI exit code for ``error`` (usage errors are 2, everything else 1)."""
    if isinstance(error, ClarityError):
        return error.exit_code
    return ExitCode.SOME_FAILED


def read_user_file(
    path: str | Path, error: type[ClarityError], kind: str, *, max_bytes: int | None = None
) -> bytes:
    """The bytes of a file the user named, or ``error`` with a one-line reason.

    Parameters
    ----------
    path:
        The file.
    error:
        The :class:`ClarityError` subclass to raise (e.g. ``ImageError``).
    kind:
        What the file should be, with its article, for messages: ``"an image"``.
    max_bytes:
        Largest size accepted, in bytes (``None``: no limit).
    """
    path = Path(path)
    try:
        if max_bytes is not None and path.stat().st_size > max_bytes:
            raise error(f"{path}: larger than {max_bytes} bytes; is this really {kind}?")
        return path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not {kind}") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read: {exc.strerror}") from None
