"""OCR options, probe and both engines (tesserocr in-process, pytesseract via the program)."""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.errors import ImageError, LanguageNotInstalled, OcrError, OcrTimeout, TesseractNotFound
from pipeline.metrics import cer, normalise_text
from pipeline.ocr import (
    OcrEngine,
    OcrOptions,
    OcrResult,
    Word,
    available_engines,
    get_engine,
    installed_languages,
    probe,
    recognize,
)
from pipeline.ocr import engine as engine_module
from pipeline.ocr import options as options_module
from pipeline.ocr import tesseract as tesseract_module
from pipeline.ocr.result import char_confidence, mean_confidence, reading_score, scored

from .conftest import text_image

ENGINES = ("tesserocr", "pytesseract")


def engine_or_skip(name: str) -> OcrEngine:
    if name not in available_engines():
        pytest.skip(f"OCR ENGINE {name} NOT AVAILABLE here (available: {available_engines()})")
    return get_engine(name)


@pytest.fixture(params=ENGINES)
def engine(request) -> OcrEngine:
    return engine_or_skip(request.param)


@pytest.fixture(scope="module")
def phototest(corpus: Path) -> tuple[np.ndarray, str]:
    import cv2

    folder = corpus / "tesseract-test"
    image = cv2.imread(str(folder / "phototest.tif"), cv2.IMREAD_COLOR)
    assert image is not None
    return image, (folder / "phototest.gt.txt").read_text(encoding="utf-8")


def two_lines() -> np.ndarray:
    a, b = text_image("HELLO THERE", scale=1.5), text_image("WORLD 42", scale=1.5)
    width = max(a.shape[1], b.shape[1])
    return np.vstack([np.pad(x, ((0, 0), (0, width - x.shape[1])), constant_values=255) for x in (a, b)])


# ----------------------------------------------------------------------------------- options


def test_options_defaults():
    o = OcrOptions()
    assert (o.engine, o.lang, o.psm, o.oem, o.whitelist, o.blacklist) == ("auto", "eng", 3, 3, "", "")
    assert o.variables == {} and o.timeout_s == 30.0 and o.dpi is None
    for name, info in OcrOptions.model_fields.items():
        assert info.description, f"field {name} has no description"


@pytest.mark.parametrize("lang", ["eng", "eng+deu", "chi_sim", "script/Latin", "hin+~eng", " eng "])
def test_options_accept_language_lists(lang):
    assert OcrOptions(lang=lang).lang == lang.strip()


@pytest.mark.parametrize(
    "lang", ["", "eng+", "+eng", "eng deu", "eng,deu", "../eng", "eng+eng", "~eng", "e.ng"]
)
def test_options_refuse_bad_language_lists(lang):
    with pytest.raises(ValidationError):
        OcrOptions(lang=lang)


@pytest.mark.parametrize(
    "bad",
    [
        {"psm": 14},
        {"psm": -1},
        {"oem": 4},
        {"timeout_s": 0.1},
        {"timeout_s": 601},
        {"dpi": 69},
        {"dpi": 1201},
        {"engine": "easyocr"},
        {"colour": "red"},
        {"whitelist": "12\n"},
        {"variables": {"tessedit_write_images": "1"}},
        {"variables": {"tessedit_create_hocr": "1"}},
        {"variables": {"textord_tabfind_show_vlines": "1"}},
        {"variables": {"classify_debug_level": "1"}},
        {"variables": {"tessedit_write_params_to_file": "/tmp/x"}},
        {"variables": {"not a name": "1"}},
        {"variables": {"tessedit_char_whitelist": "0123"}},
        {"variables": {"tessedit_pageseg_mode": "7"}},
        {"whitelist": "0123", "blacklist": "3x"},
        {"alternative_psm": [0]},
        {"alternative_psm": [14]},
        {"alternative_psm": [6, 6]},
        {"alternative_psm": [4, 5, 6, 7, 8]},
        {"psm": 6, "alternative_psm": [6]},
        {"alternative_blur": [0]},
        {"alternative_blur": [5.5]},
        {"alternative_blur": [0.7, 0.7]},
        {"alternative_blur": [0.5, 1, 1.5, 2]},
        {"empty_psm": 0},
        {"empty_psm": 14},
    ],
)
def test_options_refuse(bad):
    with pytest.raises(ValidationError):
        OcrOptions(**bad)


