"""Staff accounts in Chromium against `python -m staff`: the newcomer's path (first admin with the printed
one-time password, invites, each person in their own page under their own name), wrong password, lockout,
a role refused a page, sign-out, session expiry, CSRF refused. Screenshots in /tmp/senmart-*.png."""

import json
import os
import subprocess
import sys
import time

import pytest
import redis
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from handoff.settings import PROJECT_ROOT
from tests.browser import headless_chromium, wait
from tests.handoff.conftest import SERVICE_TOKEN, HandoffService, RasaStub
from tests.staff_pages import PASSWORD, fill_sign_in, make_account, sign_in

DB = 6  # apart from the other services' databases
SCREENSHOTS = {name: f"/tmp/senmart-{name}.png" for name in ("signin", "admin", "console", "forbidden")}


@pytest.fixture(scope="module")
def rasa():
    stub = RasaStub()
    yield stub
    stub.close()


@pytest.fixture(scope="module")
def redis_url(redis_server):
    return f"redis://{redis_server.host}:{redis_server.port}/{DB}"


@pytest.fixture()
def db(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="module")
def service(redis_url, rasa, tmp_path_factory):
    # the cookie is Secure (the default): Chromium keeps it on http://127.0.0.1, a secure context
    started = HandoffService(
        redis_url,
        rasa.url,
        tmp_path_factory.mktemp("staff"),
        STAFF_LOCKOUT_FAILURES="3",
        STAFF_LOCKOUT_MINUTES="0.1",
        STAFF_FAILURE_DELAY_CAP_SECONDS="0.1",
    ).start()
    yield started
    started.stop()


@pytest.fixture()
def browser():
    with headless_chromium() as driver:
        yield driver


def text(browser, element_id):
    return browser.find_element(By.ID, element_id).text


def bootstrap(redis_url):
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "staff", "users", "bootstrap", "--json"],
        env=env,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout)


def change_password(browser, current, new):
    wait(browser).until(lambda b: b.find_element(By.ID, "change-form").is_displayed())
    for field, value in (("current-password", current), ("new-password", new), ("repeat-password", new)):
        browser.find_element(By.ID, field).send_keys(value)
    browser.find_element(By.ID, "change").click()
    wait(browser).until(lambda b: "/signin" not in b.current_url)


def invite(browser, name, email, role):
    browser.find_element(By.ID, "invite-name").send_keys(name)
    browser.find_element(By.ID, "invite-email").send_keys(email)
    browser.find_element(By.CSS_SELECTOR, f'#invite-role option[value="{role}"]').click()
    browser.find_element(By.ID, "invite").click()
    wait(browser).until(lambda b: b.find_element(By.ID, "secret-box").is_displayed() and text(b, "secret"))
    secret = text(browser, "secret")
    assert name in text(browser, "secret-text")
    browser.find_element(By.ID, "secret-done").click()
    wait(browser).until(
        lambda b: f'[data-email="{email}"]' and b.find_elements(By.CSS_SELECTOR, f'tr[data-email="{email}"]')
    )
    return secret


def capacity_shown(browser, email):
    return browser.find_element(By.CSS_SELECTOR, f'tr[data-email="{email}"] input.capacity').is_displayed()


def sign_out(browser):
    browser.find_element(By.ID, "logout").click()
    wait(browser).until(lambda b: b.current_url.endswith("/signin"))


