"""The content studio (/studio, /studio/report) in headless Chromium against the real service.

`python -m staff` runs as a subprocess on a real Redis, with the studio pointed at a temporary copy
of the project's content (config.yml, domain.yml, data/, evaluation/*.yml).

The tests run in file order and share one service and one browser: log-in errors, editing an answer
and its examples, a conflict, promotions and their "Thử" box, the "Bot chưa hiểu" inbox, and the
report page's selective-answering figures and risk–coverage chart. Train & publish
(progress bar to 100 %, "Đã xuất bản"), the report page (screenshot) and a rollback are driven in the same
page by tests/e2e/test_studio.py against the whole system, so CI trains once and the published model is
checked in Rasa's answers.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Dict, List

import pytest
import redis
import requests
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from studio.settings import copy_content
from tests.browser import headless_chromium
from tests.handoff.conftest import ADMIN_TOKEN, SERVICE_TOKEN, HandoffService
from tests.staff_pages import make_account, sign_in
from tests.studio.studio_page import (
    by_id,
    confirm_dialog,
    javascript_errors,
    open_studio,
    open_topic,
    set_field,
    tab,
    text_of,
    wait,
)

CONTENT_TOKEN = "content-" + uuid.uuid4().hex
SERVICE_DB = 2  # the studio service's own database on the shared test Redis
TODAY = "2026-11-20"

NEW_ANSWER = (
    "Phí giao hàng tiêu chuẩn của SenMart là 25.000đ, miễn phí cho đơn từ 300.000đ. "
    "Chi tiết: https://senmart.vn/giao-hang"
)
HTML_EXAMPLE = '<b>ship</b> ra đảo Phú Quý tính phí sao <img src=x onerror="window.__xss=1">'
INBOX_TEXT = "giao hàng ra Côn Đảo thì mấy hôm mới nhận được vậy shop"
PHONE_TEXT = "sdt 0912345678 của tôi không nhận được mã otp đổi mật khẩu"


# -- the service -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def service(redis_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("studio")
    redis_url = f"redis://{redis_server.host}:{redis_server.port}/{SERVICE_DB}"
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    running = HandoffService(
        redis_url,
        "http://127.0.0.1:9",  # no Rasa: nothing is relayed in these tests
        root,
        STUDIO_CONTENT_DIR=str(copy_content(root / "content")),
        STUDIO_MODELS_DIR=str(root / "models"),
        STUDIO_TOKENS=f"content:{CONTENT_TOKEN}",
        SENMART_TODAY=TODAY,
    )
    running.start()
    running.redis = client
    running.content_dir = root / "content"
    yield running
    running.stop()
    client.close()


def call(service, method: str, path: str, token: str = CONTENT_TOKEN, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, service.url + path, headers=headers, timeout=30, **kwargs)


def topic(service, name: str) -> Dict[str, Any]:
    response = call(service, "GET", f"/studio/api/topics/{name}")
    assert response.status_code == 200, response.text
    return response.json()


# -- the browser -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def driver():
    with headless_chromium() as browser:
        yield browser


def user_event(sender_id: str, text: str, intent: str, confidence: float, ranking) -> Dict[str, Any]:
    return {
        "event": "user",
        "sender_id": sender_id,
        "timestamp": time.time(),
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": [{"name": name, "confidence": c} for name, c in ranking],
        },
    }


def seed_conversations(service) -> None:
    events = [
        user_event(
            "cust-1",
            INBOX_TEXT,
            "faq",
            0.41,
            [("faq", 0.41), ("ask_promotion", 0.2), ("inform", 0.1)],
        ),
        user_event("cust-2", PHONE_TEXT, "nlu_fallback", 0.3, [("nlu_fallback", 0.3), ("faq", 0.28)]),
        user_event("cust-3", "cho tôi gặp nhân viên", "request_human", 0.97, [("request_human", 0.97)]),
        user_event("cust-4", "đơn SM12345678 trừ tiền 2 lần", "inform", 0.93, [("inform", 0.93)]),
        user_event("cust-5", "chào shop", "greet", 0.99, [("greet", 0.99)]),
    ]
    # as the bot parses it: AnswerGuard (bot/nlu/answer_guard.py) was unsure and asked again; the
    # response selector names the FAQ topic of the `faq` guess
    events[0]["parse_data"]["answer_guard"] = {"decision": "clarify", "reasons": ["coverage"]}
    events[0]["parse_data"]["response_selector"] = {
        "faq": {
            "ranking": [
                {"intent_response_key": "faq/delivery_time", "confidence": 0.7},
                {"intent_response_key": "faq/express_delivery", "confidence": 0.2},
            ]
        }
    }
    for event in events:
        service.redis.xadd("senmart:events", {"data": json.dumps(event, ensure_ascii=False)})
    now = time.time()
    for sender_id, reason, text in (
        ("cust-3", "request_human", "cho tôi gặp nhân viên"),
        ("cust-4", "money_complaint", "đơn SM12345678 trừ tiền 2 lần"),
    ):
        response = call(
            service,
            "POST",
            "/internal/handoffs",
            SERVICE_TOKEN,
            json={
                "sender_id": sender_id,
                "channel": "socketio",
                "reason": reason,
                "transcript": [{"role": "customer", "text": text, "timestamp": now}],
            },
        )
        assert response.status_code == 201, response.text


# -- the tests -------------------------------------------------------------------------------------
def test_an_agent_is_refused_and_a_content_editor_signs_in_and_out(driver, service):
    agent = make_account(service.env["REDIS_URL"], "Lan", "lan@senmart.test", "agent")
    sign_in(driver, service.url, agent)
    driver.get(service.url + "/studio")
    wait(driver).until(lambda b: "không có quyền" in b.find_element(By.TAG_NAME, "body").text)
    open_studio(driver, service.url, service.env["REDIS_URL"])
    driver.get_log("browser")
    assert text_of(driver, "me") == "Biên tập · Biên tập nội dung"
    by_id(driver, "logout").click()
    wait(driver).until(lambda b: b.current_url.endswith("/signin"))
    driver.get(service.url + "/studio")
    wait(driver).until(lambda b: "/signin?next=/studio" in b.current_url)
    assert javascript_errors(driver) == []


def test_edit_an_answer_with_the_live_preview_and_add_an_example(driver, service):
    open_studio(driver, service.url, service.env["REDIS_URL"])
    driver.get_log("browser")
    # at 1366 px the seven tabs stay on one row (their own, under the brand and the signed-in user)
    tabs = driver.find_elements(By.CSS_SELECTOR, ".tabs-main .tab")
    assert len(tabs) == 7 and len({round(tab.rect["y"]) for tab in tabs}) == 1
    wait(driver).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".topic-row")) >= 30)
    by_id(driver, "topic-search").send_keys("phí giao hàng")
    wait(driver).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".topic-row")) < 30)
    open_topic(driver, "shipping_fee")
    examples = len(topic(service, "shipping_fee")["examples"])
    assert f"{examples} ví dụ" in text_of(driver, "examples-count")

    answer = by_id(driver, "response-0-text")
    set_field(answer, NEW_ANSWER)
    preview = by_id(driver, "topic-preview")
    wait(driver).until(lambda b: "Chi tiết: https://senmart.vn/giao-hang" in preview.text)
    link = preview.find_element(By.CSS_SELECTOR, ".msg.bot .bubble a")
    assert link.get_attribute("href") == "https://senmart.vn/giao-hang"
    driver.find_element(By.XPATH, "//div[@class='response']//button[normalize-space()='+ Thêm nút']").click()
    set_field(driver.find_element(By.CSS_SELECTOR, ".button-row .button-title"), "Gặp nhân viên")
    set_field(driver.find_element(By.CSS_SELECTOR, ".button-row .button-payload"), "/request_human")
    wait(driver).until(
        lambda b: [c.text for c in preview.find_elements(By.CSS_SELECTOR, ".msg.bot .choices .choice")]
        == ["Gặp nhân viên"]
    )
    by_id(driver, "topic-save").click()
    wait(driver, 30).until(lambda b: "Đã lưu" in text_of(b, "topic-status"))
    stored = topic(service, "shipping_fee")
    assert stored["responses"] == [
        {"text": NEW_ANSWER, "buttons": [{"title": "Gặp nhân viên", "payload": "/request_human"}]}
    ]

    # one more example, typed with HTML in it: stored and shown as text, never as markup
    by_id(driver, "example-new").send_keys(HTML_EXAMPLE)
    by_id(driver, "example-add").click()
    wait(driver, 30).until(lambda b: "Đã thêm câu hỏi mẫu" in text_of(b, "topic-status"))
    assert HTML_EXAMPLE in by_id(driver, "examples").get_attribute("value").split("\n")
    assert f"{examples + 1} ví dụ" in text_of(driver, "examples-count")
    assert HTML_EXAMPLE in topic(service, "shipping_fee")["examples"]

    tab(driver, "history")
    rows = wait(driver).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#history-rows tr"))
    assert "+ " + HTML_EXAMPLE in rows[0].text
    assert "Biên tập" in rows[0].text and "shipping_fee" in rows[0].text  # the editor's own name
    assert by_id(driver, "history-rows").find_elements(By.TAG_NAME, "img") == []
    assert by_id(driver, "history-rows").find_elements(By.TAG_NAME, "b") == []
    assert driver.execute_script("return window.__xss === undefined")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.accept()
    assert javascript_errors(driver) == []


def test_validation_problems_are_shown_next_to_the_fields(driver, service):
    tab(driver, "faq")
    open_topic(driver, "shipping_fee")
    set_field(by_id(driver, "examples"), "phí ship\nship bao nhiêu\nphí giao hàng")
    wait(driver).until(lambda b: "cần tối thiểu 12" in text_of(b, "examples-count"))
    set_field(by_id(driver, "response-0-text"), "Phí ship <b>25k</b> nhé")
    by_id(driver, "topic-save").click()
    examples_problems = driver.find_element(By.CSS_SELECTOR, '.problems[data-field="examples"]')
    wait(driver).until(lambda b: examples_problems.text)
    answer_problems = driver.find_element(By.CSS_SELECTOR, '.problems[data-field="responses.0.text"]')
    assert answer_problems.text, "the HTML in the answer is reported next to it"
    assert "invalid" in by_id(driver, "examples").get_attribute("class")
    assert "Chưa lưu" in text_of(driver, "topic-status")
    assert topic(service, "shipping_fee")["responses"][0]["text"] == NEW_ANSWER  # nothing written
    by_id(driver, "topic-cancel").click()
    confirm_dialog(driver)
    wait(driver).until(lambda b: by_id(b, "response-0-text").get_attribute("value") == NEW_ANSWER)


def test_a_conflict_offers_the_newer_version(driver, service):
    open_topic(driver, "shipping_fee")
    current = topic(service, "shipping_fee")
    theirs = "Phí giao hàng tiêu chuẩn là 25.000đ (admin vừa sửa)."
    response = call(
        service,
        "PUT",
        "/studio/api/topics/shipping_fee",
        ADMIN_TOKEN,
        json={
            "version": current["version"],
            "responses": [{"text": theirs}],
            "examples": current["examples"],
        },
    )
    assert response.status_code == 200, response.text
    set_field(by_id(driver, "response-0-text"), NEW_ANSWER + " (bản của tôi)")
    by_id(driver, "topic-save").click()
    wait(driver).until(lambda b: by_id(b, "topic-conflict").is_displayed())
    assert "Nội dung này vừa được admin sửa" in text_of(driver, "topic-conflict-text")
    by_id(driver, "topic-conflict-load").click()
    wait(driver).until(lambda b: by_id(b, "response-0-text").get_attribute("value") == theirs)
    assert not by_id(driver, "topic-conflict").is_displayed()


def test_promotions_table_form_and_try_box(driver, service):
    tab(driver, "promotions")
    row = wait(driver).until(lambda b: b.find_elements(By.CSS_SELECTOR, 'tr[data-code="GIAM50K"]'))[0]
    assert "50.000đ" in row.text and "500.000đ" in row.text

    Select(by_id(driver, "try-code")).select_by_value("GIAM50K")
    set_field(by_id(driver, "try-amount"), "450000")
    driver.execute_script("document.getElementById('try-date').value = arguments[0]", TODAY)
    by_id(driver, "try-run").click()
    bubble = wait(driver).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#try-result .msg.bot .bubble"))
    expected = call(
        service,
        "POST",
        "/studio/api/promotions/try",
        json={"code": "GIAM50K", "amount": 450000, "date": TODAY},
    ).json()["messages"]
    assert [b.text for b in bubble] == [m["text"] for m in expected if m.get("text")]
    assert "500.000đ" in bubble[0].text

    row.click()
    wait(driver).until(lambda b: by_id(b, "promo-form").is_displayed())
    assert by_id(driver, "p-amount").get_attribute("value") == "50000"
    assert by_id(driver, "p-start").get_attribute("value") == "2026-11-01"
    set_field(by_id(driver, "p-min_order"), "-5")
    by_id(driver, "promo-save").click()
    problems = driver.find_element(By.CSS_SELECTOR, '#promo-form .problems[data-field="min_order"]')
    wait(driver).until(lambda b: problems.text)
    by_id(driver, "promo-cancel").click()
    assert javascript_errors(driver) == []


def inbox_texts(browser) -> List[str]:
    script = "return [...document.querySelectorAll('#inbox-list .inbox-text')].map((t) => t.textContent)"
    return browser.execute_script(script)


def test_the_inbox_assigns_an_unclear_question_to_a_topic(driver, service):
    seed_conversations(service)

    # the service's event consumer fills the inbox from the stream
    wait(driver, 20).until(
        lambda b: len(call(service, "GET", "/studio/api/inbox?status=open").json()["items"]) >= 3
    )
    tab(driver, "inbox")
    texts = wait(driver).until(lambda b: len(inbox_texts(b)) >= 3 and inbox_texts(b))
    assert INBOX_TEXT in texts
    assert not any("0912345678" in t for t in texts), "phone numbers are masked"
    item = driver.find_elements(By.CSS_SELECTOR, "#inbox-list .inbox-item")[texts.index(INBOX_TEXT)]
    assert "faq/delivery_time" in item.text  # the top-3 guesses
    select = Select(item.find_element(By.TAG_NAME, "select"))
    assert select.first_selected_option.get_attribute("value") == "delivery_time"
    item.find_element(By.XPATH, ".//button[normalize-space()='Thêm vào chủ đề']").click()
    wait(driver).until(lambda b: INBOX_TEXT not in text_of(b, "inbox-list"))
    assert INBOX_TEXT in topic(service, "delivery_time")["examples"]


SELECTIVE = {
    "thresholds": {"intent_confidence": 0.5, "margin": 0.05, "confidence": 0.0, "coverage": 0.0},
    "n": 500,
    "answerable": {"n": 380, "accuracy": 0.9237, "correct": 351, "wrong": 21, "deflected": 8,
                   "deflected_rate": 0.0211},
    "unanswerable": {"n": 80, "wrong": 3, "wrong_answer_rate": 0.0375, "deflected": 77},
    "human_request": {"n": 40, "handoff": 39, "handoff_rate": 0.975},
    "risk_coverage": [
        {"bar": 0.0, "coverage": 0.9, "risk": 0.12, "answered": 414, "wrong": 50},
        {"bar": 0.5, "coverage": 0.84, "risk": 0.08, "answered": 386, "wrong": 31},
        {"bar": 1.0, "coverage": 0.76, "risk": 0.05, "answered": 350, "wrong": 17},
        {"bar": 2.0, "coverage": 0.4, "risk": 0.01, "answered": 184, "wrong": 2},
    ],
}  # fmt: skip


def test_the_report_page_shows_selective_answering(driver, service):
    """The live model's selective figures and the risk–coverage chart (the last test: it replaces the
    model registry with one whose evaluation has them)."""
    models = service.content_dir.parent / "models"
    models.mkdir(exist_ok=True)
    evaluation = {
        "accuracy": 0.9,
        "n": 20,
        "per_topic": [{"topic": "faq/shipping_fee", "accuracy": 0.9, "n": 20}],
        "confusions": [],
        "selective": SELECTIVE,
    }
    (models / "m9.eval.json").write_text(json.dumps(evaluation), encoding="utf-8")
    registry = {"current": "m9", "models": [{"id": "m9", "eval_file": str(models / "m9.eval.json")}]}
    (models / "registry.json").write_text(json.dumps(registry), encoding="utf-8")

    driver.get(service.url + "/studio/report")
    wait(driver, 15).until(lambda b: b.execute_script("return document.body.dataset.loaded === 'true'"))
    figures = text_of(driver, "selective-figures")
    for expected in ("92,4%", "trên 380 câu", "2,1%", "3,8%", "3/80 câu", "97,5%", "39/40 câu"):
        assert expected in figures, (expected, figures)
    chart = driver.find_element(By.CSS_SELECTOR, "#chart-risk svg.chart")
    assert chart.size["width"] > 300 and chart.size["height"] > 150
    dots = chart.find_elements(By.TAG_NAME, "circle")
    assert len(dots) == 4
    assert [dot.get_attribute("fill") for dot in dots].count("#c62828") == 1  # the thresholds in use
    assert "Ngưỡng đang dùng: trả lời 76%, sai 5,0%" in text_of(driver, "chart-risk")
    assert "Độ phủ: tỉ lệ câu bot trả lời (%)" in text_of(driver, "chart-risk")
    driver.set_window_size(1366, 2400)
    try:
        driver.save_screenshot("/tmp/studio-report-selective.png")
    finally:
        driver.set_window_size(1366, 768)
    assert javascript_errors(driver) == []
