"""The customer chat page (handoff service `/`) in headless Chromium against the real system: Rasa's
socket.io channel, the action server, the handoff service and an agent on the HTTP API."""

import json
import re

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from testkit.polling import wait_for
from tests.browser import wait as browser_wait

SESSION_KEY = "senmart.chat.session_id"
XSS = "<img src=x onerror=window.__xss=1>"
LAN = {"Authorization": "Bearer token-lan"}
THANKS_4 = (
    "Cảm ơn bạn đã đánh giá 4 sao. SenMart luôn sẵn sàng hỗ trợ bạn, bạn cần gì thêm cứ nhắn cho mình nhé."
)
AGENT_TEXT = (
    "Chào bạn, mình là <b>Lan</b>.\n"
    "Bạn xem chính sách tại https://senmart.vn/doi-tra. Đừng mở javascript:alert(1) nhé."
)


def page_url(system):
    return f"http://localhost:{system.settings.handoff_port}/"


def wait(browser, timeout=30.0):
    return browser_wait(browser, timeout)


def open_chat(browser, system, fresh=True):
    """The chat page, connected; `fresh`: a new session (localStorage emptied first)."""
    if fresh:
        browser.get(page_url(system) + "chat/config.json")  # same origin, no chat script running
        browser.execute_script("localStorage.clear()")
    browser.get(page_url(system))
    wait(browser).until(lambda b: not b.find_element(By.ID, "connection").is_displayed())
    wait(browser).until(session_id)  # the server issued (or confirmed) the session id
    browser.get_log("browser")


def session_id(browser):
    return browser.execute_script(f"return localStorage.getItem('{SESSION_KEY}')")


def say(browser, text):
    field = browser.find_element(By.ID, "input")
    field.send_keys(text)
    field.send_keys(Keys.ENTER)


def bubbles(browser, role):
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, f"#messages .msg.{role} .bubble")]


def wait_for_bubble(browser, role, predicate, timeout=30.0):
    """The text of the first `role` bubble matching predicate (waits for it)."""
    return wait(browser, timeout).until(lambda b: next((t for t in bubbles(b, role) if predicate(t)), None))


def text_of(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def javascript_errors(browser):
    """Uncaught exceptions, CSP violations and console errors of the page (not failed requests)."""
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and e["source"] != "network"]


def network_events(browser):
    """Chromium's DevTools network events since the last call: (method, params)."""
    events = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"].startswith("Network."):
            events.append((message["method"], message["params"]))
    return events


def star_states(stars):
    """(lit, chosen) per star."""
    classes = [s.get_attribute("class").split() for s in stars]
    return [("on" in c, "chosen" in c) for c in classes]


def open_ticket_of(system, sender_id):
    tickets = requests.get(
        f"{system.handoff_url}/api/tickets",
        params={"status": "open"},
        headers={"Authorization": f"Bearer {system.admin_token}"},
        timeout=10,
    ).json()["tickets"]
    return next((t for t in tickets if t["sender_id"] == sender_id), None)


