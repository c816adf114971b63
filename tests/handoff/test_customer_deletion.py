"""A deletion request removes everything kept about the conversation, and nothing of anyone else's
(the running service on a real Redis)."""

import json
import time

from common.tracker_keys import conversation_keys
from common.webhook_keys import dead_letter_key
from testkit.polling import wait_for

from .conftest import ADMIN_TOKEN

STREAM = "senmart:events"


def seed_conversation(redis, sender, text):
    """What Rasa leaves in Redis for a conversation: tracker keys and stream entries."""
    for key in conversation_keys("senmart", sender):
        redis.rpush(key, json.dumps({"event": "user", "text": text})) if key.endswith(
            f"tracker:{sender}"
        ) else redis.set(key, "0")
    for i in range(3):
        event = {"event": "user", "sender_id": sender, "text": f"{text} {i}", "timestamp": time.time() + i}
        redis.xadd(STREAM, {"data": json.dumps(event, ensure_ascii=False)})


def test_deleting_a_customer_removes_tracker_stream_tickets_inbox_and_profile(api, service_redis):
    redis = service_redis
    seed_conversation(redis, "victim", "tôi bị trừ tiền hai lần")
    seed_conversation(redis, "other", "phí ship bao nhiêu")
    redis.xadd(STREAM, {"data": "not json"})
    for sender in ("victim", "other"):  # a Messenger event whose reply kept failing
        letter = {"sender_id": sender, "event": json.dumps({"message": {"text": "tôi bị trừ tiền hai lần"}})}
        redis.lpush(dead_letter_key("facebook"), json.dumps(letter, ensure_ascii=False))
    transcript = [{"role": "customer", "text": "đơn của tôi bị trừ tiền hai lần", "timestamp": 1.0}]
    ticket_id = api.handoff("victim", reason="money_complaint", transcript=transcript).json()["ticket_id"]
    wait_for(lambda: redis.keys("senmart:studio:inbox:item:*"))  # the opening message fed the inbox (event)

    response = api.agent("DELETE", "/api/customers/victim", ADMIN_TOKEN)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["deleted_tickets"] == [ticket_id]
    # 3 Rasa events and the ticket-opened event (it holds the opening messages)
    assert (report["tracker_keys"], report["stream_entries"]) == (3, 4)
    assert report["inbox_items"] >= 1
    assert report["webhook_dead_letters"] == 1
    [kept] = redis.lrange(dead_letter_key("facebook"), 0, -1)
    assert json.loads(kept)["sender_id"] == "other"
    redis.delete(dead_letter_key("facebook"))  # the check below looks for the victim's words anywhere

    assert not any(redis.exists(k) for k in conversation_keys("senmart", "victim"))
    assert all(redis.exists(k) for k in conversation_keys("senmart", "other"))
    stream = [fields["data"] for _, fields in redis.xrange(STREAM)]
    assert not any("victim" in data for data in stream)
    assert sum("other" in data for data in stream) == 3 and "not json" in stream
    assert not redis.keys("senmart:studio:inbox:item:*")
    assert api.agent("GET", f"/api/tickets/{ticket_id}").status_code == 404
    # nothing personal of the victim left anywhere in Redis (HyperLogLogs hold no text)
    for key in redis.keys("*"):
        kind = redis.type(key)
        if kind == "hash":
            dump = json.dumps(redis.hgetall(key), ensure_ascii=False)
        elif kind == "list":
            dump = json.dumps(redis.lrange(key, 0, -1), ensure_ascii=False)
        elif kind == "set":
            dump = json.dumps(sorted(redis.smembers(key)), ensure_ascii=False)
        else:
            dump = ""
        assert "victim" not in key + dump and "trừ tiền hai lần" not in dump, key