def test_newcomer_admin_invites_an_agent_and_a_content_editor(service, db, browser, redis_url):
    first = bootstrap(redis_url)
    assert first["created"] and first["email"] == "admin@senmart.local"
    url = service.url
    browser.get(url + "/console")  # not signed in: to the sign-in page
    wait(browser).until(lambda b: "/signin?next=/console" in b.current_url)
    browser.save_screenshot(SCREENSHOTS["signin"])
    fill_sign_in(browser, first["email"], first["password"])
    wait(browser).until(lambda b: b.find_element(By.ID, "change-form").is_displayed())
    cookie = browser.get_cookie("senmart_staff")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    change_password(browser, first["password"], "mật khẩu quản trị mới")
    # `next` was /console: the admin may use it; then to the admin page
    wait(browser).until(lambda b: b.current_url.endswith("/console"))
    browser.get(url + "/admin")
    wait(browser).until(lambda b: b.find_element(By.ID, "app").is_displayed())
    assert "Quản trị viên" in text(browser, "me")
    agent_password = invite(browser, "Lan Anh", "lananh@senmart.local", "agent")
    editor_password = invite(browser, "Ngọc Hà", "ngocha@senmart.local", "content")
    wait(browser).until(lambda b: "user.invite" in text(b, "audit"))
    browser.save_screenshot(SCREENSHOTS["admin"])
    assert "lananh@senmart.local" in text(browser, "users") and "Chờ đổi mật khẩu" in text(browser, "users")
    # only people who take tickets have a capacity: not the content editor, unless a ticket role is chosen
    assert capacity_shown(browser, "lananh@senmart.local") and not capacity_shown(
        browser, "ngocha@senmart.local"
    )
    editor_role = Select(
        browser.find_element(By.CSS_SELECTOR, 'tr[data-email="ngocha@senmart.local"] select.role')
    )
    editor_role.select_by_value("supervisor")
    assert capacity_shown(browser, "ngocha@senmart.local")
    editor_role.select_by_value("content")
    assert not capacity_shown(browser, "ngocha@senmart.local")
    sign_out(browser)

    # the agent: one-time password, a new one, the console under her own name; claims and answers
    response = requests.post(
        url + "/internal/handoffs",
        json={"sender_id": "khach-1", "channel": "socketio", "reason": "money_complaint"},
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=5,
    )
    ticket_id = response.json()["ticket_id"]
    fill_sign_in(browser, "lananh@senmart.local", agent_password)
    change_password(browser, agent_password, "mật khẩu của Lan Anh")
    wait(browser).until(
        lambda b: b.current_url.endswith("/console") and b.find_element(By.ID, "app").is_displayed()
    )
    assert text(browser, "me").startswith("Lan Anh")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, f'.ticket-row[data-id="{ticket_id}"]'))
    browser.find_element(By.CSS_SELECTOR, f'.ticket-row[data-id="{ticket_id}"]').click()
    wait(browser).until(lambda b: b.find_element(By.ID, "claim").is_displayed())
    browser.find_element(By.ID, "claim").click()
    wait(browser).until(lambda b: "Nhân viên Lan Anh đã nhận xử lý" in text(b, "transcript"))
    browser.find_element(By.ID, "reply-text").send_keys("Dạ em chào chị, em kiểm tra ngay ạ.")
    browser.find_element(By.ID, "send").click()
    wait(browser).until(lambda b: "Dạ em chào chị" in text(b, "transcript"))
    wait(browser, 25).until(lambda b: text(b, "dash-online") == "1")
    browser.save_screenshot(SCREENSHOTS["console"])
    transcript = requests.get(
        f"{url}/api/tickets/{ticket_id}", headers={"Authorization": "Bearer admin-token"}, timeout=5
    ).json()["transcript"]
    assert [m["agent"] for m in transcript if m["role"] == "agent"] == ["Lan Anh"]
    # an agent is refused the studio and the admin page
    for page in ("/studio", "/admin"):
        browser.get(url + page)
        wait(browser).until(lambda b: "không có quyền" in b.find_element(By.TAG_NAME, "body").text)
    browser.save_screenshot(SCREENSHOTS["forbidden"])
    browser.get(url + "/console")
    wait(browser).until(lambda b: b.find_element(By.ID, "app").is_displayed())
    sign_out(browser)

    # the content editor: the studio under her own name
    fill_sign_in(browser, "ngocha@senmart.local", editor_password)
    change_password(browser, editor_password, "mật khẩu của Ngọc Hà")
    wait(browser).until(lambda b: "/studio" in b.current_url and b.find_element(By.ID, "app").is_displayed())
    assert text(browser, "me").startswith("Ngọc Hà")
    wait(browser).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".topic-row"))
    browser.get(url + "/console")
    wait(browser).until(lambda b: "không có quyền" in b.find_element(By.TAG_NAME, "body").text)
    actions = [e["action"] for e in db.xrevrange("senmart:staff:audit", count=100) for e in [e[1]]]
    for expected in (
        "signin.ok",
        "password.change",
        "user.invite",
        "ticket.claim",
        "ticket.reply",
        "signout",
    ):
        assert expected in actions, expected


def test_wrong_password_then_lockout(service, db, browser):
    email = make_account(service.env["REDIS_URL"], "Minh Quân", "minhquan@senmart.local", "agent")
    browser.get(service.url + "/signin")
    fill_sign_in(browser, email, "không phải mật khẩu")
    wait(browser).until(lambda b: text(b, "signin-error") == "E-mail hoặc mật khẩu không đúng.")
    fill_sign_in(browser, email, "vẫn không phải mật khẩu")
    wait(browser).until(lambda b: b.find_element(By.ID, "signin").is_enabled())
    fill_sign_in(browser, email, "lần thứ ba vẫn sai")
    wait(browser).until(lambda b: "tạm bị khoá" in text(b, "signin-error"))
    assert "Vui lòng thử lại sau 1 phút" in text(browser, "signin-error")
    fill_sign_in(browser, email, PASSWORD)  # the right password is refused while locked
    wait(browser).until(lambda b: "tạm bị khoá" in text(b, "signin-error"))
    time.sleep(6.5)  # STAFF_LOCKOUT_MINUTES=0.1
    fill_sign_in(browser, email, PASSWORD)
    wait(browser).until(lambda b: b.current_url.endswith("/console"))


def test_sign_out_everywhere_and_csrf(service, db, browser):
    email = make_account(service.env["REDIS_URL"], "Thu Trang", "thutrang@senmart.local", "supervisor")
    sign_in(browser, service.url, email)
    wait(browser).until(lambda b: b.find_element(By.ID, "app").is_displayed())
    # a request from the page without the CSRF header is refused
    status = browser.execute_async_script(
        """const done = arguments[0];
        fetch('/api/presence', {method: 'POST', headers: {'Content-Type': 'application/json'},
          body: JSON.stringify({status: 'online'})})
          .then(async r => done([r.status, (await r.json()).error]));"""
    )
    assert status == [403, "csrf"]
    browser.find_element(By.ID, "logout-everywhere").click()
    wait(browser).until(lambda b: b.current_url.endswith("/signin"))
    browser.get(service.url + "/console")
    wait(browser).until(lambda b: "/signin?next=/console" in b.current_url)


def test_session_expiry_sends_back_to_sign_in(redis_url, rasa, db, browser, tmp_path):
    short = HandoffService(redis_url, rasa.url, tmp_path, STAFF_SESSION_IDLE_MINUTES="0.05").start()
    try:
        email = make_account(redis_url, "Hải Yến", "haiyen@senmart.local", "agent")
        sign_in(browser, short.url, email)
        wait(browser).until(lambda b: b.find_element(By.ID, "app").is_displayed())
        time.sleep(4)  # 3 s idle; the console's next call is answered 401 → the sign-in page
        browser.get(short.url + "/console")
        wait(browser).until(lambda b: "/signin?next=/console" in b.current_url)
    finally:
        short.stop()