def agent_api(system, method, path, **kwargs):
    response = requests.request(method, system.handoff_url + path, headers=LAN, timeout=15, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_faq_answer_over_a_websocket(driver, system):
    network_events(driver)  # forget earlier traffic
    open_chat(driver, system)
    sid = session_id(driver)
    assert re.fullmatch(r"[0-9a-f]{32}\.[0-9a-f]{32}", sid)  # issued and signed by the server
    assert driver.title == "SenMart – Hỗ trợ khách hàng"
    assert driver.find_element(By.ID, "input").get_attribute("placeholder") == "Nhập câu hỏi của bạn…"
    assert driver.find_element(By.ID, "send").text == "Gửi"

    say(driver, "phí ship bao nhiêu?")
    assert bubbles(driver, "customer") == ["phí ship bao nhiêu?"]
    answer = wait_for_bubble(driver, "bot", lambda t: "25.000đ" in t)
    assert "300.000đ" in answer
    assert not driver.find_element(By.ID, "typing").is_displayed()
    assert driver.find_element(By.ID, "input").get_attribute("value") == ""

    # socket.io over one WebSocket (101), no long-polling: the session stays on one Rasa worker
    rasa = f"localhost:{system.settings.rasa_port}/socket.io/"
    events = network_events(driver)
    polls = [p for m, p in events if m == "Network.responseReceived" and rasa in p["response"]["url"]]
    assert polls == []
    upgrades = [p for m, p in events if m == "Network.webSocketHandshakeResponseReceived"]
    assert [u["response"]["status"] for u in upgrades] == [101]
    assert javascript_errors(driver) == []


def test_handoff_agent_reply_reload_and_csat(driver, system):
    open_chat(driver, system)
    sid = session_id(driver)
    ticket = None
    try:
        say(driver, "phí ship bao nhiêu?")
        faq_answer = wait_for_bubble(driver, "bot", lambda t: "25.000đ" in t)

        say(driver, "cho mình gặp nhân viên")
        wait(driver).until(lambda b: b.find_element(By.ID, "handoff").is_displayed())
        assert text_of(driver, "handoff-title") == "Đang kết nối nhân viên…"
        ticket_id = re.fullmatch(r"Mã phiếu: (KN-\d{8}-\d{4})", text_of(driver, "handoff-ticket")).group(1)
        assert re.fullmatch(r"Vị trí trong hàng chờ: \d+", text_of(driver, "handoff-position"))
        assert re.fullmatch(
            r"Thời gian chờ dự kiến: khoảng (\d+ phút|\d+ giờ( \d+ phút)?)", text_of(driver, "handoff-wait")
        )
        assert not driver.find_element(By.ID, "typing").is_displayed()  # nobody types while we wait
        wait_for_bubble(driver, "bot", lambda t: ticket_id in t)  # the bot's own handoff message

        ticket = wait_for(lambda: open_ticket_of(system, sid), timeout=15)
        assert ticket["id"] == ticket_id and ticket["channel"] == "socketio"
        agent_api(system, "POST", f"/api/tickets/{ticket_id}/messages", json={"text": AGENT_TEXT})
        wait(driver).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#messages .msg.agent"))
        agent = driver.find_element(By.CSS_SELECTOR, "#messages .msg.agent")
        assert agent.find_element(By.CSS_SELECTOR, ".author-name").text == "lan"
        assert agent.find_element(By.CSS_SELECTOR, ".bubble").text == AGENT_TEXT
        [link] = agent.find_elements(By.CSS_SELECTOR, ".bubble a")
        assert (link.get_attribute("href"), link.text) == (
            "https://senmart.vn/doi-tra",
            "https://senmart.vn/doi-tra",
        )
        assert (link.get_attribute("rel"), link.get_attribute("target")) == ("noopener noreferrer", "_blank")
        assert agent.find_elements(By.CSS_SELECTOR, "b") == []
        assert text_of(driver, "handoff-title") == "Nhân viên lan đang hỗ trợ bạn"
        assert text_of(driver, "handoff-ticket") == f"Mã phiếu: {ticket_id}"
        assert not driver.find_element(By.ID, "handoff-position").is_displayed()
        driver.save_screenshot("/tmp/chat-handoff.png")

        # reload in the middle of the handoff: same session, history and banner back
        driver.refresh()
        wait(driver).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#messages .msg.agent"))
        assert session_id(driver) == sid
        assert bubbles(driver, "customer") == ["phí ship bao nhiêu?", "cho mình gặp nhân viên"]
        assert faq_answer in bubbles(driver, "bot")
        assert bubbles(driver, "agent") == [AGENT_TEXT]
        assert driver.find_element(By.CSS_SELECTOR, ".msg.agent .author-name").text == "lan"
        assert text_of(driver, "handoff-title") == "Nhân viên lan đang hỗ trợ bạn"
        wait(driver).until(lambda b: not b.find_element(By.ID, "connection").is_displayed())

        # resolve: the bot is back and asks for 1-5 stars
        agent_api(system, "POST", f"/api/tickets/{ticket_id}/resolve")
        wait(driver).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".stars .star")) == 5)
        stars = driver.find_elements(By.CSS_SELECTOR, ".stars .star")
        assert [s.get_attribute("aria-label") for s in stars] == ["1 sao", "2 sao", "3 sao", "4 sao", "5 sao"]
        assert all(s.is_enabled() for s in stars)
        assert not driver.find_element(By.ID, "handoff").is_displayed()
        stars[3].click()
        wait_for_bubble(driver, "customer", lambda t: t == "⭐ 4")
        assert not any(s.is_enabled() for s in stars)
        assert star_states(stars) == [(True, False)] * 3 + [(True, True), (False, False)]
        wait_for_bubble(driver, "bot", lambda t: t.startswith("Bạn có góp ý gì thêm cho SenMart"))
        say(driver, "Nhân viên hỗ trợ nhanh")
        wait_for_bubble(driver, "bot", lambda t: t == THANKS_4)
        final = wait_for(
            lambda: (lambda t: t if t["csat"]["rating"] == 4 else None)(
                agent_api(system, "GET", f"/api/tickets/{ticket_id}")
            ),
            timeout=15,
        )
        assert final["csat"]["comment"] == "Nhân viên hỗ trợ nhanh"
        ticket = None

        driver.refresh()
        wait(driver).until(lambda b: THANKS_4 in bubbles(b, "bot"))
        assert session_id(driver) == sid
        assert bubbles(driver, "customer") == [
            "phí ship bao nhiêu?",
            "cho mình gặp nhân viên",
            "⭐ 4",
            "Nhân viên hỗ trợ nhanh",
        ]
        assert "give_rating" not in driver.find_element(By.ID, "messages").text
        assert bubbles(driver, "agent") == [AGENT_TEXT]
        stars = driver.find_elements(By.CSS_SELECTOR, ".stars .star")
        assert len(stars) == 5 and not any(s.is_enabled() for s in stars)
        assert star_states(stars) == [(True, False)] * 3 + [(True, True), (False, False)]
        assert not driver.find_element(By.ID, "handoff").is_displayed()
        driver.save_screenshot("/tmp/chat.png")
        assert javascript_errors(driver) == []
    finally:
        if ticket is not None and open_ticket_of(system, sid):  # never leave a ticket for the next tests
            requests.post(
                f"{system.handoff_url}/api/tickets/{ticket['id']}/return-to-bot", headers=LAN, timeout=15
            )


