"""The agent console (/console) in headless Chromium against the real handoff service.

Uses the `api` fixture of tests/handoff/conftest.py: `python -m staff` on a free port, an emptied
Redis and a recording stand-in for Rasa's HTTP API.
"""

import time

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.browser import headless_chromium
from tests.browser import wait as browser_wait
from tests.handoff.conftest import ADMIN_TOKEN
from tests.staff_pages import fill_sign_in, make_account, sign_in

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="window.__xss=1">'
SCREENSHOT = "/tmp/console.png"


@pytest.fixture(scope="module")
def driver():
    with headless_chromium() as browser:
        yield browser


def wait(browser, timeout=5.0):
    return browser_wait(browser, timeout, poll=0.05)


def text_of(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def open_console(browser, api):
    """The console signed in as an admin account named "admin" (a fresh cookie jar), empty browser log."""
    email = make_account(api.service.env["REDIS_URL"], "admin", "admin@senmart.test", "admin")
    sign_in(browser, api.url, email, page="/console")
    wait(browser).until(lambda b: b.find_element(By.ID, "app").is_displayed())
    browser.get_log("browser")


def javascript_errors(browser):
    """Uncaught exceptions and console errors of the page itself (failed requests are logged as
    `network` entries: the tests provoke 401 and 502 on purpose)."""
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and e["source"] != "network"]


def row(browser, ticket_id):
    found = browser.find_elements(By.CSS_SELECTOR, f'.ticket-row[data-id="{ticket_id}"]')
    return found[0] if found else None


def create_ticket(api, sender_id, transcript, reason="money_complaint", **customer):
    response = api.handoff(
        sender_id,
        channel="socketio",
        reason=reason,
        customer={"member_tier": "Vàng", "phone": "09******78", **customer},
        transcript=transcript,
        anger=0.1,
    )
    assert response.status_code == 201, response.text
    return response.json()["ticket_id"]


def test_wrong_password_shows_the_vietnamese_error(driver, api):
    email = make_account(api.service.env["REDIS_URL"], "Lan", "lan@senmart.test", "agent")
    driver.delete_all_cookies()
    driver.get(api.url + "/console")
    wait(driver).until(lambda b: "/signin?next=/console" in b.current_url)
    fill_sign_in(driver, email, "không phải mật khẩu")
    wait(driver).until(lambda b: text_of(b, "signin-error") == "E-mail hoặc mật khẩu không đúng.")
    assert driver.get_cookie("senmart_staff") is None
    assert javascript_errors(driver) == []


