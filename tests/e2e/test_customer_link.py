"""One customer across conversations: linked only on verified identifiers (a customer the shop's website
signed in), never on a phone someone typed; the agent console shows the linked history."""

import random

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from bot.channels.identity import customer_hash
from tests.staff_pages import make_account, sign_in

from .conftest import CUSTOMER_IDENTITY_SECRET
from .test_chat_browser import page_url, session_id, wait
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


def open_ticket(system, sender_id):
    tickets = api(system, "GET", "/api/tickets", params={"status": "open"}).json()["tickets"]
    return next((t for t in tickets if t["sender_id"] == sender_id), None)


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


def signed_in_chat(browser, system, customer_id):
    """The chat page as the shop's website opens it for a signed-in customer (fresh session)."""
    browser.get(page_url(system) + "chat/config.json")
    browser.execute_script("localStorage.clear()")
    digest = customer_hash(customer_id, CUSTOMER_IDENTITY_SECRET)
    browser.get(page_url(system) + f"#customer_id={customer_id}&customer_hash={digest}")
    wait(browser).until(lambda b: not b.find_element(By.ID, "connection").is_displayed())
    wait(browser).until(session_id)


def test_a_signed_in_customer_links_two_conversations_for_the_agent(system, driver):
    customer = f"kh-{random.randrange(10**8):08d}"
    signed_in_chat(driver, system, customer)
    earlier = session_id(driver)
    assert "25.000đ" in chat(driver, "phí ship bao nhiêu vậy shop", 0)

    signed_in_chat(driver, system, customer)  # later, another session (another device)
    later = session_id(driver)
    assert later != earlier
    chat(driver, "cho mình gặp nhân viên", 0)
    ticket = wait_for(lambda: open_ticket(system, later), timeout=30)

    def linked_history():
        body = api(system, "GET", f"/api/tickets/{ticket['id']}/customer-history").json()
        return body if body["conversations"] else None

    history = wait_for(linked_history, timeout=15)
    assert history["profile_id"].startswith("CP-")
    [web] = history["conversations"]
    assert (web["sender_id"], web["channel"], web["error"]) == (earlier, "socketio", None)
    texts = [(m["role"], m["text"]) for m in web["messages"]]
    assert ("customer", "phí ship bao nhiêu vậy shop") in texts
    assert any(role == "bot" and "25.000đ" in text for role, text in texts)

    # the agent console shows it on the ticket
    admin = make_account(system.redis.url, "admin", "admin@senmart.test", "admin")
    sign_in(driver, system.handoff_url, admin, page=f"/console#{ticket['id']}")
    wait(driver).until(lambda b: b.find_element(By.ID, "t-id").text == ticket["id"])
    wait(driver).until(lambda b: b.find_element(By.ID, "t-linked").is_displayed())
    linked = driver.find_element(By.ID, "t-linked")
    assert "Cùng khách hàng trên kênh khác (1)" in linked.text
    assert f"Website · {earlier}" in linked.text
    assert "phí ship bao nhiêu vậy shop" in linked.text
    api(system, "POST", f"/api/tickets/{ticket['id']}/return-to-bot")


def test_a_typed_phone_links_nobody(system, graph, driver, messenger_ticket):
    """Someone typing another customer's phone on Messenger sees nothing of that customer, and the agent
    sees no "same customer" either; a wrongly signed claim verifies nothing."""
    phone = new_phone()
    signed_in_chat(driver, system, "kh-victim")
    chat(driver, f"sdt của mình là {phone}", 0)

    psid = new_psid()
    post(system, delivery([text_event(psid, f"so dien thoai cua minh la {phone} nhe")]))
    assert post(system, delivery([text_event(psid, "cho mình gặp nhân viên")])).status_code == 200
    ticket = messenger_ticket(psid)

    def linked():  # once the event consumer has seen the conversation (its own profile exists)
        body = api(system, "GET", f"/api/tickets/{ticket['id']}/customer-history").json()
        return body if body["profile_id"] else None

    assert wait_for(linked, timeout=15)["conversations"] == []  # the victim's chat is not "the same customer"

    # a forged claim: right id, wrong hash
    driver.get(page_url(system) + "chat/config.json")
    driver.execute_script("localStorage.clear()")
    driver.get(page_url(system) + "#customer_id=kh-victim&customer_hash=" + "0" * 64)
    wait(driver).until(session_id)
    forged = session_id(driver)
    chat(driver, "cho mình gặp nhân viên", 0)
    forged_ticket = wait_for(lambda: open_ticket(system, forged), timeout=30)
    forged_history = api(system, "GET", f"/api/tickets/{forged_ticket['id']}/customer-history").json()
    assert forged_history["conversations"] == []
    api(system, "POST", f"/api/tickets/{forged_ticket['id']}/return-to-bot")


def test_customer_history_of_a_lone_conversation_is_empty_and_unknown_ids_404(system, messenger_ticket):
    psid = new_psid()
    assert post(system, delivery([text_event(psid, "cho mình gặp nhân viên")])).status_code == 200
    ticket = messenger_ticket(psid)

    # the Messenger user id is verified: a profile of its own (linked by the event consumer, so it may
    # come a moment after the ticket), no other conversation in it
    def history():
        body = api(system, "GET", f"/api/tickets/{ticket['id']}/customer-history").json()
        return body if body["profile_id"] else None

    body = wait_for(history, timeout=15)
    assert body["ticket_id"] == ticket["id"] and body["profile_id"].startswith("CP-")
    assert body["conversations"] == []
    assert api(system, "GET", "/api/tickets/KN-20000101-9999/customer-history").status_code == 404
    unauthenticated = requests.get(f"{system.handoff_url}/api/tickets/{ticket['id']}/customer-history")
    assert unauthenticated.status_code == 401