def test_options_variables_accept_yaml_scalars_and_refuse_paths():
    o = OcrOptions(variables={"classify_bln_numeric_mode": 1, "preserve_interword_spaces": True})
    assert o.variables == {"classify_bln_numeric_mode": "1", "preserve_interword_spaces": "1"}
    with pytest.raises(ValidationError, match="CLARITY_USER_WORDS_FILE"):
        OcrOptions(variables={"user_words_file": "/data/words.txt"})


def test_options_are_frozen_and_tesseract_variables():
    o = OcrOptions(whitelist="0123", variables={"preserve_interword_spaces": "1"})
    with pytest.raises(ValidationError):
        o.psm = 7  # type: ignore[misc]
    assert o.tesseract_variables() == {"tessedit_char_whitelist": "0123", "preserve_interword_spaces": "1"}
    assert OcrOptions(lang="eng+~osd+deu").languages == ["eng", "deu"]
    a = OcrOptions(variables={"textord_min_linesize": "1", "classify_bln_numeric_mode": "2"})
    b = OcrOptions(variables={"classify_bln_numeric_mode": "2", "textord_min_linesize": "1"})
    assert a == b and hash(a) == hash(b) and len({a, b, OcrOptions()}) == 2


# ------------------------------------------------------------------------------------ result


def test_result_mean_conf_and_lines():
    assert OcrResult(text="").mean_conf == 0.0
    words = [
        Word("a", 90.0, 0, 0, 5, 5, line=1),
        Word("b", math.nan, 6, 0, 5, 5, line=1),
        Word("c", 70.0, 0, 9, 5, 5, line=2),
    ]
    result = OcrResult(text="a b\nc", words=words, engine="x", ms=1.0)  # type: ignore[arg-type]
    assert isinstance(result.words, tuple)
    assert result.mean_conf == pytest.approx(80.0)
    assert result.lines == ["a b", "c"]
    assert words[0].box == (0, 0, 5, 5)


# ------------------------------------------------------------------------------------- probe


def test_probe_finds_tesseract_and_languages():
    if not probe.tesseract_available():
        pytest.skip("TESSERACT NOT INSTALLED")
    assert probe.version_tuple(probe.tesseract_version()) >= (4,)
    directory = probe.tessdata_dir()
    assert directory is not None and (directory / "eng.traineddata").is_file()
    assert "eng" in installed_languages()
    assert "osd" not in installed_languages()
    if (directory / "osd.traineddata").is_file():
        assert "osd" in installed_languages(include_osd=True)
    assert probe.check_languages("eng") == directory
    assert "tessedit_char_whitelist" in probe.tesseract_parameters()


def test_openmp_limited_at_import():
    assert os.environ.get("OMP_THREAD_LIMIT")  # set by importing pipeline.ocr unless the user had


def test_tessdata_prefix_wins(tmp_path, monkeypatch):
    (tmp_path / "xyz.traineddata").write_bytes(b"")
    (tmp_path / "osd.traineddata").write_bytes(b"")
    monkeypatch.setenv("TESSDATA_PREFIX", str(tmp_path))
    assert probe.tessdata_dir() == tmp_path.resolve()
    assert installed_languages() == ["xyz"]
    with pytest.raises(LanguageNotInstalled) as info:
        probe.check_languages("xyz+eng")
    message = str(info.value)
    assert (
        "'eng'" in message and "installed: xyz" in message and "apt-get install tesseract-ocr-eng" in message
    )


def test_missing_language_lists_installed():
    if probe.tessdata_dir() is None:
        pytest.skip("NO TESSDATA INSTALLED")
    with pytest.raises(LanguageNotInstalled) as info:
        probe.check_languages("eng+zzz+chi_sim")
    message = str(info.value)
    assert "'zzz'" in message and "'chi_sim'" in message and "'eng'," not in message
    assert "installed: " in message and "eng" in message.split("installed: ")[1]
    assert "apt-get install tesseract-ocr-zzz tesseract-ocr-chi-sim" in message


