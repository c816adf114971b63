"""A long conversation on the bounded tracker (bot/tracker_store.py): Rasa works on a window, yet the
handoff transcript the agent gets holds every message, and the tracker API returns every event."""

import json

import redis
import requests

from tests.e2e.test_rest_webhook import new_sender, say, url

AGENT = {"Authorization": "Bearer token-lan"}
MESSAGES = [
    "chào shop",
    "phí ship bao nhiêu vậy",
    "cho mình hỏi mã GIAM50K",
    "đơn 450 nghìn thì sao?",
    "đổi trả trong bao lâu",
    "hoan tien ve vi senpay mat bao lau",
    "quen mat khau thi lam sao",
    "cảm ơn nhé",
]


def test_transcript_of_a_long_conversation_holds_every_message(system):
    sender = new_sender()
    sent = [MESSAGES[turn % len(MESSAGES)] for turn in range(45)]
    for text in sent:
        assert say(system, sender, text), text
    store = redis.Redis(host=system.redis.host, port=system.redis.port, db=system.redis.db)
    window = json.loads(store.get(f"senmart:tracker_window:{sender}"))
    assert window["index"] > 60  # Rasa (and the handoff action) see a window, not the whole conversation
    replies = say(system, sender, "cho mình gặp nhân viên")
    ticket_id = next(m["custom"]["handoff"]["ticket_id"] for m in replies if "custom" in m)
    try:
        ticket = requests.get(f"{system.handoff_url}/api/tickets/{ticket_id}", headers=AGENT, timeout=10)
        assert ticket.status_code == 200, ticket.text
        customer_lines = [m["text"] for m in ticket.json()["transcript"] if m["role"] == "customer"]
        assert customer_lines == [*sent, "cho mình gặp nhân viên"]
        tracker = requests.get(
            url(system, f"/conversations/{sender}/tracker"),
            params={"token": system.rasa_auth_token, "include_events": "ALL"},
            timeout=10,
        ).json()
        assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == [
            *sent,
            "cho mình gặp nhân viên",
        ]
    finally:
        back = requests.post(
            f"{system.handoff_url}/api/tickets/{ticket_id}/return-to-bot", headers=AGENT, timeout=10
        )
        assert back.status_code == 200, back.text
