"""A message the bot could not process is answered and still reaches its conversation."""

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import guard
from bot.channels.guard import APOLOGY, never_silent
from bot.tracker_spool import TurnSpool


async def test_a_failed_turn_is_answered_and_kept_in_the_spool(monkeypatch, tmp_path):
    spool = TurnSpool(tmp_path)
    monkeypatch.setattr(guard, "_spool", lambda: spool)

    async def not_paused(sender_id):
        return False

    monkeypatch.setattr(guard, "_is_paused", not_paused)

    async def broken(message):
        raise ConnectionError("Redis down: no lock")

    output = CollectingOutputChannel()
    await never_silent(broken)(
        UserMessage("đơn của tôi bị trừ tiền 2 lần", output, "c9", input_channel="rest")
    )
    assert [m["text"] for m in output.messages] == [APOLOGY]
    [(sender, events)] = spool.turns()
    assert sender == "c9"
    assert [(e["event"], e["text"]) for e in events] == [
        ("user", "đơn của tôi bị trừ tiền 2 lần"),
        ("bot", APOLOGY),
    ]
    assert events[0]["input_channel"] == "rest"


async def test_a_turn_that_worked_is_not_spooled(monkeypatch, tmp_path):
    spool = TurnSpool(tmp_path)
    monkeypatch.setattr(guard, "_spool", lambda: spool)

    async def answers(message):
        await message.output_channel.send_text_message(message.sender_id, "Chào bạn")

    await never_silent(answers)(UserMessage("chào", CollectingOutputChannel(), "c9"))
    assert spool.turns() == []