def test_phone_viewport_buttons_and_no_horizontal_scroll(driver, system):
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 375, "height": 667, "deviceScaleFactor": 2, "mobile": True},
    )
    try:
        open_chat(driver, system)
        assert driver.execute_script("return [innerWidth, innerHeight]") == [375, 667]
        say(driver, "xin chào")
        wait(driver).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".msg.bot .choice"))
        choices = driver.find_elements(By.CSS_SELECTOR, ".msg.bot .choice")
        assert [c.text for c in choices] == ["Phí giao hàng", "Đổi trả hàng", "Khuyến mãi đang có"]
        choices[0].click()
        wait_for_bubble(driver, "customer", lambda t: t == "Phí giao hàng")  # the title, not the payload
        wait_for_bubble(driver, "bot", lambda t: "25.000đ" in t)
        assert not any(c.is_enabled() for c in choices)
        assert "chosen" in choices[0].get_attribute("class")
        answered = len(bubbles(driver, "bot"))
        say(driver, "mã " + "X" * 300 + " https://senmart.vn/" + "a" * 200)
        wait(driver).until(lambda b: len(bubbles(b, "bot")) > answered)
        wait(driver).until(lambda b: not b.find_element(By.ID, "typing").is_displayed())

        assert driver.execute_script("return document.documentElement.scrollWidth <= innerWidth")
        assert driver.execute_script("return document.body.scrollWidth <= innerWidth")
        field = driver.find_element(By.ID, "input")
        assert field.is_displayed() and driver.find_element(By.ID, "send").is_displayed()
        rect = driver.execute_script(
            "const r = document.getElementById('input').getBoundingClientRect();"
            "return [r.left, r.right, r.top, r.bottom];"
        )
        assert rect[0] >= 0 and rect[1] <= 375 and rect[2] >= 0 and rect[3] <= 667
        driver.save_screenshot("/tmp/chat-phone.png")
        assert javascript_errors(driver) == []
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_html_is_shown_as_text_and_bad_input_is_answered(driver, system):
    open_chat(driver, system)
    sid = session_id(driver)

    say(driver, "   ")
    assert text_of(driver, "hint") == "Bạn nhập nội dung câu hỏi rồi bấm Gửi nhé."
    assert bubbles(driver, "customer") == []
    driver.find_element(By.ID, "send").click()
    assert bubbles(driver, "customer") == []

    say(driver, XSS)
    assert text_of(driver, "hint") == ""
    wait_for_bubble(driver, "bot", lambda t: t.startswith("Mình chưa nhận được nội dung câu hỏi của bạn"))
    assert bubbles(driver, "customer") == [XSS]
    assert driver.find_elements(By.CSS_SELECTOR, "#messages img") == []
    assert driver.execute_script("return window.__xss === undefined")

    field = driver.find_element(By.ID, "input")
    field.send_keys("xqzw plorb vmmk " * 140)  # 2240 characters: the field keeps 2000
    assert len(field.get_attribute("value")) == 2000
    assert text_of(driver, "hint") == "Tin nhắn tối đa 2000 ký tự (còn 0 ký tự)."
    field.send_keys(Keys.ENTER)
    wait_for_bubble(driver, "bot", lambda t: t.startswith("Tin nhắn của bạn khá dài"))
    assert len(bubbles(driver, "customer")[-1]) == len(("xqzw plorb vmmk " * 140)[:2000].strip())

    driver.refresh()  # the history is escaped too
    wait(driver).until(lambda b: len(bubbles(b, "customer")) == 2)
    assert bubbles(driver, "customer")[0] == XSS
    assert driver.find_elements(By.CSS_SELECTOR, "#messages img") == []
    assert driver.execute_script("return window.__xss === undefined")
    assert open_ticket_of(system, sid) is None
    assert javascript_errors(driver) == []