def test_missing_program_gives_install_advice(monkeypatch, tmp_path):
    monkeypatch.setenv("TESSERACT_CMD", str(tmp_path / "nowhere" / "tesseract"))
    with pytest.raises(TesseractNotFound, match="apt-get install tesseract-ocr tesseract-ocr-eng"):
        probe.find_tesseract()
    monkeypatch.delenv("TESSERACT_CMD")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TesseractNotFound, match="make run"):
        probe.find_tesseract()
    assert not probe.tesseract_available()


# ----------------------------------------------------------------------------------- engines


def test_auto_engine_and_available():
    available = available_engines()
    if not available:
        pytest.skip("NO OCR ENGINE AVAILABLE")
    assert set(available) <= set(options_module.ENGINE_NAMES)
    assert get_engine("auto").name == available[0] in ENGINES
    assert isinstance(get_engine("auto"), OcrEngine)
    assert get_engine(available[0]) is get_engine(available[0])  # shared
    with pytest.raises(ValueError, match="unknown OCR engine"):
        get_engine("nope")


def test_auto_without_any_engine(monkeypatch):
    monkeypatch.setattr(engine_module, "available_engines", lambda: [])
    with pytest.raises(TesseractNotFound, match="apt-get install"):
        get_engine("auto")


@pytest.mark.corpus
def test_phototest_both_engines_accurate_and_agree(phototest):
    image, truth = phototest
    texts = {}
    for name in ENGINES:
        result = recognize(image, OcrOptions(engine=engine_or_skip(name).name))  # type: ignore[arg-type]
        assert result.engine == name
        assert cer(truth, result.text) <= 0.05, (name, result.text)
        assert result.ms > 0
        texts[name] = result.text
    assert cer(texts["tesserocr"], texts["pytesseract"]) <= 0.05


@pytest.mark.corpus
def test_words_have_boxes_inside_and_confidences(engine, phototest):
    image, _ = phototest
    result = engine.recognize(image, OcrOptions())
    height, width = image.shape[:2]
    assert len(result.words) > 40
    for w in result.words:
        assert w.text.strip() == w.text and w.text
        assert 0.0 <= w.conf <= 100.0
        assert w.left >= 0 and w.top >= 0 and w.width > 0 and w.height > 0
        assert w.left + w.width <= width and w.top + w.height <= height
        assert min(w.block, w.par, w.line, w.word) >= 1
    assert 50.0 < result.mean_conf <= 100.0
    assert normalise_text(" ".join(w.text for w in result.words)) == normalise_text(result.text)
    assert result.lines[0].startswith("This is a lot of 12 point text")
    assert result.text == result.text.rstrip()


@pytest.mark.corpus
def test_pytesseract_text_matches_image_to_string(phototest):
    engine_or_skip("pytesseract")
    import pytesseract

    image, _ = phototest
    ours = recognize(image, OcrOptions(engine="pytesseract")).text
    theirs = pytesseract.image_to_string(image[:, :, ::-1], config="--psm 3")
    assert cer(theirs, ours) <= 0.01
    assert ours == theirs.rstrip()


def test_whitelist_restricts_and_does_not_leak(engine):
    image = text_image("AB12", scale=2.0)
    plain = OcrOptions(psm=7)
    assert "AB" in engine.recognize(image, plain).text
    digits = engine.recognize(image, OcrOptions(psm=7, whitelist="0123456789")).text
    assert digits.strip() and set(digits.replace(" ", "")) <= set("0123456789")
    assert "12" in digits
    assert "AB" in engine.recognize(image, plain).text  # call 2 without whitelist: letters again
    no_letters = engine.recognize(image, OcrOptions(psm=7, blacklist="AB")).text
    assert "A" not in no_letters and "B" not in no_letters
    assert "AB" in engine.recognize(image, plain).text


