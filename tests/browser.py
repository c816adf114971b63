"""Headless Debian Chromium for the browser tests (console, chat page), driven by Selenium."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from typing import Iterator, Sequence

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def wait(browser, timeout: float = 10.0, poll: float = 0.1) -> WebDriverWait:
    """Polls until a condition holds; an element the page re-rendered between the lookup and the read
    (StaleElementReferenceException) is looked up again at the next poll instead of failing the test."""
    return WebDriverWait(
        browser, timeout, poll_frequency=poll, ignored_exceptions=[StaleElementReferenceException]
    )


@contextmanager
def headless_chromium(log_types: Sequence[str] = ("browser",)) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium (own profile, no background networking), quit afterwards."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("chromium / chromedriver not installed: run `make browser-deps` (make test does it)")
    profile = tempfile.mkdtemp(prefix="senmart-chrome-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1366,768",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {kind: "ALL" for kind in log_types})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)
