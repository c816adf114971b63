"""Full handoff round trip with the real services: a socket.io customer and an agent on the HTTP API."""

import queue
import uuid

import requests

from testkit.polling import wait_for
from testkit.socket_client import customer_client, start_session

AGENT = {"Authorization": "Bearer token-lan"}


class Customer:
    """A website customer on Rasa's socket.io channel."""

    def __init__(self, system):
        self.inbox: "queue.Queue[dict]" = queue.Queue()
        self.client = customer_client()
        self.client.on("bot_uttered", lambda data: self.inbox.put(data))
        self.client.connect(system.rasa_url, transports=["websocket"])
        self.session_id = start_session(self.client)

    def say(self, text):
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def receive(self, timeout=30.0):
        return self.inbox.get(timeout=timeout)

    def receive_all(self, quiet=1.5, first_timeout=30.0):
        """Messages until nothing arrives for `quiet` seconds."""
        messages = [self.receive(first_timeout)]
        while True:
            try:
                messages.append(self.inbox.get(timeout=quiet))
            except queue.Empty:
                return messages

    def close(self):
        self.client.disconnect()


def api(system, method, path, **kwargs):
    kwargs.setdefault("headers", AGENT)
    return requests.request(method, system.handoff_url + path, timeout=15, **kwargs)


def test_full_round_trip(system):
    customer = Customer(system)
    # other tests share this system: their tickets still waiting are ahead of this customer
    waiting = api(system, "GET", "/api/tickets", params={"status": "open"}).json()["tickets"]
    try:
        customer.say("phí ship bao nhiêu vậy")
        assert "25.000đ" in customer.receive()["text"]

        customer.say("cho mình gặp nhân viên")
        replies = customer.receive_all()
        texts = [m.get("text", "") for m in replies if m.get("text")]
        payloads = [m["custom"]["handoff"] for m in replies if "handoff" in (m.get("custom") or {})]
        assert len(payloads) == 1
        handoff = payloads[0]
        ticket_id = handoff["ticket_id"]
        assert ticket_id.startswith("KN-") and len(ticket_id) == len("KN-20261123-0001")
        ahead = [(t["sender_id"], t["reason"]) for t in waiting]
        assert handoff["queue_position"] == len(waiting) + 1, ahead
        assert handoff["estimated_wait_minutes"] >= 0
        assert any(ticket_id in t for t in texts)

        ticket = api(system, "GET", f"/api/tickets/{ticket_id}").json()
        roles_texts = [(m["role"], m["text"]) for m in ticket["transcript"]]
        assert roles_texts[0] == ("customer", "phí ship bao nhiêu vậy")
        assert roles_texts[1][0] == "bot" and "25.000đ" in roles_texts[1][1]
        assert ("customer", "cho mình gặp nhân viên") in roles_texts
        assert all(m["timestamp"] for m in ticket["transcript"])
        assert ticket["reason"] == "request_human" and ticket["channel"] == "socketio"

        # while the ticket is open the bot is silent; the message reaches the transcript
        customer.say("đơn SM12345678 của mình bị giao thiếu <b>1 món</b>")
        wait_for(
            lambda: any(
                m["text"] == "đơn SM12345678 của mình bị giao thiếu <b>1 món</b>"
                for m in api(system, "GET", f"/api/tickets/{ticket_id}").json()["transcript"]
            )
        )
        try:
            unexpected = customer.inbox.get(timeout=2)
            raise AssertionError(f"bot spoke during handoff: {unexpected}")
        except queue.Empty:
            pass

        assert api(system, "POST", f"/api/tickets/{ticket_id}/claim").status_code == 200
        other = {"Authorization": "Bearer token-minh"}
        assert (
            api(
                system, "POST", f"/api/tickets/{ticket_id}/messages", headers=other, json={"text": "x"}
            ).status_code
            == 403
        )
        sent = api(
            system,
            "POST",
            f"/api/tickets/{ticket_id}/messages",
            json={"text": "Chào bạn, mình là Lan. Mình kiểm tra đơn ngay nhé."},
        )
        assert sent.status_code == 200, sent.text
        agent_message = customer.receive(timeout=10)
        assert agent_message["text"] == "Chào bạn, mình là Lan. Mình kiểm tra đơn ngay nhé."

        assert api(system, "POST", f"/api/tickets/{ticket_id}/resolve").status_code == 200
        csat_question = customer.receive_all()
        assert any("1 đến 5 sao" in (m.get("text") or "") for m in csat_question), csat_question
        customer.say('/give_rating{"rating": 5}')
        assert "góp ý" in customer.receive()["text"]
        customer.say("Nhân viên hỗ trợ rất nhiệt tình")
        assert customer.receive()["text"].startswith("Cảm ơn bạn đã đánh giá 5 sao.")

        final = wait_for(
            lambda: (lambda t: t if t["csat"]["rating"] == 5 else None)(
                api(system, "GET", f"/api/tickets/{ticket_id}").json()
            )
        )
        assert final["csat"]["comment"] == "Nhân viên hỗ trợ rất nhiệt tình"
        texts = [m["text"] for m in final["transcript"]]
        assert "Chào bạn, mình là Lan. Mình kiểm tra đơn ngay nhé." in texts

        tracker = requests.get(
            f"{system.rasa_url}/conversations/{customer.session_id}/tracker",
            params={"token": system.rasa_auth_token},
            timeout=10,
        ).json()
        bot_texts = [e.get("text") for e in tracker["events"] if e["event"] == "bot"]
        assert "Chào bạn, mình là Lan. Mình kiểm tra đơn ngay nhé." in bot_texts
    finally:
        customer.close()