def test_tesserocr_restores_variables():
    engine = engine_or_skip("tesserocr")
    image = text_image("AB12")
    engine.recognize(image, OcrOptions(psm=7, variables={"preserve_interword_spaces": "1"}, whitelist="12"))
    api = engine._local.slot.api  # type: ignore[attr-defined]
    assert api.GetVariableAsString("preserve_interword_spaces") == "0"
    assert api.GetVariableAsString("tessedit_char_whitelist") == ""


def test_psm_is_respected(engine):
    image = two_lines()
    block = engine.recognize(image, OcrOptions(psm=6))
    assert len(block.lines) == 2 and "HELLO" in block.text and "WORLD" in block.text
    line = engine.recognize(image, OcrOptions(psm=7))
    assert len(line.lines) <= 1
    assert not ("HELLO" in line.text and "WORLD" in line.text)


def test_alternative_psm_keeps_the_most_confident_reading(engine):
    image = two_lines()
    options = OcrOptions(psm=7, alternative_psm=(6, 10), engine=engine.name)
    assert options.modes == (7, 6, 10)
    singles = {m: engine.recognize(image, OcrOptions(psm=m)) for m in options.modes}
    longest = max(sum(len(w.text) for w in r.words) for r in singles.values())
    scores = {m: reading_score(scored(r.words), longest) for m, r in singles.items()}
    best = max(options.modes, key=lambda m: scores[m])
    chosen = recognize(image, options)
    assert chosen.psm == best
    assert chosen.text == singles[best].text
    assert chosen.ms >= max(r.ms for r in singles.values()) * 0.5  # all modes were read
    # The block mode reads both lines; one-line and one-character modes cannot.
    assert "HELLO" in chosen.text and "WORLD" in chosen.text
    assert recognize(image, OcrOptions(psm=6, engine=engine.name)).psm is None


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="ONE CORE: the modes cannot run side by side")
def test_alternative_modes_are_read_side_by_side(monkeypatch):
    both_started = threading.Barrier(2, timeout=10)  # breaks (and fails the call) if run one by one
    threads: dict[int, str] = {}

    class Fake:
        name = "fake"
        reads_modes = True
        one_at_a_time = False

        def recognize(self, image, options):
            both_started.wait()
            threads[options.psm] = threading.current_thread().name
            conf = 90.0 if options.psm == 6 else 50.0
            return OcrResult(text=f"psm{options.psm}", words=(Word(f"psm{options.psm}", conf, 0, 0, 1, 1),))

    monkeypatch.setattr(engine_module, "get_engine", lambda name: Fake())
    result = recognize(text_image(), OcrOptions(psm=3, alternative_psm=(6,)))
    assert result.psm == 6 and result.text == "psm6"
    assert set(threads) == {3, 6} and threads[3] != threads[6]
    assert all(name.startswith("clarity-ocr-mode") for name in threads.values())


def test_char_confidence_weights_words_by_length():
    words = [
        Word("a", 95.0, 0, 0, 5, 5),
        Word("abcdefghi", 55.0, 6, 0, 5, 5),
        Word("x", math.nan, 0, 0, 1, 1),
    ]
    assert char_confidence(words) == pytest.approx((95 + 9 * 55) / 10)
    assert mean_confidence(words) == pytest.approx(75.0)
    assert char_confidence([]) == 0.0


def test_psm_0_reads_no_text(engine):
    if "osd" not in installed_languages(include_osd=True):
        pytest.skip("OSD DATA NOT INSTALLED")
    assert engine.recognize(text_image(), OcrOptions(psm=0)).text == ""


def test_missing_language_raises(engine):
    with pytest.raises(LanguageNotInstalled) as info:
        engine.recognize(text_image(), OcrOptions(lang="zzz"))
    assert "'zzz'" in str(info.value) and "eng" in str(info.value).split("installed: ")[1]


def test_unknown_variable_raises(engine):
    with pytest.raises(OcrError, match="no_such_variable"):
        # Presets cannot name it (the allowlist); the engines refuse it too, for options built unchecked.
        engine.recognize(
            text_image(), OcrOptions().model_copy(update={"variables": {"no_such_variable": "1"}})
        )