def test_agent_handles_a_ticket_live(driver, api):
    open_console(driver, api)
    wait(driver).until(lambda b: b.find_element(By.ID, "app").is_displayed())
    wait(driver).until(lambda b: b.find_element(By.ID, "queue-empty").is_displayed())
    assert driver.find_elements(By.CSS_SELECTOR, ".ticket-row") == []
    assert text_of(driver, "me") == "admin · Quản trị viên"
    # the event stream is connected (the row below must come through it, not a page load)
    wait(driver).until(lambda b: "on" in b.find_element(By.ID, "live").get_attribute("class").split())
    driver.execute_script("window.__sameDocument = true")

    now = time.time()
    ticket_id = create_ticket(
        api,
        "browser-1",
        [
            {
                "role": "customer",
                "text": f"Tôi bị trừ tiền 2 lần {SCRIPT} {IMG}",
                "timestamp": now - 30,
                "intent": "complain_money",
                "confidence": 0.91,
            },
            {"role": "bot", "text": "Dạ, mình chuyển bạn sang nhân viên CSKH nhé.", "timestamp": now - 29},
        ],
        order_id="SM12345678",
    )
    wait(driver, timeout=2.0).until(lambda b: row(b, ticket_id))
    assert driver.execute_script("return window.__sameDocument === true"), "the page was reloaded"
    queued = row(driver, ticket_id)
    assert "Khiếu nại tiền" in queued.text
    assert "Đã tiếp nhận" in queued.text
    assert "Vàng" in queued.text
    assert "Ưu tiên" in queued.text
    assert "Phản hồi" in queued.text  # SLA countdown

    queued.click()
    wait(driver).until(lambda b: SCRIPT in text_of(b, "transcript"))
    transcript = driver.find_element(By.ID, "transcript")
    assert IMG in transcript.text
    assert transcript.find_elements(By.TAG_NAME, "script") == []
    assert transcript.find_elements(By.TAG_NAME, "img") == []
    assert driver.execute_script("return window.__xss === undefined")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.accept()
    customer = driver.find_element(By.CSS_SELECTOR, "#transcript .msg.customer")
    assert customer.text.startswith("Khách")
    assert "complain_money" in customer.text and "91%" in customer.text
    bot = driver.find_element(By.CSS_SELECTOR, "#transcript .msg.bot")
    assert bot.location["y"] > customer.location["y"], "transcript out of order"
    assert text_of(driver, "t-id") == ticket_id
    assert "Khiếu nại tiền" in text_of(driver, "t-reason")
    assert "SM12345678" in text_of(driver, "t-customer")
    assert "SĐT (khách tự nhập, chưa xác minh)09******78" in text_of(driver, "t-customer")

    driver.find_element(By.ID, "claim").click()
    wait(driver).until(lambda b: text_of(b, "t-status") == "Đang xử lý")
    wait(driver).until(lambda b: "Đang xử lý" in row(b, ticket_id).text)
    assert not driver.find_element(By.ID, "claim").is_enabled()

    # a canned reply goes into the reply box
    canned = Select(driver.find_element(By.ID, "canned"))
    wait(driver).until(lambda b: len(canned.options) > 1)
    canned.select_by_index(1)
    reply_box = driver.find_element(By.ID, "reply-text")
    assert reply_box.get_attribute("value").strip() == canned.options[1].get_attribute("value").strip()
    reply_box.clear()

    # Shift+Enter is a new line, Enter sends
    reply_box.send_keys("Mình đã kiểm tra đơn SM12345678.")
    reply_box.send_keys(Keys.SHIFT, Keys.ENTER)
    reply_box.send_keys("Tiền sẽ được hoàn trong 24 giờ." + Keys.ENTER)
    wait(driver).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#transcript .msg.agent"))
    agent = driver.find_element(By.CSS_SELECTOR, "#transcript .msg.agent")
    assert agent.text.startswith("admin")
    assert "Mình đã kiểm tra đơn SM12345678.\nTiền sẽ được hoàn trong 24 giờ." in agent.text
    assert reply_box.get_attribute("value") == ""
    relayed = [r["body"] for r in api.rasa.requests if r["path"].endswith("/tracker/events")]
    assert any(isinstance(b, dict) and "hoàn trong 24 giờ" in b.get("text", "") for b in relayed)

    # a relay failure is reported in Vietnamese and the reply stays in the box
    api.rasa.always_fail = 500
    reply_box.send_keys("Bạn chờ mình chút nhé." + Keys.ENTER)
    wait(driver).until(lambda b: b.find_element(By.ID, "error").is_displayed())
    assert "Không gửi được tới khách" in text_of(driver, "error")
    assert reply_box.get_attribute("value") == "Bạn chờ mình chút nhé."
    assert len(driver.find_elements(By.CSS_SELECTOR, "#transcript .msg.agent")) == 1
    api.rasa.always_fail = None
    driver.find_element(By.ID, "error-close").click()
    reply_box.clear()

    wait(driver, timeout=7.0).until(lambda b: "Khiếu nại tiền" in text_of(b, "dashboard"))
    assert "1 đang xử lý" in text_of(driver, "dash-queue")
    driver.save_screenshot(SCREENSHOT)

    driver.find_element(By.ID, "resolve").click()
    wait(driver).until(lambda b: text_of(b, "t-status") == "Đã giải quyết")
    wait(driver).until(lambda b: row(b, ticket_id) is None)  # gone from the open queue
    assert not driver.find_element(By.ID, "reply-text").is_enabled()
    assert not driver.find_element(By.ID, "resolve").is_enabled()
    driver.find_element(By.CSS_SELECTOR, '.filter[data-status="resolved"]').click()
    wait(driver).until(lambda b: row(b, ticket_id) and "Đã giải quyết" in row(b, ticket_id).text)
    assert javascript_errors(driver) == []


