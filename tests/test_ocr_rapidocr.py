"""The RapidOCR engine: mode mapping, whitelist/blacklist, languages, errors, offline models."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.cli import main
from pipeline.errors import EngineNotAvailable, ImageError, LanguageNotInstalled
from pipeline.metrics import cer
from pipeline.ocr import OcrOptions, available_engines, get_engine, rapidocr_engine, recognize
from pipeline.ocr import engine as engine_module
from pipeline.ocr.rapidocr_engine import LINE_MODES, PAGE_MODES, RapidOcrEngine
from pipeline.ocr.result import reading_score, scored

from .conftest import text_image
from .test_ocr import two_lines

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
OPTIONS = OcrOptions(engine="rapidocr", psm=7)


@pytest.fixture(scope="module")
def engine() -> RapidOcrEngine:
    if "rapidocr" not in available_engines():
        pytest.fail("rapidocr is a runtime requirement but is not installed")
    engine = get_engine("rapidocr")
    assert isinstance(engine, RapidOcrEngine)
    return engine


def test_line_mode_reads_a_line_with_word_boxes_inside_the_image(engine: RapidOcrEngine) -> None:
    image = text_image("HELLO 2026 WORLD", scale=1.5)
    result = engine.recognize(image, OPTIONS)
    assert result.engine == "rapidocr"
    assert cer("HELLO 2026 WORLD", result.text) <= 0.1
    assert len(result.words) == 3
    height, width = image.shape
    for word in result.words:
        left, top, right, bottom = word.box
        assert 0 <= left < right <= width and 0 <= top < bottom <= height
        assert 50 <= word.conf <= 100
    lefts = [w.left for w in result.words]
    assert lefts == sorted(lefts)


def test_page_modes_detect_lines_and_join_them_top_to_bottom(engine: RapidOcrEngine) -> None:
    image = two_lines()
    for psm in (3, 6):
        result = engine.recognize(image, OPTIONS.model_copy(update={"psm": psm}))
        lines = result.text.split("\n")
        assert len(lines) == 2, (psm, result.text)
        assert cer("HELLO THERE", lines[0]) <= 0.1 and cer("WORLD 42", lines[1]) <= 0.15
        assert [w.line for w in result.words] == sorted(w.line for w in result.words)


def test_a_page_is_recognised_one_line_at_a_time_with_the_batches_readings() -> None:
    # RapidOCR batches 6 lines padded to the widest; the model is fed them one at a time (to
    # bound its memory), each still padded to its batch's width: the same words, the same scores.
    page = cv2.cvtColor(cv2.imread(str(DATA / "column-page.png")), cv2.COLOR_BGR2GRAY)
    bgr = rapidocr_engine.to_bgr(page)
    reader = rapidocr_engine.open_reader(rapidocr_engine.model_paths())
    fed = reader.text_rec.session
    assert isinstance(fed, rapidocr_engine._OneLineAtATime)
    sizes: list[int] = []
    inner = fed.inner

    def counted(batch: np.ndarray) -> np.ndarray:
        sizes.append(len(batch))
        return inner(batch)

    fed.inner = counted
    one_at_a_time = rapidocr_engine.read_words(reader, bgr, 3)
    assert set(sizes) == {1} and len(sizes) > 6  # more lines than one batch holds
    reader.text_rec.session = inner  # RapidOCR's own batches of 6
    batched = rapidocr_engine.read_words(reader, bgr, 3)
    assert [w.text for w in one_at_a_time] == [w.text for w in batched]
    assert np.allclose([w.conf for w in one_at_a_time], [w.conf for w in batched], atol=0.01)


def test_page_mode_keeps_every_line_of_a_wavy_page(engine: RapidOcrEngine) -> None:
    """Lines bent into waves, on grainy paper (a crop of a page made by scripts/make_devsets.py,
    seed 1313, with augraphy): at RapidOCR's default box threshold (0.5) the detector kept single
    boxes over parts of two lines and read 6 of the 8 lines (CER 0.24); at
    ``DETECTION``'s 0.3 it reads all 8."""
    image = cv2.imread(str(DATA / "wavy-lines.png"), cv2.IMREAD_GRAYSCALE)
    expected = (DATA / "wavy-lines.gt.txt").read_text().strip()
    for psm in (3, 6):
        result = engine.recognize(image, OPTIONS.model_copy(update={"psm": psm}))
        assert len(result.text.split("\n")) == 8, (psm, result.text)
        assert cer(expected, result.text) <= 0.03, (psm, result.text)