def test_pytesseract_missing_program(monkeypatch, tmp_path):
    engine = engine_or_skip("pytesseract")
    monkeypatch.setenv("TESSERACT_CMD", str(tmp_path / "no-tesseract"))
    with pytest.raises(TesseractNotFound) as info:
        engine.recognize(text_image(), OcrOptions(engine="pytesseract"))
    assert "sudo apt-get install tesseract-ocr tesseract-ocr-eng" in str(info.value)
    monkeypatch.delenv("TESSERACT_CMD")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TesseractNotFound, match="make run"):
        engine.recognize(text_image(), OcrOptions(engine="pytesseract"))


def test_pytesseract_not_found_error_is_mapped(monkeypatch):
    """The program vanishing between the probe and the run still gives install advice."""
    engine = engine_or_skip("pytesseract")
    import pytesseract

    def gone(*args, **kwargs):
        raise pytesseract.TesseractNotFoundError()

    monkeypatch.setattr(pytesseract, "image_to_data", gone)
    with pytest.raises(TesseractNotFound, match="apt-get install tesseract-ocr"):
        engine.recognize(text_image(), OcrOptions())


@pytest.mark.corpus
def test_real_timeout(engine, phototest):
    """A 4 x 4 tiling of phototest takes about 2.5 s; 0.5 s must stop it promptly."""
    image = np.tile(phototest[0], (4, 4, 1))
    start = time.perf_counter()
    with pytest.raises(OcrTimeout, match=r"0\.5 s"):
        engine.recognize(image, OcrOptions(timeout_s=0.5))
    assert time.perf_counter() - start < 5.0
    assert "AB" in engine.recognize(text_image("AB12", scale=2.0), OcrOptions(psm=7)).text  # still usable


def test_tesserocr_watchdog_timeout(monkeypatch):
    """When libtesseract ignores its deadline (layout analysis), the watchdog still returns."""
    engine = engine_or_skip("tesserocr")
    from pipeline.ocr import tesserocr_engine

    release = threading.Event()

    def stuck(api, pixels, options):
        release.wait(10)
        return None, True

    engine.recognize(text_image(), OcrOptions(psm=7))  # make sure this thread has an API
    old_slot = engine._local.slot  # type: ignore[attr-defined]
    monkeypatch.setattr(tesserocr_engine, "_run", stuck)
    monkeypatch.setattr(tesserocr_engine, "GRACE_S", 0.1)
    start = time.perf_counter()
    with pytest.raises(OcrTimeout):
        engine.recognize(text_image(), OcrOptions(psm=7, timeout_s=0.5))
    assert time.perf_counter() - start < 2.0
    release.set()
    monkeypatch.undo()
    result = engine.recognize(text_image("AB12", scale=2.0), OcrOptions(psm=7))
    assert "AB" in result.text
    assert engine._local.slot is not old_slot  # type: ignore[attr-defined]  # abandoned API replaced


def test_pytesseract_timeout_mapping(monkeypatch):
    engine = engine_or_skip("pytesseract")
    import pytesseract

    def slow(*args, **kwargs):
        raise RuntimeError("Tesseract process timeout")

    monkeypatch.setattr(pytesseract, "image_to_data", slow)
    with pytest.raises(OcrTimeout, match="timeout_s"):
        engine.recognize(text_image(), OcrOptions())


def test_image_inputs(engine):
    gray = text_image("AB12", scale=2.0)
    expected = engine.recognize(gray, OcrOptions(psm=7)).text
    bgr = np.dstack([gray] * 3)
    assert engine.recognize(bgr, OcrOptions(psm=7)).text == expected
    bgra = np.dstack([gray] * 3 + [np.full_like(gray, 255)])
    assert engine.recognize(bgra, OcrOptions(psm=7)).text == expected
    assert engine.recognize(gray > 127, OcrOptions(psm=7)).text == expected
    blank = engine.recognize(np.full((3, 3), 255, np.uint8), OcrOptions())
    assert blank.text == "" and blank.words == () and blank.mean_conf == 0.0
    with pytest.raises(ImageError, match="8-bit"):
        engine.recognize(gray.astype(np.float32), OcrOptions())
    with pytest.raises(ImageError, match="empty"):
        engine.recognize(np.zeros((0, 5), np.uint8), OcrOptions())


