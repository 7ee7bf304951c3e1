"""In headless Chromium at laptop size: the reading on the first screen, links that carry the
image, PDF uploads, the dark theme, the phone width."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e_support import (
    RUN_TRACKER_JS,
    image_caption,
    ocr_texts,
    page_errors,
    studio_server,
    upload_and_wait,
    wait_for_app,
    wait_idle,
)

from .test_batch_command import two_page_scan

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_MS = 90_000
LAPTOP = {"width": 1280, "height": 720}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    store = tmp_path_factory.mktemp("store")
    with studio_server(tmp_path_factory.mktemp("studio"), env={"CLARITY_IMAGE_STORE": str(store)}) as srv:
        srv.store = store  # type: ignore[attr-defined]
        yield srv


def open_page(browser, url: str, *, viewport: dict | None = None, scheme: str = "light"):
    context = browser.new_context(viewport=viewport or LAPTOP, color_scheme=scheme)
    context.add_init_script(RUN_TRACKER_JS)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    wait_for_app(page, TIMEOUT_MS)
    page.wait_for_selector('.st-key-ocr [data-testid="stCode"]')
    wait_idle(page, TIMEOUT_MS)
    return context, page


def cleaned_reading_box(page) -> dict:
    """Where the cleaned image's reading is drawn (the second reading of the result)."""
    return page.locator('.st-key-ocr [data-testid="stCode"]').nth(1).bounding_box()


def test_an_upload_is_read_on_the_first_screen_and_its_link_reopens_it(browser, server, corpus) -> None:
    context, page = open_page(browser, server.url)
    data = (corpus / "captcha-sheypoor-digits" / "captcha1.jpg").read_bytes()
    upload_and_wait(page, "captcha1.jpg", data, TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)
    assert any("1482" in t for t in ocr_texts(page)), ocr_texts(page)
    box = cleaned_reading_box(page)
    assert box is not None and box["y"] + box["height"] <= LAPTOP["height"], box  # no scrolling
    assert not page_errors(page)
    link = page.url
    assert "img=" in link and "p=" in link
    assert len(list(Path(server.store).glob("*.bin"))) == 1
    context.close()
    # the address in a fresh browser: same image, same reading
    context, page = open_page(browser, link)
    assert image_caption(page).startswith("Image: captcha1.jpg (uploaded)")
    assert any("1482" in t for t in ocr_texts(page)), ocr_texts(page)
    assert not page_errors(page)
    context.close()


def test_a_link_to_an_image_no_longer_kept_says_so(browser, server) -> None:
    context, page = open_page(browser, f"{server.url}?img={'0' * 32}")
    warning = page.get_by_text("no longer on this server", exact=False)
    assert warning.count() == 1
    assert not page_errors(page)
    context.close()


def test_a_sample_link_opens_that_sample_with_its_preset(browser, server) -> None:
    context, page = open_page(browser, f"{server.url}?sample=captcha.png")
    assert image_caption(page).startswith("Image: captcha.png (sample)")
    assert any("h7KdA" in t for t in ocr_texts(page)), ocr_texts(page)  # read with the captcha preset
    context.close()


def test_a_two_page_pdf_is_read(browser, server, corpus, tmp_path: Path) -> None:
    scan = two_page_scan(corpus, tmp_path / "scan.pdf")
    context, page = open_page(browser, server.url)
    upload_and_wait(page, "scan.pdf", scan.read_bytes(), TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)
    assert any("quick brown" in t for t in ocr_texts(page)), ocr_texts(page)
    assert page.get_by_text("Page (1–2)", exact=False).count() == 1
    assert not page_errors(page)
    context.close()


def test_the_page_follows_a_dark_browser(browser, server) -> None:
    context, page = open_page(browser, server.url, scheme="dark")
    colour = page.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
    )
    rgb = [int(v) for v in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3]]
    assert sum(rgb) / 3 < 80, colour
    context.close()


def test_at_phone_width_the_reading_comes_before_the_stages(browser, server) -> None:
    context, page = open_page(browser, server.url, viewport={"width": 390, "height": 844})
    reading = page.locator('.st-key-ocr [data-testid="stCode"]').first.bounding_box()
    grid = page.locator(".st-key-grid").bounding_box()
    assert reading is not None and grid is not None and reading["y"] < grid["y"]
    assert not page_errors(page)
    context.close()