def test_ticket_claimed_by_another_agent_is_read_only(driver, api):
    ticket_id = create_ticket(
        api, "browser-2", [{"role": "customer", "text": "Cho tôi gặp người thật", "timestamp": time.time()}]
    )
    assert api.agent("POST", f"/api/tickets/{ticket_id}/claim").status_code == 200  # Lan
    open_console(driver, api)
    wait(driver).until(lambda b: row(b, ticket_id))
    row(driver, ticket_id).click()
    wait(driver).until(lambda b: "Lan" in text_of(b, "claim-note"))
    for element_id in ("claim", "send", "reply-text", "resolve", "return-to-bot"):
        assert not driver.find_element(By.ID, element_id).is_enabled(), element_id
    assert "Lan" in text_of(driver, "t-claimed")

    # the search box filters the queue on the server (`q=`), here on transcript text
    other_id = create_ticket(
        api, "browser-4", [{"role": "customer", "text": "Đơn của tôi giao chậm", "timestamp": time.time()}]
    )
    wait(driver).until(lambda b: row(b, other_id))
    driver.find_element(By.ID, "search").send_keys("giao chậm")
    wait(driver).until(lambda b: row(b, ticket_id) is None)
    assert row(driver, other_id) is not None
    driver.find_element(By.ID, "search").send_keys(Keys.CONTROL, "a", Keys.BACKSPACE)
    wait(driver).until(lambda b: row(b, ticket_id) and row(b, other_id))

    driver.find_element(By.ID, "logout").click()
    wait(driver).until(lambda b: b.current_url.endswith("/signin"))
    assert driver.get_cookie("senmart_staff") is None
    assert javascript_errors(driver) == []


def test_queue_updates_by_polling_without_event_stream(driver, api):
    script = driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.EventSource;"}
    )
    try:
        open_console(driver, api)
        wait(driver).until(lambda b: b.find_element(By.ID, "queue-empty").is_displayed())
        assert driver.execute_script("return typeof window.EventSource") == "undefined"
        ticket_id = create_ticket(
            api, "browser-3", [{"role": "customer", "text": "alo", "timestamp": time.time()}], reason="other"
        )
        wait(driver, timeout=2.0).until(lambda b: row(b, ticket_id))
        assert javascript_errors(driver) == []
    finally:
        driver.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]}
        )


def reassign_by_token(api, ticket_id, agent_id):
    """A reassign by the admin API token (no page): to set the scene."""
    response = api.call(
        "POST", f"/api/tickets/{ticket_id}/reassign", ADMIN_TOKEN, json={"agent_id": agent_id}
    )
    assert response.status_code == 200, response.text