def test_return_to_bot_and_status_lookup(system):
    customer = Customer(system)
    try:
        customer.say("mình bị trừ tiền hai lần cho một đơn hàng")
        replies = customer.receive_all()
        ticket_id = next(m["custom"]["handoff"]["ticket_id"] for m in replies if "custom" in m)
        ticket = api(system, "GET", f"/api/tickets/{ticket_id}").json()
        assert ticket["reason"] == "money_complaint" and ticket["priority"] >= 4

        assert api(system, "POST", f"/api/tickets/{ticket_id}/return-to-bot").status_code == 200
        customer.receive_all()  # the bot announces it is back
        customer.say("phí ship bao nhiêu")
        assert "25.000đ" in customer.receive()["text"]

        customer.say(f"kiểm tra khiếu nại {ticket_id}")
        status = customer.receive()["text"]
        assert ticket_id in status and "Đã đóng" in status
        customer.say("kiểm tra khiếu nại KN-20200101-9999")
        assert "không tìm thấy" in customer.receive()["text"]
    finally:
        customer.close()


def test_handoff_service_down_gives_hotline(system):
    handoff = next(p for p in system.processes if p.name == "handoff")
    handoff.kill()
    try:
        reply = requests.post(
            f"{system.rasa_url}/webhooks/rest/webhook",
            json={"sender": uuid.uuid4().hex, "message": "cho gặp nhân viên"},
            timeout=30,
        ).json()
        assert any("1900 6868" in (m.get("text") or "") for m in reply)
    finally:
        system.processes.remove(handoff)
        system.start_handoff()


def test_action_server_down_gives_apology(system):
    actions = next(p for p in system.processes if p.name == "actions")
    actions.kill()
    try:
        reply = requests.post(
            f"{system.rasa_url}/webhooks/rest/webhook",
            json={"sender": uuid.uuid4().hex, "message": "mã GIAM50K dùng thế nào"},
            timeout=30,
        ).json()
        assert len(reply) == 1 and "1900 6868" in reply[0]["text"]
    finally:
        system.processes.remove(actions)
        system.start_action_server()
