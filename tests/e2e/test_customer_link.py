"""One customer across channels: the same phone given on the website and on Messenger links both
conversations, and the agent console shows the website history on the Messenger ticket."""

import random

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from .test_chat_browser import open_chat, session_id, wait
from .test_messenger import api, delivery, new_psid, post, text_event, wait_for


def new_phone():
    return "09" + "".join(random.choice("0123456789") for _ in range(8))


def chat(browser, text, answers_before):
    """Type a message on the chat page and wait for one more bot answer."""
    box = browser.find_element(By.ID, "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    wait(browser).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.intro)")) > answers_before
    )
    return browser.find_elements(By.CSS_SELECTOR, ".msg.bot:not(.intro)")[-1].text


@pytest.fixture()
def messenger_ticket(system):
    """`messenger_ticket(psid)`: the open ticket of a Messenger conversation once the handoff created it;
    every ticket found is handed back to the bot after the test (other tests expect an empty queue)."""
    found = []

    def ticket_of(psid):
        def find():
            tickets = api(system, "GET", "/api/tickets", params={"status": "open"}).json()["tickets"]
            return next((t for t in tickets if t["sender_id"] == psid), None)

        ticket = wait_for(find, timeout=30)
        found.append(ticket["id"])
        return ticket

    yield ticket_of
    for ticket_id in found:
        assert api(system, "POST", f"/api/tickets/{ticket_id}/return-to-bot").status_code == 200


def test_phone_on_web_and_messenger_links_the_histories_for_the_agent(
    system, graph, driver, messenger_ticket
):
    phone = new_phone()
    open_chat(driver, system)
    web_session = session_id(driver)
    answer = chat(driver, "phí ship bao nhiêu vậy shop", 0)
    assert "25.000đ" in answer
    chat(driver, f"sdt của mình là {phone}", 1)

    psid = new_psid()
    assert (
        post(system, delivery([text_event(psid, f"so dien thoai cua minh la {phone} nhe")])).status_code
        == 200
    )
    assert post(system, delivery([text_event(psid, "cho mình gặp nhân viên")])).status_code == 200
    ticket = messenger_ticket(psid)
    assert ticket["channel"] == "facebook"

    def linked_history():
        body = api(system, "GET", f"/api/tickets/{ticket['id']}/customer-history").json()
        return body if body["conversations"] else None

    history = wait_for(linked_history, timeout=15)
    assert history["profile_id"].startswith("CP-")
    [web] = history["conversations"]
    assert (web["sender_id"], web["channel"], web["error"]) == (web_session, "socketio", None)
    texts = [(m["role"], m["text"]) for m in web["messages"]]
    assert ("customer", "phí ship bao nhiêu vậy shop") in texts
    assert ("customer", f"sdt của mình là {phone}") in texts
    assert any(role == "bot" and "25.000đ" in text for role, text in texts)

    # the agent console shows it on the Messenger ticket
    driver.get(f"{system.handoff_url}/console#{ticket['id']}")
    wait(driver).until(lambda b: b.find_element(By.ID, "token").is_displayed())
    driver.find_element(By.ID, "token").send_keys(system.admin_token)
    driver.find_element(By.ID, "login").click()
    wait(driver).until(lambda b: b.find_element(By.ID, "t-id").text == ticket["id"])
    wait(driver).until(lambda b: b.find_element(By.ID, "t-linked").is_displayed())
    linked = driver.find_element(By.ID, "t-linked")
    assert "Cùng khách hàng trên kênh khác (1)" in linked.text
    assert f"Website · {web_session}" in linked.text
    assert "phí ship bao nhiêu vậy shop" in linked.text
    assert "25.000đ" in linked.text


def test_customer_history_of_an_unlinked_ticket_is_empty_and_unknown_ids_404(system, messenger_ticket):
    psid = new_psid()
    assert post(system, delivery([text_event(psid, "cho mình gặp nhân viên")])).status_code == 200
    ticket = messenger_ticket(psid)
    body = api(system, "GET", f"/api/tickets/{ticket['id']}/customer-history").json()
    assert body == {"ticket_id": ticket["id"], "profile_id": None, "conversations": []}
    assert api(system, "GET", "/api/tickets/KN-20000101-9999/customer-history").status_code == 404
    unauthenticated = requests.get(f"{system.handoff_url}/api/tickets/{ticket['id']}/customer-history")
    assert unauthenticated.status_code == 401