def test_prepare_image_turns_bgr_into_rgb(rng):
    bgr = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    prepared = tesseract_module.prepare_image(bgr)
    assert prepared.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(prepared, bgr[:, :, ::-1])
    np.testing.assert_array_equal(tesseract_module.prepare_image(bgr[:, :, :1]), bgr[:, :, 0])
    transparent = np.dstack([bgr, np.zeros((7, 9), np.uint8)])
    assert (tesseract_module.prepare_image(transparent) == 255).all()  # transparent = white paper


def test_tesserocr_threads_agree():
    engine = engine_or_skip("tesserocr")
    images = [text_image(t, scale=1.5) for t in ("AB12", "Clarity 2026", "HELLO", "42 is it")]
    serial = [engine.recognize(img, OcrOptions(psm=7)).text for img in images]
    results: dict[int, str] = {}

    def read(i: int) -> None:
        options = OcrOptions(psm=7, whitelist="0123456789 " if i % 2 else "")
        for _ in range(3):
            engine.recognize(images[i], options)
        results[i] = engine.recognize(images[i], OcrOptions(psm=7)).text

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [results[i] for i in range(len(images))] == serial


def test_build_config_quotes():
    from pipeline.ocr.pytesseract_engine import build_config

    config = build_config(OcrOptions(psm=7, oem=1, dpi=300, whitelist="0-9 '\""), "/data/tess data")
    assert "--psm 7" in config and "--oem 1" in config and "--dpi 300" in config
    import shlex

    args = shlex.split(config)
    assert args[:2] == ["--tessdata-dir", "/data/tess data"]
    assert "tessedit_char_whitelist=0-9 '\"" in args


def test_reading_score_discounts_a_reading_that_drops_text():
    both = (Word("HELLO", 90.0, 0, 0, 5, 5), Word("WORLD", 40.0, 6, 0, 5, 5))
    dropped = (Word("HELLO", 95.0, 0, 0, 5, 5),)
    longest = 10
    assert char_confidence(dropped) > char_confidence(both)  # confidence alone keeps the shorter one
    assert reading_score(scored(both), longest) == pytest.approx(65.0)
    assert reading_score(scored(dropped), longest) == pytest.approx(47.5)
    assert reading_score([], 0) == 0.0


def test_alternative_blur_reads_softened_copies_and_keeps_the_best(monkeypatch):
    seen: dict[float, np.ndarray] = {}
    image = text_image()
    softened = cv2.GaussianBlur(image, (0, 0), 1.5)

    class Fake:
        name = "fake"
        reads_modes = True
        one_at_a_time = False

        def recognize(self, img, options):
            assert not options.alternative_blur and not options.alternative_psm
            sigma = 1.5 if np.array_equal(img, softened) else 0.0 if np.array_equal(img, image) else -1.0
            seen[sigma] = img
            conf = 80.0 if sigma == 1.5 else 60.0
            return OcrResult(text=f"copy{sigma}", words=(Word(f"copy{sigma}", conf, 0, 0, 1, 1),))

    monkeypatch.setattr(engine_module, "get_engine", lambda name: Fake())
    result = recognize(image, OcrOptions(psm=7, alternative_blur=(1.5,)))
    assert set(seen) == {0.0, 1.5}  # the image as it is and the copy softened by exactly sigma 1.5
    assert result.blur == 1.5 and result.text == "copy1.5" and result.psm is None
    assert recognize(image, OcrOptions(psm=7)).blur is None


def test_alternative_blur_ties_keep_the_image_as_it_is(monkeypatch):
    class Fake:
        name = "fake"
        reads_modes = True
        one_at_a_time = False

        def recognize(self, img, options):
            return OcrResult(text="same", words=(Word("same", 70.0, 0, 0, 1, 1),))

    monkeypatch.setattr(engine_module, "get_engine", lambda name: Fake())
    result = recognize(text_image(), OcrOptions(psm=3, alternative_psm=(6,), alternative_blur=(0.7, 1.0)))
    assert (result.psm, result.blur) == (3, 0.0)


