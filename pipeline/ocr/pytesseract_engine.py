"""The command-line engine: the ``tesseract`` program, once per image, through ``pytesseract``.

One program run per image: ``image_to_data`` returns Tesseract's TSV (every word with its
box, confidence and block/paragraph/line numbers) and the text is rebuilt from it exactly as
Tesseract lays out its plain-text output (words joined by spaces, one line per text line, an
empty line after each paragraph), so a second run for ``image_to_string`` is not needed.
The TSV is parsed here rather than with ``Output.DICT``, which truncates confidences to
integers.

The program gets ``--tessdata-dir`` (the probe's directory), ``--psm``, ``--oem``, ``-l``,
``--dpi`` when set, and ``-c name=value`` for the whitelist, blacklist and extra variables;
it runs with pytesseract's ``timeout`` (the process is killed when it expires). pytesseract
starts it with ``os.environ``, which the :mod:`pipeline.ocr` import gave
``OMP_THREAD_LIMIT=1`` (see :func:`pipeline.ocr.probe.limit_openmp_threads`).
"""

from __future__ import annotations

import shlex
import threading
import time

import numpy as np
import pytesseract
from PIL import Image

from ..errors import LanguageNotInstalled, OcrError, OcrTimeout, TesseractNotFound
from . import probe
from .options import OcrOptions
from .result import OcrResult, Word
from .tesseract import needs_osd, prepare_image

_CMD_LOCK = threading.Lock()
_TSV_COLUMNS = 12  # level page block par line word left top width height conf text


class PytesseractEngine:
    """OCR by running the tesseract program (see the module docstring); thread-safe."""

    name = "pytesseract"
    reads_modes = True
    one_at_a_time = False

    def recognize(self, image: np.ndarray, options: OcrOptions) -> OcrResult:
        """Read ``image`` (uint8 gray or BGR) as ``options`` say (see :class:`.OcrEngine`)."""
        start = time.perf_counter()
        cmd = probe.find_tesseract()
        tessdata = probe.check_languages(options.lang, need_osd=needs_osd(options))
        pixels = prepare_image(image)
        check_variables(options)
        if options.psm == 0:  # orientation and script detection only: no text to read
            return OcrResult(text="", engine=self.name, ms=(time.perf_counter() - start) * 1000)
        _use_program(cmd)
        config = build_config(options, str(tessdata))
        try:
            tsv = pytesseract.image_to_data(
                Image.fromarray(pixels),
                lang=options.lang,
                config=config,
                timeout=options.timeout_s,
                output_type=pytesseract.Output.STRING,
            )
        except pytesseract.TesseractNotFoundError as exc:
            raise TesseractNotFound(
                f"The Tesseract program {cmd!r} could not be started. " + probe.INSTALL_ADVICE
            ) from exc
        except pytesseract.TesseractError as exc:
            raise _map_tesseract_error(exc, options) from exc
        except RuntimeError as exc:  # pytesseract's timeout is a bare RuntimeError
            if "timeout" in str(exc).lower():
                height, width = pixels.shape[:2]
                raise OcrTimeout(
                    f"OCR timed out: Tesseract took longer than {options.timeout_s:g} s on a "
                    f"{width} x {height} image (ocr.timeout_s) and was stopped; raise the timeout, "
                    "or crop or downscale the image."
                ) from exc
            raise OcrError(f"Tesseract failed: {exc}") from exc
        except FileNotFoundError as exc:  # the program ran but wrote no TSV
            raise OcrError(f"Tesseract wrote no result: {exc}") from exc
        words = parse_tsv(tsv)
        return OcrResult(
            text=text_from_words(words),
            words=tuple(words),
            engine=self.name,
            ms=(time.perf_counter() - start) * 1000,
        )


def _use_program(cmd: str) -> None:
    """Point pytesseract at ``cmd`` (its setting is a module global, so guard the write)."""
    if pytesseract.pytesseract.tesseract_cmd != cmd:
        with _CMD_LOCK:
            pytesseract.pytesseract.tesseract_cmd = cmd


def check_variables(options: OcrOptions) -> None:
    """Refuse variables the program does not know (it would only print a warning and go on).

    Raises :class:`~pipeline.errors.OcrError` naming them, like the tesserocr engine does.
    """
    known = probe.tesseract_parameters()
    unknown = [name for name in options.variables if known and name not in known]
    if unknown:
        raise OcrError(
            f"unknown Tesseract variable {', '.join(repr(n) for n in unknown)} in ocr.variables "
            "(see `tesseract --print-parameters` for the valid names)"
        )


def build_config(options: OcrOptions, tessdata: str | None) -> str:
    """The command-line options for ``options``, shell-quoted as pytesseract's ``config`` expects."""
    args: list[str] = []
    if tessdata:
        args += ["--tessdata-dir", tessdata]
    args += ["--psm", str(options.psm), "--oem", str(options.oem)]
    if options.dpi is not None:
        args += ["--dpi", str(options.dpi)]
    for name, value in options.engine_variables().items():
        args += ["-c", f"{name}={value}"]
    return shlex.join(args)


def _map_tesseract_error(exc: pytesseract.TesseractError, options: OcrOptions) -> OcrError:
    message = str(getattr(exc, "message", "") or exc)
    lowered = message.lower()
    if "failed loading language" in lowered or "could not initialize tesseract" in lowered:
        try:  # the directory may have changed since the check: give the precise message
            probe.check_languages(options.lang, need_osd=needs_osd(options))
        except LanguageNotInstalled as precise:
            return precise
        return OcrError(
            f"Tesseract could not load language {options.lang!r} with OCR engine mode {options.oem}: "
            f"{message}. Modes 0 and 2 need language data with the legacy model (tessdata, not "
            "tessdata_fast/best); mode 3 works with any."
        )
    return OcrError(f"Tesseract failed (exit status {getattr(exc, 'status', '?')}): {message}")


def parse_tsv(tsv: str) -> list[Word]:
    """The words (level-5 rows with non-empty text) of Tesseract's TSV output, in reading order."""
    words: list[Word] = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < _TSV_COLUMNS - 1 or cells[0] != "5":
            continue
        text = cells[11] if len(cells) >= _TSV_COLUMNS else ""
        if not text.strip():
            continue
        try:
            block, par, line, number, left, top, width, height = (int(c) for c in cells[2:10])
            conf = float(cells[10])
        except ValueError:
            continue
        if conf < 0:
            continue
        words.append(Word(text, min(100.0, conf), left, top, width, height, block, par, line, number))
    return words


def text_from_words(words: list[Word] | tuple[Word, ...]) -> str:
    """Tesseract's plain-text layout from its words: spaces, newlines, an empty line between paragraphs."""
    paragraphs: list[list[list[str]]] = []
    last_par = last_line = None
    for w in words:
        par_key = (w.block, w.par)
        if par_key != last_par:
            paragraphs.append([])
            last_par, last_line = par_key, None
        if w.line_key != last_line:
            paragraphs[-1].append([])
            last_line = w.line_key
        paragraphs[-1][-1].append(w.text)
    return "\n\n".join("\n".join(" ".join(line) for line in par) for par in paragraphs)
