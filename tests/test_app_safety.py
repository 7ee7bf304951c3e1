"""The studio as a hostile or unlucky visitor would use it (Streamlit AppTest, real OCR workers).

Share links that name files, ask for huge intermediates, carry 30-digit numbers or random
data; a session over its OCR budget; a bug deep in the page. Each gets a message in the
page, never Streamlit's error box, and the page keeps working. The link loader is also
driven with random data by Hypothesis, and so is the preset-file loader (what an upload goes through).
"""

from __future__ import annotations

import base64
import json
import re
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from pipeline.errors import PresetError
from pipeline.ocr import OcrOptions
from pipeline.preset import Preset, parse_preset
from pipeline.share import unpack
from studio import ocr as studio_ocr
from studio import state as S

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def link(data: object) -> str:
    """A share string holding ``data`` as it is (unvalidated), as a hand-made link would."""
    raw = json.dumps(data).encode()
    return "1" + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def open_link(packed: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["p"] = packed
    return at.run()


def errors(at: AppTest) -> list[str]:
    return [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]


def assert_no_error_box(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def document(stages: list, **ocr: object) -> dict:
    return {"schema_version": 1, "name": "hostile", "stages": stages, "ocr": {"lang": "eng", "psm": 6, **ocr}}


EIGHT_X = {"stage": "rescale", "params": {"mode": "factor", "factor": 8, "max_pixels": 500}}


def test_a_link_naming_a_file_is_refused_in_the_page() -> None:
    at = open_link(link(document([], variables={"user_words_file": "/dev/zero"})))
    assert_no_error_box(at)
    messages = errors(at)
    assert any("share link could not be opened" in m and "user_words_file" in m for m in messages), messages
    assert at.text_input(key="preset:name").value != "hostile"  # the default settings are shown


def test_a_link_with_two_8x_rescales_gets_a_message_and_the_page_works() -> None:
    at = open_link(link(document([{"stage": "grayscale"}, EIGHT_X, EIGHT_X])))
    assert_no_error_box(at)
    messages = errors(at)
    assert any("stage 3 (rescale)" in m and "CLARITY_MAX_STAGE_PIXELS" in m for m in messages), messages
    assert at.text_input(key="preset:name").value == "hostile"
    assert [c.value for c in at.code]  # the OCR of the original image is still shown


@pytest.mark.parametrize(
    "data",
    [
        {"schema_version": 123456789012345678901234567890},
        document([{"stage": "median_blur", "params": {"ksize_w": 10**29}}]),
        document(["grayscale"] * 20_000),
    ],
    ids=["30-digit schema version", "30-digit integer", "20,000 stages"],
)
def test_links_with_huge_numbers_or_many_stages_are_refused_in_the_page(data: dict) -> None:
    at = open_link(link(data))
    assert_no_error_box(at)
    assert any("share link" in m for m in errors(at)), errors(at)


@pytest.mark.parametrize(
    "text",
    [
        "schema_version: 123456789012345678901234567890\n",
        "schema_version: 1\nstages:\n  - stage: median_blur\n"
        "    params: {ksize_w: 123456789012345678901234567890}\n",
        "schema_version: 1\nocr:\n  variables: {user_patterns_file: /etc/passwd}\n",
        "schema_version: 1\nstages: [" + ", ".join(["invert"] * 20_000) + "]\n",
    ],
    ids=["30-digit schema version", "30-digit integer", "pattern file", "20,000 stages"],
)
def test_a_preset_upload_that_is_refused_shows_a_message(text: str) -> None:
    at = AppTest.from_file(APP, default_timeout=90).run()
    name = at.text_input(key="preset:name").value
    at.file_uploader(key="preset:upload").set_value(("bad.yaml", text.encode(), "application/x-yaml")).run()
    assert_no_error_box(at)
    assert any(m.startswith("bad.yaml: ") and "current settings are kept" in m for m in errors(at)), errors(
        at
    )
    assert at.text_input(key="preset:name").value == name


def test_heavy_stages_on_a_big_image_are_stopped_by_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stage at its maximum on a big image runs in a worker process that the time limit kills."""
    import cv2
    import numpy as np

    monkeypatch.setenv("CLARITY_MAX_STAGE_TIME_S", "2")
    heavy = {
        "stage": "morphology",
        "params": {"shape": "ellipse", "width": 301, "height": 301, "iterations": 10},
    }
    at = open_link(link(document([{"stage": "grayscale"}, heavy])))
    page = np.full((2600, 3400), 230, np.uint8)  # 8.8 MP: a big image
    cv2.putText(page, "BIG PAGE", (100, 900), cv2.FONT_HERSHEY_SIMPLEX, 8, 20, 12)
    killed = studio_ocr.worker_pool().killed
    start = time.monotonic()
    png = cv2.imencode(".png", page)[1].tobytes()
    at.file_uploader(key="input:upload").set_value(("big.png", png, "image/png")).run()
    assert time.monotonic() - start < 60
    assert_no_error_box(at)
    messages = errors(at)
    assert any("CLARITY_MAX_STAGE_TIME_S" in m and "were stopped" in m for m in messages), messages
    assert studio_ocr.worker_pool().killed > killed
    # Lighter settings on the same big image: processed (in a worker) and read.
    uid = next(e["uid"] for e in at.session_state["stages"] if e["stage"] == "morphology")
    for field, value in (("iterations", 1), ("width", 3), ("height", 3)):
        at.session_state[f"stage:{uid}:{field}"] = value
    at.run()
    assert_no_error_box(at)
    assert not [m for m in errors(at) if "CLARITY_MAX_STAGE_TIME_S" in m]


def test_a_session_over_its_ocr_budget_is_stopped_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_SESSION_OCR_BUDGET_S", "0.001")
    # Options no other test reads with, so nothing comes from the process-wide reading cache.
    # Two readings (the original and a different cleaned image): the first uses up the budget.
    at = open_link(link(document([{"stage": "threshold"}], whitelist="budget0123456789")))
    assert_no_error_box(at)
    messages = errors(at)
    assert any("used its OCR budget" in m and "CLARITY_SESSION_OCR_BUDGET_S" in m for m in messages), messages


def test_each_session_has_its_own_id_for_the_budget() -> None:
    # Whitelists no other test reads with: each session reads (its id is made on its first reading).
    first, second = (open_link(link(document([{"stage": "grayscale"}], whitelist=w))) for w in ("id1", "id2"))
    ids = [at.session_state["session_id"] for at in (first, second)]
    assert all(len(i) == 32 for i in ids) and ids[0] != ids[1]
    first.run()
    assert first.session_state["session_id"] == ids[0]  # kept across reruns


def test_the_budget_counts_per_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLARITY_SESSION_OCR_BUDGET_S", "10")
    budget = studio_ocr.SessionBudget()
    budget.charge("a", 9.5)
    assert budget.left("a") == pytest.approx(0.5) and budget.left("b") == 10
    budget.charge("a", 1)
    assert budget.left("a") < 0
    assert budget.left("a", now=10**9) == 10  # old use leaves the window


def test_studio_ocr_runs_in_a_worker_process() -> None:
    import numpy as np

    image = np.full((60, 300), 255, np.uint8)
    reading = studio_ocr._read(image, OcrOptions(psm=7), "worker-test")
    assert reading.error is None and reading.result is not None
    assert studio_ocr.worker_pool().pids() and all(
        p != __import__("os").getpid() for p in studio_ocr.worker_pool().pids()
    )


def test_an_unexpected_error_is_shown_in_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio import grid_view

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug deep in the page")

    monkeypatch.setattr(grid_view, "run_and_show", broken)
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert_no_error_box(at)
    assert any("Something went wrong" in m and "a bug deep in the page" in m for m in errors(at)), errors(at)
    assert at.button(key="page:start_over")


# ----------------------------------------------------------------------- random data, property

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**28, max_value=10**31)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["grayscale", "rescale", "threshold", "user_words_file", "/dev/zero", "input"]),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                ["schema_version", "stages", "ocr", "stage", "params", "variables", "factor", "x"]
            )
            | st.text(max_size=6),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
link_data = st.fixed_dictionaries(
    {"schema_version": st.sampled_from([1, 1, 2, 10**29, "1"])},
    optional={
        "stages": st.lists(json_values, max_size=6) | json_values,
        "ocr": json_values,
        "name": json_values,
    },
)


def load_like_the_page(packed: str, loader: Callable[[str], Preset] = unpack) -> Preset | None:
    """What the page does with ``?p=`` (``unpack``) or an uploaded file (``parse_preset``): load,
    then put into the session state and build it back."""
    try:
        preset = loader(packed)
    except PresetError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    state: dict = {}
    S.load_preset(state, preset)
    built, problem = S.build_preset(state)
    assert problem is None and built is not None
    if not preset.name:  # the page names a nameless preset 'untitled'
        assert built.name == "untitled"
        built = built.model_copy(update={"name": preset.name})
    assert built == preset
    return preset


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(link_data)
@example({"schema_version": 1, "ocr": {"variables": {"user_words_file": "/dev/zero"}}})
@example({"schema_version": 1, "stages": [{"stage": "median_blur", "params": {"ksize_w": 10**29}}]})
def test_random_links_through_the_page_loaders(data: dict) -> None:
    load_like_the_page(link(data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(link_data)
@example({"schema_version": 123456789012345678901234567890})
def test_random_preset_files_through_the_page_loaders(data: dict) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    load_like_the_page(text, lambda t: parse_preset(t, "upload.yaml"))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(link_data | st.text(max_size=60).map(lambda t: {"raw": t}))
def test_random_links_in_the_page(data: dict) -> None:
    """The page itself (AppTest) with random links: a message at most, never the error box."""
    packed = "1" + data["raw"] if set(data) == {"raw"} else link(data)
    at = open_link(packed)
    assert_no_error_box(at)
    if load_like_the_page(packed) is None:
        assert any("share link could not be opened" in m for m in errors(at))