def _fake_by_way(monkeypatch, texts: dict[tuple[int, bool], str], confidences: dict[tuple[int, bool], float]):
    """An engine whose reading of (psm, softened) is ``texts[...]`` with that confidence; returns
    the list of ways read."""
    image = text_image()
    read: list[tuple[int, bool]] = []

    class Fake:
        name = "fake"
        reads_modes = True
        one_at_a_time = False

        def recognize(self, img, options):
            way = (options.psm, not np.array_equal(img, image))
            read.append(way)
            return OcrResult(text=texts[way], words=(Word(texts[way], confidences[way], 0, 0, 1, 1),))

    monkeypatch.setattr(engine_module, "get_engine", lambda name: Fake())
    return image, read


def test_agree_within_skips_the_other_ways_when_the_first_two_agree(monkeypatch):
    confidences = {(3, False): 60.0, (6, False): 90.0, (3, True): 50.0, (6, True): 70.0}
    options = OcrOptions(psm=3, alternative_psm=(6,), alternative_blur=(0.7,), agree_within=0.05)
    # psm 3 as it is and psm 6 softened differ by 1 character in 40: they settle it
    texts = {(3, False): "a" * 40, (6, True): "a" * 39 + "b", (6, False): "c" * 40, (3, True): "d" * 40}
    image, read = _fake_by_way(monkeypatch, texts, confidences)
    result = recognize(image, options)
    assert sorted(read) == [(3, False), (6, True)]
    assert (result.text, result.psm, result.blur) == ("a" * 39 + "b", 6, 0.7)
    # 3 characters in 40 differ (7.5 %): every way is read and the most confident of all four wins
    texts[6, True] = "a" * 37 + "bbb"
    image, read = _fake_by_way(monkeypatch, texts, confidences)
    result = recognize(image, options)
    assert sorted(read) == [(3, False), (3, True), (6, False), (6, True)]
    assert (result.text, result.psm, result.blur) == ("c" * 40, 6, 0.0)
    # without agree_within every way is read, however much the first two agree
    texts[6, True] = "a" * 40
    image, read = _fake_by_way(monkeypatch, texts, confidences)
    assert recognize(image, options.model_copy(update={"agree_within": None})).text == "c" * 40
    assert len(read) == 4


def test_agree_within_needs_three_ways():
    assert engine_module.first_round([(0, 0.0, 3), (0, 0.0, 6)], 0.05) == [(0, 0.0, 3), (0, 0.0, 6)]
    ways = [(0, 0.0, 3), (0, 0.0, 6), (0, 0.7, 3), (0, 0.7, 6)]
    assert engine_module.first_round(ways, 0.05) == [(0, 0.0, 3), (0, 0.7, 6)]
    assert engine_module.first_round(ways, None) == ways
    # RapidOCR with the original too: the cleaned image's two copies alone are not enough
    mixed = [(0, 0.0, 3), (0, 0.7, 3), (1, 0.0, 3), (1, 0.7, 3)]
    assert engine_module.first_round(mixed, 0.05) == mixed


def _fake_by_image(monkeypatch, name: str, confidences: dict[str, float], images: dict[str, np.ndarray]):
    """An engine called ``name`` that reads each of ``images`` as its key, with that key's
    confidence; returns the list of keys read, in call order."""
    read: list[str] = []

    class Fake:
        def __init__(self) -> None:
            self.name = name
            self.reads_modes = name != "rapidocr"  # as the real engines of that name
            self.one_at_a_time = name == "rapidocr"

        def recognize(self, img, options):
            assert not options.alternative_blur and not options.alternative_psm
            key = next(k for k, v in images.items() if v.shape == img.shape and np.array_equal(v, img))
            read.append(key)
            return OcrResult(text=key, words=(Word(key, confidences[key], 0, 0, 1, 1),), engine=name)

    monkeypatch.setattr(engine_module, "get_engine", lambda engine: Fake())
    return read


