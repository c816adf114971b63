"""Driving the content studio page in a browser (tests/studio/test_studio_browser.py, tests/e2e/)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any, Dict, List

from selenium.webdriver.common.by import By

from tests.browser import wait
from tests.staff_pages import make_account, sign_in

REPORT_SCREENSHOT = Path("/tmp/studio-report.png")
STUDIO_SCREENSHOT = Path("/tmp/studio-train.png")
TRAIN_TIMEOUT = 25 * 60.0


def by_id(browser, element_id: str):
    return browser.find_element(By.ID, element_id)


def text_of(browser, element_id: str) -> str:
    return by_id(browser, element_id).text


def javascript_errors(browser) -> List[Dict[str, Any]]:
    """Uncaught exceptions and console errors of the page (refused requests are `network` entries)."""
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and e["source"] != "network"]


def open_studio(browser, url: str, redis_url: str) -> None:
    """The studio signed in as a content editor ("Biên tập", made in `redis_url` when missing)."""
    email = make_account(redis_url, "Biên tập", "bientap@senmart.test", "content")
    sign_in(browser, url, email, page="/studio")
    wait(browser).until(lambda b: by_id(b, "app").is_displayed())


def tab(browser, name: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f'.tab[data-tab="{name}"]').click()
    wait(browser).until(lambda b: by_id(b, f"panel-{name}").is_displayed())


def confirm_dialog(browser) -> None:
    wait(browser).until(lambda b: by_id(b, "dialog").is_displayed())
    by_id(browser, "dialog-ok").click()
    wait(browser).until(lambda b: not by_id(b, "dialog").is_displayed())


def open_topic(browser, name: str) -> None:
    loads = by_id(browser, "topic-form").get_attribute("data-loads")

    def click_row(b):
        rows = b.find_elements(By.CSS_SELECTOR, f'.topic-row[data-name="{name}"]')
        if rows:
            rows[0].click()  # the list may be redrawn meanwhile: a stale row is clicked again
        return bool(rows)

    wait(browser).until(click_row)
    wait(browser).until(lambda b: by_id(b, "topic-form").get_attribute("data-loads") != loads)
    assert text_of(browser, "topic-title") == name


def set_field(element, value: str) -> None:
    element.clear()
    element.send_keys(value)


# -- seeding the inbox and the handoff figures as Rasa's broker and the action server would --------


def png_pixels(path: Path):
    """(width, height, distinct byte values of the decompressed scanlines) of an 8-bit PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, width, height = 8, b"", 0, 0
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    raw = zlib.decompress(idat)
    return width, height, len(set(raw))