def test_line_mode_reads_a_two_line_image_as_one_line(engine: RapidOcrEngine) -> None:
    """Line modes do not detect: the whole image goes to the recogniser, so at most one line comes out."""
    result = engine.recognize(two_lines(), OPTIONS)
    assert "\n" not in result.text


def test_mode_sets_cover_every_text_mode_once() -> None:
    assert LINE_MODES.isdisjoint(PAGE_MODES)
    assert set(range(14)) == LINE_MODES | PAGE_MODES | rapidocr_engine.NO_TEXT_MODES


@pytest.mark.parametrize("psm", [0, 2])
def test_modes_without_text_return_nothing(engine: RapidOcrEngine, psm: int) -> None:
    assert engine.recognize(text_image("HELLO"), OPTIONS.model_copy(update={"psm": psm})).text == ""


@pytest.mark.parametrize("text", ["HELLO WORLD", "Quick brown fox", "ABC xyz 42"])
def test_digits_whitelist_never_returns_a_letter(engine: RapidOcrEngine, text: str) -> None:
    image = text_image(text, scale=1.4)
    for psm in (7, 6):
        options = OPTIONS.model_copy(update={"psm": psm, "whitelist": "0123456789"})
        result = engine.recognize(image, options)
        assert set(result.text) <= set("0123456789 \n"), (psm, result.text)
    unrestricted = engine.recognize(image, OPTIONS)
    assert any(c.isalpha() for c in unrestricted.text)


def test_whitelist_keeps_the_digits_of_a_mixed_line(engine: RapidOcrEngine) -> None:
    result = engine.recognize(
        text_image("CODE 4821", scale=1.5), OPTIONS.model_copy(update={"whitelist": "0123456789"})
    )
    assert "4821" in result.text.replace(" ", "")


def test_blacklist_removes_characters(engine: RapidOcrEngine) -> None:
    image = text_image("HELLO WORLD", scale=1.5)
    plain = engine.recognize(image, OPTIONS).text
    assert "L" in plain
    result = engine.recognize(image, OPTIONS.model_copy(update={"blacklist": "Ll"}))
    assert "L" not in result.text and "l" not in result.text


def test_mask_is_cleared_after_a_restricted_call(engine: RapidOcrEngine) -> None:
    image = text_image("HELLO WORLD", scale=1.5)
    engine.recognize(image, OPTIONS.model_copy(update={"whitelist": "0123456789"}))
    assert "HELLO" in engine.recognize(image, OPTIONS).text


def test_tesseract_only_options_are_ignored(engine: RapidOcrEngine) -> None:
    image = text_image("HELLO 42", scale=1.5)
    plain = engine.recognize(image, OPTIONS)
    tuned = engine.recognize(
        image,
        OPTIONS.model_copy(update={"oem": 1, "dpi": 300, "variables": {"classify_bln_numeric_mode": "1"}}),
    )
    assert tuned.text == plain.text and tuned.words == plain.words


def test_a_language_the_model_does_not_read_is_refused_in_one_line(engine: RapidOcrEngine) -> None:
    with pytest.raises(LanguageNotInstalled) as info:
        engine.recognize(text_image("HELLO"), OPTIONS.model_copy(update={"lang": "eng+hin"}))
    message = str(info.value)
    assert "hin" in message and "\n" not in message and "Tesseract engine" in message
    assert engine.recognize(text_image("HELLO"), OPTIONS.model_copy(update={"lang": "deu"})).text


@pytest.mark.parametrize(
    "image",
    [np.zeros((10, 10), np.float32), np.zeros((0, 5), np.uint8), np.zeros((4, 4, 2), np.uint8)],
    ids=["float", "empty", "two-channel"],
)
def test_unusable_arrays_are_image_errors(engine: RapidOcrEngine, image: np.ndarray) -> None:
    with pytest.raises(ImageError):
        engine.recognize(image, OPTIONS)


