"""Staff accounts for the browser tests: made straight in Redis (with a chosen password, already changed
from the one-time one), and signed in through the sign-in page."""

from __future__ import annotations

import asyncio
from typing import Optional
from urllib.parse import quote

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from common.redis_client import async_client
from staff.accounts import AccountStore

PASSWORD = "mật khẩu thử nghiệm 2026"


def make_account(redis_url: str, name: str, email: str, role: str, capacity: Optional[int] = None) -> str:
    """An account whose password is PASSWORD (made unless the e-mail has one); returns its e-mail."""

    async def create() -> None:
        redis = async_client(redis_url, decode_responses=True)
        try:
            accounts = AccountStore(redis)
            account = await accounts.by_email(email)
            if account is None:
                account, _ = await accounts.create(name, email, role, capacity)
            await accounts.set_password(account.id, PASSWORD)
        finally:
            await redis.close()

    asyncio.run(create())
    return email


def fill_sign_in(browser, email: str, password: str) -> None:
    """Type the e-mail and password on the sign-in page and submit."""
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "email").is_displayed())
    for field, value in (("email", email), ("password", password)):
        element = browser.find_element(By.ID, field)
        element.clear()
        element.send_keys(value)
    browser.find_element(By.ID, "signin").click()


def sign_in(browser, url: str, email: str, password: str = PASSWORD, page: str = "") -> None:
    """Sign in (a fresh cookie jar) and wait for the page asked for (or the role's home)."""
    browser.get(url + "/health")
    browser.delete_all_cookies()
    browser.get(url + "/signin" + (f"?next={quote(page, safe='/')}" if page else ""))
    fill_sign_in(browser, email, password)
    WebDriverWait(browser, 10).until(lambda b: "/signin" not in b.current_url)