def test_supervisor_reassigns_a_claimed_ticket(driver, api):
    redis_url = api.service.env["REDIS_URL"]
    supervisor = make_account(redis_url, "Trưởng ca Hà", "ha@senmart.test", "supervisor")
    make_account(redis_url, "An", "an@senmart.test", "agent", capacity=2)
    binh = make_account(redis_url, "Bình", "binh@senmart.test", "agent", capacity=2)
    make_account(redis_url, "Cường", "cuong@senmart.test", "agent", capacity=1)
    ids = {row["name"]: row["id"] for row in api.call("GET", "/api/agents", ADMIN_TOKEN).json()["agents"]}
    ticket_id = create_ticket(
        api, "browser-5", [{"role": "customer", "text": "Cho mình gặp nhân viên", "timestamp": time.time()}]
    )
    other_id = create_ticket(
        api, "browser-6", [{"role": "customer", "text": "Đơn giao thiếu hàng", "timestamp": time.time()}]
    )
    reassign_by_token(api, ticket_id, ids["An"])  # An holds it

    sign_in(driver, api.url, supervisor, page="/console")
    wait(driver).until(lambda b: row(b, ticket_id))
    row(driver, ticket_id).click()
    wait(driver).until(lambda b: b.find_element(By.ID, "reassign-box").is_displayed())
    select = Select(driver.find_element(By.ID, "reassign-agent"))
    wait(driver).until(lambda b: len(select.options) == 5)  # the placeholder, An, Bình, Cường, Hà
    labels = {o.get_attribute("value"): (o.text, o.is_enabled()) for o in select.options[1:]}
    assert labels[ids["An"]] == ("An · Ngoại tuyến · 1/2 phiếu · đang xử lý phiếu này", False)
    assert labels[ids["Bình"]] == ("Bình · Ngoại tuyến · 0/2 phiếu", True)
    assert labels[ids["Trưởng ca Hà"]][0].startswith("Trưởng ca Hà · ")
    select.select_by_value(ids["Bình"])
    driver.find_element(By.ID, "reassign").click()
    wait(driver).until(lambda b: text_of(b, "reassign-note") == "Đã chuyển phiếu từ An sang Bình.")
    wait(driver).until(lambda b: text_of(b, "t-claimed").startswith("Bình"))
    wait(driver).until(lambda b: "Xử lý: Bình" in row(b, ticket_id).text)
    wait(driver).until(
        lambda b: "Trưởng ca Hà đã chuyển phiếu cho nhân viên Bình." in text_of(b, "transcript")
    )
    driver.save_screenshot("/tmp/console-reassign.png")

    # Cường has room when the page read the team; before the click he is given another ticket: refused
    third_id = create_ticket(
        api, "browser-7", [{"role": "customer", "text": "Hoàn tiền giúp mình", "timestamp": time.time()}]
    )
    row(driver, other_id).click()
    wait(driver).until(lambda b: text_of(b, "t-id") == other_id)
    cuong = f'#reassign-agent option[value="{ids["Cường"]}"]'
    wait(driver).until(
        lambda b: b.find_element(By.CSS_SELECTOR, cuong).text == "Cường · Ngoại tuyến · 0/1 phiếu"
    )
    select.select_by_value(ids["Cường"])
    reassign_by_token(api, third_id, ids["Cường"])
    driver.find_element(By.ID, "reassign").click()
    wait(driver).until(lambda b: b.find_element(By.ID, "error").is_displayed())
    assert text_of(driver, "error-text") == (
        "Nhân viên Cường đang xử lý 1 phiếu, đã đạt giới hạn 1 phiếu. "
        "Vui lòng hoàn tất hoặc chuyển bớt phiếu trước khi nhận thêm."
    )
    assert text_of(driver, "reassign-note") == ""
    # the team is read again: Cường is shown full and cannot be chosen; the ticket still waits
    wait(driver).until(
        lambda b: b.find_element(By.CSS_SELECTOR, cuong).text.endswith("1/1 phiếu · đã đủ phiếu")
    )
    assert not driver.find_element(By.CSS_SELECTOR, cuong).is_enabled()
    assert text_of(driver, "t-status") == "Đã tiếp nhận"
    driver.save_screenshot("/tmp/console-reassign-full.png")
    assert javascript_errors(driver) == []

    # Bình sees the ticket as his, without the control
    sign_in(driver, api.url, binh, page="/console")
    wait(driver).until(lambda b: row(b, ticket_id))
    row(driver, ticket_id).click()
    wait(driver).until(lambda b: text_of(b, "t-claimed").startswith("Bình"))
    wait(driver).until(lambda b: b.find_element(By.ID, "send").is_enabled())
    assert driver.find_element(By.ID, "reply-text").is_enabled()
    assert not driver.find_element(By.ID, "reassign-box").is_displayed()
    assert javascript_errors(driver) == []

    entries = api.call("GET", "/admin/api/audit?action=ticket.reassign", ADMIN_TOKEN).json()["entries"]
    by_page = [
        e for e in entries if e["target"] == f"ticket:{ticket_id}" and e["actor_name"] == "Trưởng ca Hà"
    ]
    assert len(by_page) == 1
    assert (by_page[0]["actor_role"], by_page[0]["details"]) == ("supervisor", {"from": "An", "to": "Bình"})