def test_gray_bgr_and_bgra_inputs_read_alike(engine: RapidOcrEngine) -> None:
    gray = text_image("HELLO 42", scale=1.5)
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    bgra = np.dstack([np.zeros_like(bgr), 255 - gray])  # black ink drawn by alpha on transparent
    texts = {engine.recognize(img, OPTIONS).text for img in (gray, bgr, bgra)}
    assert len(texts) == 1


def test_auto_stays_a_tesseract_engine() -> None:
    if not set(engine_module.TESSERACT_ENGINES) & set(available_engines()):
        pytest.fail("no Tesseract engine available")
    assert get_engine("auto").name in engine_module.TESSERACT_ENGINES


def test_models_come_from_the_wheel_and_no_connection_is_attempted(monkeypatch) -> None:
    attempts: list[object] = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: refuse(None, a[0] if a else None))
    fresh = RapidOcrEngine()  # a new engine object: loads every model again
    assert "42" in fresh.recognize(text_image("HELLO 42", scale=1.5), OPTIONS).text
    assert "HELLO" in fresh.recognize(two_lines(), OPTIONS.model_copy(update={"psm": 3})).text
    assert attempts == []
    for path in rapidocr_engine.model_paths().values():
        assert path.is_file() and path.parent.parent.name == "rapidocr"


def test_missing_model_file_is_one_line_naming_it(monkeypatch, tmp_path: Path) -> None:
    for name in rapidocr_engine.MODEL_FILES.values():
        (tmp_path / name).write_bytes((rapidocr_engine.model_dir() / name).read_bytes())
    (tmp_path / rapidocr_engine.MODEL_FILES["Rec"]).unlink()
    monkeypatch.setattr(rapidocr_engine, "model_dir", lambda: tmp_path)
    with pytest.raises(EngineNotAvailable) as info:
        RapidOcrEngine()
    message = str(info.value)
    assert rapidocr_engine.MODEL_FILES["Rec"] in message and "reinstall" in message and "\n" not in message


def test_corrupt_model_file_is_one_line_and_tesseract_keeps_working(monkeypatch, tmp_path: Path) -> None:
    for name in rapidocr_engine.MODEL_FILES.values():
        (tmp_path / name).write_bytes(b"not an onnx model")
    monkeypatch.setattr(rapidocr_engine, "model_dir", lambda: tmp_path)
    with pytest.raises(EngineNotAvailable) as info:
        RapidOcrEngine()
    assert "RapidOCR could not start" in str(info.value) and "\n" not in str(info.value)
    assert "HELLO" in recognize(text_image("HELLO", scale=1.5), OcrOptions(psm=7)).text


def test_missing_package_is_reported_by_get_engine(monkeypatch) -> None:
    monkeypatch.setattr(engine_module, "rapidocr_importable", lambda: False)
    monkeypatch.setattr(engine_module, "_ENGINES", {})
    with pytest.raises(EngineNotAvailable, match="pip install rapidocr"):
        get_engine("rapidocr")
    assert "rapidocr" not in engine_module.available_engines()


def test_alternative_modes_are_ignored_by_rapidocr(engine: RapidOcrEngine) -> None:
    result = recognize(two_lines(), OcrOptions(engine="rapidocr", psm=6, alternative_psm=(7,)))
    assert result.psm is None and result.engine == "rapidocr"
    assert result.text == engine.recognize(two_lines(), OcrOptions(engine="rapidocr", psm=6)).text


def test_alternative_blur_keeps_the_better_of_the_two_real_readings(engine: RapidOcrEngine) -> None:
    image = two_lines()
    options = OcrOptions(engine="rapidocr", psm=6, alternative_blur=(0.7,))
    plain = engine.recognize(image, OcrOptions(engine="rapidocr", psm=6))
    soft = engine.recognize(cv2.GaussianBlur(image, (0, 0), 0.7), OcrOptions(engine="rapidocr", psm=6))
    longest = max(len("".join(w.text for w in r.words)) for r in (plain, soft))
    scores = [reading_score(scored(r.words), longest) for r in (plain, soft)]
    result = recognize(image, options)
    assert result.psm is None and result.blur == (0.0 if scores[0] >= scores[1] else 0.7)
    assert result.text == (plain if result.blur == 0.0 else soft).text
    assert "HELLO" in result.text and "WORLD" in result.text


