"""Find Tesseract: the program, its version, its language data. Never runs OCR.

Kept apart from the engines so that the studio and the CLI can say what is installed (and
what is missing, with install advice) before any image is read. Lookups that start a
process are cached per relevant environment value (``TESSERACT_CMD``, ``PATH``,
``TESSDATA_PREFIX``), so changing those takes effect; the language list is read from the
directory on every call (it is one ``listdir``), so a newly installed language is seen at once.

Importing this module sets ``OMP_THREAD_LIMIT=1`` in ``os.environ`` unless the user already
set it (see :func:`limit_openmp_threads`).
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess
from pathlib import Path

from ..errors import LanguageNotInstalled, TesseractNotFound
from .options import split_languages

PROBE_TIMEOUT_S = 10.0
"""Longest time ``tesseract --version`` / ``--list-langs`` may take."""

INSTALL_ADVICE = (
    "Install it with `sudo apt-get install tesseract-ocr tesseract-ocr-eng` on Debian/Ubuntu "
    "(or run `make run`, which installs it), `brew install tesseract` on macOS; or set "
    "TESSERACT_CMD to the full path of the tesseract program."
)

_FALLBACK_TESSDATA = (
    "/usr/share/tesseract-ocr/*/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/usr/local/share/tesseract-ocr/*/tessdata",
    "/opt/homebrew/share/tessdata",
)


def limit_openmp_threads() -> None:
    """Set ``OMP_THREAD_LIMIT=1`` in ``os.environ`` unless it is already set.

    Tesseract parallelises parts of the LSTM recogniser with OpenMP. On the small images
    Clarity reads (lines, captchas, cleaned crops) starting and synchronising those threads
    costs more than it saves, and when Clarity itself processes several images in parallel
    the OpenMP threads of every call compete for the same cores, which makes the whole run
    markedly slower. One thread per Tesseract call is the fastest overall; parallelism comes
    from running several calls at once. The variable is read by the OpenMP runtime when
    libtesseract starts, so it must be set before ``tesserocr`` is imported and in the
    environment the ``tesseract`` program inherits; a value the user set is kept.
    """
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


limit_openmp_threads()


def tesseract_env() -> dict[str, str]:
    """The environment for running the tesseract program: ours, with one OpenMP thread."""
    env = dict(os.environ)
    env.setdefault("OMP_THREAD_LIMIT", "1")
    return env


# ----------------------------------------------------------------------------------- program


def find_tesseract() -> str:
    """Absolute path of the tesseract program.

    ``TESSERACT_CMD`` (a path or a command name) wins when set; otherwise ``tesseract`` is
    looked up on ``PATH``.

    Raises
    ------
    TesseractNotFound
        With install advice, when the program cannot be found or is not executable.
    """
    return _find_tesseract(os.environ.get("TESSERACT_CMD"), os.environ.get("PATH"))


@functools.lru_cache(maxsize=8)
def _find_tesseract(cmd: str | None, path: str | None) -> str:
    if cmd:
        found = shutil.which(cmd, path=path)
        if found is None:
            raise TesseractNotFound(
                f"TESSERACT_CMD is set to {cmd!r}, but no executable tesseract program is there. "
                + INSTALL_ADVICE
            )
        return os.path.abspath(found)
    found = shutil.which("tesseract", path=path)
    if found is None:
        raise TesseractNotFound(
            "The Tesseract OCR program (tesseract) was not found on PATH. " + INSTALL_ADVICE
        )
    return os.path.abspath(found)


def tesseract_available() -> bool:
    """True when the tesseract program can be found (see :func:`find_tesseract`)."""
    try:
        find_tesseract()
    except TesseractNotFound:
        return False
    return True


def _run_probe(cmd: str, *args: str) -> str:
    """Run ``cmd args`` briefly and return stdout + stderr (Tesseract prints to either)."""
    try:
        proc = subprocess.run(
            [cmd, *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=PROBE_TIMEOUT_S,
            env=tesseract_env(),
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise TesseractNotFound(f"cannot run {cmd!r}: {exc.strerror}. " + INSTALL_ADVICE) from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TesseractNotFound(f"{cmd!r} {' '.join(args)} failed: {exc}. " + INSTALL_ADVICE) from exc
    return proc.stdout + "\n" + proc.stderr


def tesseract_version() -> str:
    """Version of the tesseract program, e.g. ``"5.3.0"`` (cached per program path).

    Raises :class:`~pipeline.errors.TesseractNotFound` when the program is missing or does
    not answer ``--version``.
    """
    return _version_of(find_tesseract())


@functools.lru_cache(maxsize=8)
def _version_of(cmd: str) -> str:
    output = _run_probe(cmd, "--version")
    match = re.search(r"tesseract\s+v?(\d+(?:\.\d+)*\S*)", output, re.IGNORECASE)
    if match is None:
        raise TesseractNotFound(f"{cmd!r} does not look like Tesseract: `--version` printed {output[:200]!r}")
    return match.group(1)


def tesseract_parameters() -> frozenset[str]:
    """Names of every variable the tesseract program accepts with ``-c`` (cached per program path).

    Read from ``tesseract --print-parameters``; empty when the program does not list them.
    """
    return _parameters_of(find_tesseract())


@functools.lru_cache(maxsize=8)
def _parameters_of(cmd: str) -> frozenset[str]:
    output = _run_probe(cmd, "--print-parameters")
    return frozenset(m.group(1) for m in re.finditer(r"^([A-Za-z_][A-Za-z0-9_]*)\t", output, re.MULTILINE))


def version_tuple(version: str) -> tuple[int, ...]:
    """``"5.3.0"`` -> ``(5, 3, 0)``; text after the numbers (``-rc1``) is ignored."""
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(p) for p in match.group(0).split(".")) if match else ()


# ------------------------------------------------------------------------------ language data


def tessdata_dir() -> Path | None:
    """The directory holding the ``*.traineddata`` files, or ``None`` when none is found.

    Looked for, in order: ``TESSDATA_PREFIX`` (the directory itself, or its ``tessdata``
    subdirectory as Tesseract 3 expected); the directory ``tesseract --list-langs`` names;
    ``/usr/share/tesseract-ocr/*/tessdata`` (newest version first), ``/usr/share/tessdata``,
    ``/usr/local/share/tessdata``. Only a directory that contains at least one
    ``.traineddata`` file counts.
    """
    try:
        cmd: str | None = find_tesseract()
    except TesseractNotFound:
        cmd = None
    return _tessdata_dir(os.environ.get("TESSDATA_PREFIX"), cmd)


def _has_traineddata(directory: Path) -> bool:
    try:
        return directory.is_dir() and any(directory.glob("*.traineddata"))
    except OSError:
        return False


@functools.lru_cache(maxsize=8)
def _tessdata_dir(prefix: str | None, cmd: str | None) -> Path | None:
    if prefix:
        for candidate in (Path(prefix), Path(prefix) / "tessdata"):
            if _has_traineddata(candidate):
                return candidate.resolve()
    if cmd is not None:
        try:
            output = _run_probe(cmd, "--list-langs")
        except TesseractNotFound:
            output = ""
        match = re.search(r'languages in "([^"]+)"', output)
        if match and _has_traineddata(Path(match.group(1))):
            return Path(match.group(1)).resolve()
    for pattern in _FALLBACK_TESSDATA:
        for found in sorted(glob.glob(pattern), key=_version_key, reverse=True):
            if _has_traineddata(Path(found)):
                return Path(found).resolve()
    return None


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def installed_languages(*, include_osd: bool = False, tessdata: Path | None = None) -> list[str]:
    """Sorted names of the installed languages (``*.traineddata`` in the tessdata directory).

    ``osd`` (orientation and script detection, not a language) is left out unless
    ``include_osd``. Models in the ``script/`` subdirectory are listed as ``script/<Name>``.
    Returns an empty list when no tessdata directory is found.
    """
    directory = tessdata if tessdata is not None else tessdata_dir()
    if directory is None:
        return []
    names = [p.name.removesuffix(".traineddata") for p in directory.glob("*.traineddata")]
    names += ["script/" + p.name.removesuffix(".traineddata") for p in directory.glob("script/*.traineddata")]
    return sorted(n for n in names if include_osd or n != "osd")


def debian_package(lang: str) -> str:
    """Debian/Ubuntu package holding a language: ``chi_sim`` -> ``tesseract-ocr-chi-sim``."""
    return "tesseract-ocr-" + lang.replace("_", "-").replace("/", "-").lower()


def check_languages(lang: str, *, need_osd: bool = False) -> Path:
    """Check that every language of ``lang`` (plus-joined) is installed; return the tessdata directory.

    Parameters
    ----------
    lang:
        e.g. ``"eng"`` or ``"eng+deu"`` (``~``-excluded names are not checked).
    need_osd:
        Also require ``osd.traineddata`` (page segmentation modes 0, 1 and 12 use it).

    Raises
    ------
    LanguageNotInstalled
        Naming the missing languages, listing the installed ones and saying how to install.
    """
    directory = tessdata_dir()
    wanted = split_languages(lang) + (["osd"] if need_osd else [])
    if directory is None:
        raise LanguageNotInstalled(
            "No Tesseract language data (*.traineddata) was found: looked in TESSDATA_PREFIX, "
            "the directory `tesseract --list-langs` reports, /usr/share/tesseract-ocr/*/tessdata, "
            "/usr/share/tessdata and /usr/local/share/tessdata. Install it with "
            f"`sudo apt-get install {' '.join(debian_package(n) for n in wanted)}` (Debian/Ubuntu) "
            "or set TESSDATA_PREFIX to the directory holding the .traineddata files."
        )
    installed = set(installed_languages(include_osd=True, tessdata=directory))
    missing = [n for n in wanted if n not in installed]
    if missing:
        shown = ", ".join(installed_languages(tessdata=directory)) or "none"
        packages = " ".join(debian_package(n) for n in missing)
        raise LanguageNotInstalled(
            f"Tesseract language {', '.join(repr(m) for m in missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed in {directory} "
            f"(installed: {shown}). Install with `sudo apt-get install {packages}` on Debian/Ubuntu, "
            f"or copy {missing[0]}.traineddata from https://github.com/tesseract-ocr/tessdata_fast "
            "into that directory."
        )
    return directory


def clear_cache() -> None:
    """Forget cached lookups (tests, or after installing Tesseract while running)."""
    _find_tesseract.cache_clear()
    _version_of.cache_clear()
    _parameters_of.cache_clear()
    _tessdata_dir.cache_clear()