def test_also_read_original_keeps_the_better_of_the_cleaned_and_the_original(monkeypatch):
    original, cleaned = text_image("AB12"), text_image("AB12", scale=1.5)
    images = {"orig": original, "clean": cleaned}
    options = OcrOptions(engine="rapidocr", psm=7, also_read_original=True)
    read = _fake_by_image(monkeypatch, "rapidocr", {"orig": 90.0, "clean": 60.0}, images)
    result = recognize(cleaned, options, original)
    assert sorted(read) == ["clean", "orig"] and result.text == "orig" and result.from_original is True
    read = _fake_by_image(monkeypatch, "rapidocr", {"orig": 60.0, "clean": 90.0}, images)
    result = recognize(cleaned, options, original)
    assert result.text == "clean" and result.from_original is False
    read = _fake_by_image(monkeypatch, "rapidocr", {"orig": 70.0, "clean": 70.0}, images)
    assert recognize(cleaned, options, original).from_original is False  # ties keep the cleaned image


def test_also_read_original_reads_once_without_a_different_original_or_with_tesseract(monkeypatch):
    original, cleaned = text_image("AB12"), text_image("AB12", scale=1.5)
    images = {"orig": original, "clean": cleaned}
    confidences = {"orig": 90.0, "clean": 60.0}
    read = _fake_by_image(monkeypatch, "rapidocr", confidences, images)
    rapid = OcrOptions(engine="rapidocr", psm=7, also_read_original=True)
    assert recognize(cleaned, rapid, cleaned.copy()).from_original is None  # stages changed nothing
    assert recognize(cleaned, rapid).from_original is None  # no original given
    assert (
        recognize(cleaned, rapid.model_copy(update={"also_read_original": False}), original).text == "clean"
    )
    assert read == ["clean", "clean", "clean"]
    read = _fake_by_image(monkeypatch, "tesserocr", confidences, images)  # Tesseract: cleaned only
    result = recognize(cleaned, OcrOptions(engine="tesserocr", psm=7, also_read_original=True), original)
    assert read == ["clean"] and result.from_original is None


def test_also_read_original_combines_with_softened_copies(monkeypatch):
    original, cleaned = text_image("AB12"), text_image("AB12", scale=1.5)
    images = {
        "orig": original,
        "clean": cleaned,
        "orig-soft": cv2.GaussianBlur(original, (0, 0), 0.7),
        "clean-soft": cv2.GaussianBlur(cleaned, (0, 0), 0.7),
    }
    confidences = {"orig": 50.0, "clean": 60.0, "orig-soft": 95.0, "clean-soft": 70.0}
    read = _fake_by_image(monkeypatch, "rapidocr", confidences, images)
    options = OcrOptions(engine="rapidocr", psm=7, also_read_original=True, alternative_blur=(0.7,))
    result = recognize(cleaned, options, original)
    assert sorted(read) == sorted(images)
    assert (result.text, result.from_original, result.blur) == ("orig-soft", True, 0.7)


@pytest.mark.parametrize("engine_reads_modes", [True, False])
def test_an_empty_reading_is_read_again_with_empty_psm(monkeypatch, engine_reads_modes):
    """A line Tesseract finds nothing in with psm 7 is read once more with ``empty_psm``; a
    reading with text is not, nor by RapidOCR, which has no modes."""
    calls: list[int] = []

    class Fake:
        name = "fake"
        reads_modes = engine_reads_modes
        one_at_a_time = False

        def recognize(self, img, options):
            calls.append(options.psm)
            text = "found" if options.psm == 13 or img.mean() < 128 else ""
            return OcrResult(text=text, words=(Word(text, 70.0, 0, 0, 1, 1),) if text else (), ms=5.0)

    monkeypatch.setattr(engine_module, "get_engine", lambda name: Fake())
    blank, dark = np.full((20, 60), 255, np.uint8), np.zeros((20, 60), np.uint8)
    result = recognize(blank, OcrOptions(psm=7, empty_psm=13))
    if engine_reads_modes:
        assert calls == [7, 13] and result.text == "found" and result.psm == 13 and result.ms == 10.0
    else:
        assert calls == [7] and result.text == "" and result.psm is None
    calls.clear()
    assert recognize(dark, OcrOptions(psm=7, empty_psm=13)).text == "found" and calls == [7]
    calls.clear()
    assert recognize(blank, OcrOptions(psm=7)).text == "" and calls == [7]