def test_rapidocr_reads_its_copies_in_the_calling_thread(engine: RapidOcrEngine, monkeypatch) -> None:
    # Its calls are serialised anyway; read in pool threads, each thread's memory arena kept its
    # own share of the peak (a page's two readings: 904-969 MB against 612-647 MB here).
    threads: list[str] = []
    real = engine.recognize

    def recorded(image: np.ndarray, options: OcrOptions):
        threads.append(threading.current_thread().name)
        return real(image, options)

    monkeypatch.setattr(engine, "recognize", recorded)
    recognize(two_lines(), OcrOptions(engine="rapidocr", psm=6, alternative_blur=(0.7, 1.2)))
    assert threads == [threading.current_thread().name] * 3


def test_gray_band_preset_keeps_the_better_of_the_cleaned_and_original_readings(
    engine: RapidOcrEngine,
) -> None:
    from pipeline import read_image, run
    from pipeline.auto import read, shipped_preset

    preset = shipped_preset("gray-band-captcha")
    assert preset.ocr.also_read_original
    image = read_image(Path(__file__).resolve().parents[1] / "samples" / "gray-band-captcha.png")
    cleaned = run(image, preset).final
    single = preset.ocr.model_copy(update={"also_read_original": False})
    readings = [engine.recognize(x, single) for x in (cleaned, image)]
    longest = max(len("".join(w.text for w in r.words)) for r in readings)
    scores = [reading_score(scored(r.words), longest) for r in readings]
    result = read(image, preset).ocr
    assert result.from_original == (scores[1] > scores[0])
    assert result.text == readings[int(result.from_original)].text
    assert cer("K6PdRA", result.text) == 0.0  # samples.yaml's expected text


def test_cli_run_with_engine_rapidocr_writes_the_text(tmp_path: Path) -> None:
    image = tmp_path / "line.png"
    cv2.imwrite(str(image), text_image("HELLO 2026", scale=1.5))
    preset = tmp_path / "p.yaml"
    preset.write_text("schema_version: 1\nstages: [{stage: grayscale}]\nocr: {psm: 7}\n")
    out = tmp_path / "out"
    assert main(["run", "--preset", str(preset), "--engine", "rapidocr", "--out", str(out), str(image)]) == 0
    assert "2026" in (out / "line.txt").read_text()


@pytest.mark.corpus
def test_rapidocr_reads_captchas_as_they_are(corpus: Path, engine: RapidOcrEngine) -> None:
    folder = corpus / "captcha-sheypoor-digits"
    images = sorted(folder.glob("*.jpg"))[:10]
    errors = []
    for path in images:
        truth = path.with_suffix(".gt.txt").read_text().strip()
        text = engine.recognize(cv2.imread(str(path)), OPTIONS).text
        errors.append(cer(truth, text, ignore_spaces=True))
    assert sum(errors) / len(errors) <= 0.1


def test_english_reads_a_price_in_pounds(engine: RapidOcrEngine) -> None:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 36)  # make sysdeps-test
    canvas = Image.new("L", (420, 70), 255)
    ImageDraw.Draw(canvas).text((15, 12), "Balance £137.50", font=font, fill=0)
    text = engine.recognize(np.asarray(canvas), OPTIONS).text
    assert "£137.50" in text, text


def test_language_narrows_the_alphabet(engine: RapidOcrEngine) -> None:
    decoder = engine._decoder
    chars = decoder.character
    index = {c: i for i, c in enumerate(chars)}
    english = decoder.mask_for("", "", "eng")
    french = decoder.mask_for("", "", "fra")
    assert english is not None and french is not None
    assert decoder.mask_for("", "", "chi_sim") is None  # Chinese reads every character
    for c in ["A", "z", "0", "?", "~"]:
        assert english[index[c]] and french[index[c]]
    assert not english[index["é"]] and french[index["é"]]
    for c in "£€°©":  # symbols English text uses, with no ASCII look-alike
        assert english[index[c]] and french[index[c]], c
    cjk = [c for c in chars if "\u4e00" <= c <= "\u9fff"]
    assert len(cjk) > 1000 and not any(english[index[c]] or french[index[c]] for c in cjk)
    digits = decoder.mask_for("0123456789", "", "eng")
    assert digits is not None and sorted(chars[i] for i in np.flatnonzero(digits)[1:]) == [" ", *"0123456789"]