def test_history_unavailable_shows_a_notice_and_chat_still_works(driver, system):
    open_chat(driver, system)
    say(driver, "phí ship bao nhiêu?")
    wait_for_bubble(driver, "bot", lambda t: "25.000đ" in t)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/chat/history*"]})
    try:
        driver.refresh()
        wait(driver).until(lambda b: b.find_element(By.ID, "notice").is_displayed())
        assert text_of(driver, "notice") == (
            "Chưa tải được các tin nhắn trước đó. Bạn vẫn có thể tiếp tục trò chuyện với SenMart nhé."
        )
        wait(driver).until(lambda b: not b.find_element(By.ID, "connection").is_displayed())
        say(driver, "phí ship bao nhiêu?")
        wait_for_bubble(driver, "bot", lambda t: "25.000đ" in t)
        assert javascript_errors(driver) == []
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def test_socketio_refuses_foreign_origins(system):
    url = f"http://127.0.0.1:{system.settings.rasa_port}/socket.io/?EIO=4&transport=polling"
    port = system.settings.handoff_port
    other = next(p for p in (port + 1, port + 2) if p != system.settings.rasa_port)
    for origin in ("http://evil.example", f"http://localhost:{other}", f"https://localhost:{port}"):
        refused = requests.get(url, headers={"Origin": origin}, timeout=10)
        assert refused.status_code == 400, origin
        assert "Access-Control-Allow-Origin" not in refused.headers
    for origin in (f"http://localhost:{port}", f"http://127.0.0.1:{port}"):
        accepted = requests.get(url, headers={"Origin": origin}, timeout=10)
        assert accepted.status_code == 200, origin
        assert accepted.text.startswith('0{"sid":')
        assert accepted.headers["Access-Control-Allow-Origin"] == origin
    assert requests.get(url, timeout=10).status_code == 200  # no Origin: server-side clients


def test_a_made_up_stored_session_id_gets_a_new_session(driver, system):
    forged = "0123456789abcdef0123456789abcdef.0123456789abcdef0123456789abcdef"
    driver.get(page_url(system) + "chat/config.json")
    driver.execute_script(f"localStorage.setItem('{SESSION_KEY}', '{forged}')")
    driver.get(page_url(system))
    wait(driver).until(lambda b: session_id(b) not in (None, forged))
    assert re.fullmatch(r"[0-9a-f]{32}\.[0-9a-f]{32}", session_id(driver))
    assert bubbles(driver, "customer") == []  # nothing of anyone else's conversation
    assert all(t.startswith("Xin chào, mình là trợ lý ảo") for t in bubbles(driver, "bot"))
    say(driver, "phí ship bao nhiêu?")
    wait_for_bubble(driver, "bot", lambda t: "25.000đ" in t)
    assert javascript_errors(driver) == []
