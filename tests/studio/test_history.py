"""studio.history on the real test Redis: the change log and undo of topic and promotion changes."""

import json

import pytest
import redis.asyncio as aioredis

from studio.content import Conflict, NotFound
from studio.history import HISTORY_KEY, History, NotUndoable, undo
from studio.settings import PROJECT_ROOT

EXAMPLES = [f"mình muốn hỏi về quà tặng số {n} của SenMart" for n in range(12)]


@pytest.fixture()
async def history(redis_server, redis_client):
    client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    yield History(client)
    await client.close()


async def test_entries_newest_first_with_filters(history, redis_client):
    first = await history.record(
        "lan", "topic", "hotline", "update", {"name": "hotline"}, {"name": "hotline"}
    )
    second = await history.record("minh", "promotion", "GIAM10", "create", None, {"code": "GIAM10"})
    third = await history.record("lan", "topic", "zalo_oa", "rename", {"name": "zalo"}, {"name": "zalo_oa"})
    assert set(first) == {"id", "at", "editor", "kind", "target", "action", "before", "after"}
    assert first["at"].endswith("Z") and first["at"][10] == "T"
    entries = await history.entries()
    assert [e["id"] for e in entries] == [third["id"], second["id"], first["id"]]
    assert entries[2] == first
    assert [e["id"] for e in await history.entries(limit=2)] == [third["id"], second["id"]]
    assert [e["id"] for e in await history.entries(target="zalo")] == [third["id"]]
    assert [e["id"] for e in await history.entries(target="GIAM10")] == [second["id"]]
    assert redis_client.type(HISTORY_KEY) == "stream"
    stored = redis_client.xrange(HISTORY_KEY)[0][1]
    assert json.loads(stored["entry"])["editor"] == "lan"
    assert await history.get(second["id"]) == second
    assert await history.get("nope") is None and await history.get("+") is None


async def test_undo_an_update_then_again_is_a_conflict(history, content):
    before = content.get_topic("hotline")
    after = content.update_topic(
        "hotline", before["version"], [{"text": "Gọi 1900 6868 nhé."}], before["examples"]
    )
    entry = await history.record("lan", "topic", "hotline", "update", before, after)
    undone = await undo(history, entry["id"], "minh", content, None)
    assert content.get_topic("hotline") == before
    assert (undone["editor"], undone["action"], undone["undo_of"]) == ("minh", "undo", entry["id"])
    assert (undone["before"], undone["after"]) == (after, before)
    original = (PROJECT_ROOT / "data/nlu/faq/hotline.yml").read_text(encoding="utf-8")
    assert content.path_of("hotline").read_text(encoding="utf-8") == original
    with pytest.raises(Conflict) as caught:
        await undo(history, entry["id"], "minh", content, None)
    assert caught.value.current == before
    assert caught.value.message == (
        "Nội dung đã thay đổi sau lần sửa này nên không hoàn tác được. Vui lòng xem bản hiện tại."
    )


async def test_undo_create_delete_and_rename(history, content):
    created = content.create_topic("qua_tang", [{"text": "Có quà nhé."}], EXAMPLES)
    entry = await history.record("lan", "topic", "qua_tang", "create", None, created)
    await undo(history, entry["id"], "lan", content, None)
    assert not content.exists("qua_tang")

    zalo = content.get_topic("zalo")
    content.delete_topic("zalo", zalo["version"])
    entry = await history.record("lan", "topic", "zalo", "delete", zalo, None)
    await undo(history, entry["id"], "lan", content, None)
    assert content.get_topic("zalo") == zalo

    renamed = content.rename_topic("zalo", zalo["version"], "zalo_oa")
    entry = await history.record("lan", "topic", "zalo_oa", "rename", zalo, renamed)
    await undo(history, entry["id"], "lan", content, None)
    assert content.get_topic("zalo") == zalo and not content.exists("zalo_oa")


async def test_undo_a_promotion_change(history, table):
    before = table.get("GIAM10")
    after = table.update("GIAM10", before["version"], {**before, "percent": 12})
    entry = await history.record("lan", "promotion", "GIAM10", "update", before, after)
    table.update("GIAM10", after["version"], {**after, "cap": 90000})
    with pytest.raises(Conflict) as caught:
        await undo(history, entry["id"], "lan", None, table)
    assert caught.value.current["cap"] == 90000
    table.update("GIAM10", table.get("GIAM10")["version"], after)
    await undo(history, entry["id"], "lan", None, table)
    assert table.get("GIAM10") == before
    original = (PROJECT_ROOT / "data/promotions.yml").read_text(encoding="utf-8")
    assert table.path.read_text(encoding="utf-8") == original


async def test_unknown_and_not_undoable(history, content, table):
    with pytest.raises(NotFound):
        await undo(history, "1-0", "lan", content, table)
    entry = await history.record("lan", "model", "m1", "publish", None, {"id": "m1"})
    with pytest.raises(NotUndoable):
        await undo(history, entry["id"], "lan", content, table)
