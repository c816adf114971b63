"""The studio's NLG server (POST /internal/nlg and GET /internal/nlg/responses on the real staff service)
and bot.nlg: the studio's responses kept in the process, re-checked, and the model's as the fallback."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from rasa.core.actions.action import ActionRetrieveResponse
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg.generator import NaturalLanguageGenerator
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.nlg import StudioNaturalLanguageGenerator
from bot.services import Process, free_port, wait_until
from bot.settings import PROJECT_ROOT

SERVICE_TOKEN = "nlg-service-token"
SHIPPING = (
    "Phí giao hàng tiêu chuẩn của SenMart là 25.000đ. "
    "Đơn từ 300.000đ được miễn phí giao hàng tiêu chuẩn nhé bạn."
)
GREET = (
    "Xin chào, mình là trợ lý ảo của SenMart. Bạn cần mình hỗ trợ gì ạ? "
    "Bạn có thể hỏi về đơn hàng, giao hàng, đổi trả, thanh toán, ví SenPay, tài khoản, "
    "điểm thưởng hay mã khuyến mãi."
)
EXTRA_RESPONSES = """version: "3.1"
responses:
  utter_test_order:
    - text: "Đơn {order_id} của bạn đang được xử lý."
    - text: "Messenger: đơn {order_id} đang được xử lý."
      channel: facebook
  utter_test_tier:
    - text: "Hạng {member_tier} được ưu đãi riêng."
      condition:
        - type: slot
          name: member_tier
          value: Vàng
    - text: "Bạn chưa có hạng thành viên."
"""


def copy_content(target: Path) -> Path:
    """config.yml, domain.yml and data/ of the project in a temporary directory."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT_ROOT / name, target / name)
    shutil.copytree(PROJECT_ROOT / "data", target / "data")
    return target


def rewrite(path: Path, old: str, new: str) -> None:
    """Replace a text in a content file and make sure its mtime moves."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    before = path.stat().st_mtime_ns
    path.write_text(text.replace(old, new), encoding="utf-8")
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


class Service:
    """`python -m staff` with the studio on a temporary content copy."""

    def __init__(self, redis_url: str, content: Path, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "REDIS_URL": redis_url,
            "HANDOFF_PORT": str(self.port),
            "HANDOFF_ADMIN_TOKEN": "nlg-admin",
            "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
            "HANDOFF_AGENT_TOKENS": "lan:nlg-agent",
            "RASA_URL": "http://127.0.0.1:9",
            "STUDIO_CONTENT_DIR": str(content),
            "STUDIO_MODELS_DIR": str(log_dir / "models"),
            "STUDIO_TOKENS": "hoa:nlg-content",
        }
        self.process = Process("handoff", [sys.executable, "-m", "staff"], log_dir / "handoff.log", env)
        wait_until(lambda: requests.get(self.url + "/health", timeout=1).ok, "handoff", self.process, 30)

    def nlg(self, body, token=SERVICE_TOKEN) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.post(self.url + "/internal/nlg", json=body, headers=headers, timeout=5)


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    directory = copy_content(tmp_path_factory.mktemp("content"))
    (directory / "data" / "test_nlg.yml").write_text(EXTRA_RESPONSES, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def service(redis_server, content, tmp_path_factory):
    running = Service(
        f"redis://{redis_server.host}:{redis_server.port}/3", content, tmp_path_factory.mktemp("log")
    )
    yield running
    running.process.stop()


def body(response: str, slots=None, channel: str = "rest", **extra):
    return {
        "response": response,
        "arguments": extra.pop("arguments", {}),
        "tracker": {"sender_id": "c1", "slots": slots or {}, "events": []},
        "channel": {"name": channel},
        **extra,
    }


# -- the server ------------------------------------------------------------------------------------
def test_domain_response_with_buttons(service):
    answer = service.nlg(body("utter_greet"))
    assert answer.status_code == 200
    assert answer.json()["text"] == GREET
    assert answer.json()["buttons"] == [
        {"title": "Phí giao hàng", "payload": "Phí giao hàng bao nhiêu?"},
        {"title": "Đổi trả hàng", "payload": "Chính sách đổi trả thế nào?"},
        {"title": "Khuyến mãi đang có", "payload": "Đang có mã khuyến mãi nào?"},
    ]


def test_faq_answer_from_the_topic_file(service):
    answer = service.nlg(body("utter_faq/shipping_fee"))
    assert answer.status_code == 200
    assert answer.json() == {"text": SHIPPING}


def answer_within(service, name: str, expected: dict, seconds: float) -> float:
    """Seconds until the server answers `expected` for `name` (fails after `seconds`)."""
    started = time.monotonic()
    while True:
        answer = service.nlg(body(name)).json()
        if answer == expected:
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, answer
        time.sleep(0.05)


def test_a_file_edited_outside_the_studio_is_live_within_the_recheck_interval(service, content):
    path = content / "data" / "nlu" / "faq" / "shipping_fee.yml"
    assert service.nlg(body("utter_faq/shipping_fee")).json() == {"text": SHIPPING}
    rewrite(path, "25.000đ", "27.000đ")
    try:
        answer_within(
            service, "utter_faq/shipping_fee", {"text": SHIPPING.replace("25.000đ", "27.000đ")}, 2.5
        )
    finally:
        rewrite(path, "27.000đ", "25.000đ")
    answer_within(service, "utter_faq/shipping_fee", {"text": SHIPPING}, 2.5)


def test_response_book_rereads_at_once_after_a_studio_write_and_else_after_the_interval(tmp_path):
    from studio.content import write_atomic
    from studio.nlg_server import ResponseBook

    (tmp_path / "domain.yml").write_text('responses:\n  utter_a:\n    - text: "một"\n', encoding="utf-8")
    book = ResponseBook(tmp_path, recheck_seconds=3600)
    assert book.responses() == {"utter_a": [{"text": "một"}]}
    rewrite(tmp_path / "domain.yml", "một", "hai")  # outside the studio: not looked at for an hour
    assert book.responses() == {"utter_a": [{"text": "một"}]}
    assert book.reloads == 1
    write_atomic(tmp_path / "domain.yml", 'responses:\n  utter_a:\n    - text: "ba"\n')  # the studio
    assert book.responses() == {"utter_a": [{"text": "ba"}]}
    assert book.reloads == 2
    book.recheck_seconds = 0
    rewrite(tmp_path / "domain.yml", "ba", "bốn")
    assert book.responses() == {"utter_a": [{"text": "bốn"}]}


def test_slots_and_arguments_fill_placeholders(service):
    answer = service.nlg(body("utter_test_order", slots={"order_id": "SM12345678"}))
    assert answer.json()["text"] == "Đơn SM12345678 của bạn đang được xử lý."
    # an argument (what an action passes with response=) wins over the slot, as in Rasa's templated NLG
    answer = service.nlg(body("utter_test_order", slots={"order_id": "SM1"}, arguments={"order_id": "SM2"}))
    assert answer.json()["text"] == "Đơn SM2 của bạn đang được xử lý."


def test_channel_specific_variation(service):
    answer = service.nlg(body("utter_test_order", slots={"order_id": "SM1"}, channel="facebook"))
    assert answer.json() == {"text": "Messenger: đơn SM1 đang được xử lý.", "channel": "facebook"}
    answer = service.nlg(body("utter_test_order", slots={"order_id": "SM1"}, channel="socketio"))
    assert answer.json() == {"text": "Đơn SM1 của bạn đang được xử lý."}


def test_conditional_variation(service):
    gold = service.nlg(body("utter_test_tier", slots={"member_tier": "Vàng"})).json()
    assert gold["text"] == "Hạng Vàng được ưu đãi riêng."
    none = service.nlg(body("utter_test_tier", slots={"member_tier": None})).json()
    assert none == {"text": "Bạn chưa có hạng thành viên."}


def test_unknown_response_is_404_no_response(service):
    answer = service.nlg(body("utter_faq/no_such_topic"))
    assert answer.status_code == 404
    assert answer.json()["error"] == "no_response"
    assert answer.json()["response"] == "utter_faq/no_such_topic"


def test_service_token_required(service):
    assert service.nlg(body("utter_greet"), token=None).status_code == 401
    assert service.nlg(body("utter_greet"), token="nlg-content").status_code == 403  # a person's token


def test_malformed_requests(service):
    assert service.nlg({"arguments": {}}).status_code == 422
    assert service.nlg({"arguments": {}}).json()["problems"] == [
        {"field": "response", "message": "Thiếu tên câu trả lời (response)."}
    ]
    broken = requests.post(
        service.url + "/internal/nlg",
        data=b"{not json",
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=5,
    )
    assert broken.status_code == 400
    assert broken.json()["error"] == "invalid_json"


# -- bot.nlg against the real server, and its fallback ---------------------------------------------
MODEL_RESPONSES = {
    "utter_greet": [{"text": "model greeting"}],
    "utter_faq/shipping_fee": [{"text": "model shipping answer"}],
    "utter_faq/gone_topic": [{"text": "model answer of a deleted topic"}],
}


def generator(url: str, **kwargs) -> StudioNaturalLanguageGenerator:
    config = EndpointConfig(url=url, headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}, **kwargs)
    nlg = StudioNaturalLanguageGenerator(endpoint_config=config, domain=Domain.empty())
    nlg.responses = dict(MODEL_RESPONSES)  # what Agent.load_model sets from the loaded model's domain
    return nlg


def tracker(**slots) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("c1", [SlotSet(k, v) for k, v in slots.items()])


def endpoints_env(monkeypatch) -> None:
    """Every ${VAR} of endpoints.yml set (Rasa refuses to read the file otherwise)."""
    for name in re.findall(r"\$\{(\w+)\}", (PROJECT_ROOT / "endpoints.yml").read_text()):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("HANDOFF_URL", "http://127.0.0.1:8000")
    monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", "tok-123")


def test_endpoints_yml_builds_it_with_the_token_header(monkeypatch):
    endpoints_env(monkeypatch)
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "nlg")
    nlg = NaturalLanguageGenerator.create(config, None)
    assert type(nlg) is StudioNaturalLanguageGenerator
    # Agent.load_model refreshes .responses only on this class (the fallback follows model swaps)
    assert isinstance(nlg, TemplatedNaturalLanguageGenerator)
    assert nlg.endpoint.url == "http://127.0.0.1:8000/internal/nlg"
    assert nlg.endpoint.headers == {"Authorization": "Bearer tok-123"}
    assert nlg.responses_url == "http://127.0.0.1:8000/internal/nlg/responses"
    assert (nlg.timeout, nlg.retry_after, nlg.refresh_seconds) == (1.5, 5.0, 1.0)


def test_the_responses_come_with_a_version_and_304_while_unchanged(service, content):
    auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    url = service.url + "/internal/nlg/responses"
    assert requests.get(url, timeout=5).status_code == 401
    first = requests.get(url, headers=auth, timeout=5)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag == f'"{first.json()["version"]}"'
    assert first.json()["responses"]["utter_faq/shipping_fee"] == [{"text": SHIPPING}]
    assert first.json()["responses"]["utter_test_tier"][0]["condition"][0]["value"] == "Vàng"
    again = requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=5)
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", etag)
    path = content / "data" / "nlu" / "faq" / "shipping_fee.yml"
    rewrite(path, "25.000đ", "28.000đ")
    try:
        deadline = time.monotonic() + 2.5
        while (
            changed := requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=5)
        ).status_code == 304:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert changed.status_code == 200 and changed.headers["ETag"] != etag
        assert changed.json()["responses"]["utter_faq/shipping_fee"] == [
            {"text": SHIPPING.replace("25.000đ", "28.000đ")}
        ]
    finally:
        rewrite(path, "28.000đ", "25.000đ")
    answer_within(service, "utter_faq/shipping_fee", {"text": SHIPPING}, 2.5)


async def test_answers_come_from_the_server(service):
    nlg = generator(service.url + "/internal/nlg")
    message = await nlg.generate(
        "utter_faq/shipping_fee", tracker(), "rest", domain_responses=MODEL_RESPONSES
    )
    assert message == {"text": SHIPPING}
    assert (nlg.studio_answers, nlg.fallbacks, nlg.fetches) == (1, 0, 1)
    # slots, channel variations and conditions are filled in the bot, as the server would
    assert await nlg.generate("utter_test_order", tracker(order_id="SM7"), "facebook") == {
        "text": "Messenger: đơn SM7 đang được xử lý.",
        "channel": "facebook",
    }
    assert (await nlg.generate("utter_test_tier", tracker(member_tier="Vàng"), "rest"))["text"] == (
        "Hạng Vàng được ưu đãi riêng."
    )
    assert (nlg.studio_answers, nlg.fetches) == (3, 1)  # within refresh_seconds: no request


async def test_every_message_equals_the_servers_answer(service):
    """The bot's own rendering and the server's POST /internal/nlg give the same message."""
    nlg = generator(service.url + "/internal/nlg")
    cases = [
        ("utter_test_order", {"order_id": "SM1"}, "rest"),
        ("utter_test_order", {"order_id": "SM1"}, "facebook"),
        ("utter_test_tier", {"member_tier": "Vàng"}, "rest"),
        ("utter_test_tier", {}, "rest"),
        ("utter_greet", {}, "socketio"),
        ("utter_faq/shipping_fee", {}, "rest"),
    ]
    for name, slots, channel in cases:
        ours = await nlg.generate(name, tracker(**slots), channel)
        assert ours == service.nlg(body(name, slots, channel)).json(), name


async def test_an_edit_is_seen_within_the_refresh_interval_with_one_request_a_check(service, content):
    nlg = generator(service.url + "/internal/nlg", refresh_seconds=0.2)
    assert (await nlg.generate("utter_faq/shipping_fee", tracker(), "rest"))["text"] == SHIPPING
    path = content / "data" / "nlu" / "faq" / "shipping_fee.yml"
    rewrite(path, "25.000đ", "29.000đ")
    try:
        started = time.monotonic()
        while (await nlg.generate("utter_faq/shipping_fee", tracker(), "rest"))["text"] == SHIPPING:
            assert time.monotonic() - started < 2.5
            await asyncio.sleep(0.02)
    finally:
        rewrite(path, "29.000đ", "25.000đ")
    seconds = time.monotonic() - started
    answer_within(service, "utter_faq/shipping_fee", {"text": SHIPPING}, 2.5)
    # the server re-reads files within 1 s, the bot re-checks every 0.2 s; far fewer requests than messages
    assert seconds < 1.5
    assert nlg.fetches <= seconds / 0.2 + 2 and nlg.studio_answers > nlg.fetches


async def test_faq_answers_go_through_it(service, content):
    """ActionRetrieveResponse resolves utter_faq to utter_faq/<topic> and asks the NLG for it."""
    path = content / "data" / "nlu" / "faq" / "shipping_fee.yml"
    rewrite(path, "25.000đ", "26.000đ")
    try:
        answer_within(
            service, "utter_faq/shipping_fee", {"text": SHIPPING.replace("25.000đ", "26.000đ")}, 2.5
        )
        parse = {
            "intent": {"name": "faq", "confidence": 0.99},
            "response_selector": {
                "faq": {
                    "response": {
                        "utter_action": "utter_faq/shipping_fee",
                        "intent_response_key": "faq/shipping_fee",
                    }
                }
            },
        }
        state = DialogueStateTracker.from_events("c1", [UserUttered("phí ship bao nhiêu", parse_data=parse)])
        nlg = generator(service.url + "/internal/nlg")
        events = await ActionRetrieveResponse("utter_faq").run(
            CollectingOutputChannel(), nlg, state, Domain.empty()
        )
    finally:
        rewrite(path, "26.000đ", "25.000đ")
    assert len(events) == 1 and isinstance(events[0], BotUttered)
    assert events[0].text == SHIPPING.replace("25.000đ", "26.000đ")
    assert events[0].metadata["utter_action"] == "utter_faq/shipping_fee"


async def test_unknown_on_the_server_falls_back_quietly(service, caplog):
    nlg = generator(service.url + "/internal/nlg")
    with caplog.at_level(logging.WARNING, logger="bot.nlg"):
        message = await nlg.generate("utter_faq/gone_topic", tracker(), "rest")
    assert message["text"] == "model answer of a deleted topic"
    assert [r for r in caplog.records if r.name == "bot.nlg"] == []
    assert nlg.fallbacks == 1


async def test_server_down_falls_back_with_a_warning(caplog):
    nlg = generator(f"http://127.0.0.1:{free_port()}/internal/nlg")
    with caplog.at_level(logging.WARNING, logger="bot.nlg"):
        message = await nlg.generate("utter_greet", tracker(), "rest")
    assert message["text"] == "model greeting"
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.nlg"]
    assert len(warnings) == 1 and "answering with the model's responses" in warnings[0]


class SlowServer:
    """Answers every request after `delay` seconds (a hung NLG server) with `status` and `payload`;
    counts requests."""

    def __init__(self, delay: float, status: int = 200, payload: bytes = b'{"text": "too late"}') -> None:
        self.hits = 0
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits += 1
                time.sleep(delay)
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/internal/nlg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_slow_server_times_out_then_is_skipped(caplog):
    slow = SlowServer(delay=3.0)
    try:
        nlg = generator(slow.url, timeout=0.3, retry_after=30)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="bot.nlg"):
            first = await nlg.generate("utter_greet", tracker(), "rest")
        first_seconds = time.monotonic() - started
        started = time.monotonic()
        second = await nlg.generate("utter_faq/shipping_fee", tracker(), "rest")
        second_seconds = time.monotonic() - started
    finally:
        slow.close()
    assert first["text"] == "model greeting" and second["text"] == "model shipping answer"
    assert 0.25 <= first_seconds < 1.0
    assert second_seconds < 0.05  # within retry_after: the server is not asked again
    assert slow.hits == 1
    # (records of other loggers may come first, e.g. asyncio on an earlier test's keep-alive session)
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.nlg"]
    assert len(warnings) == 1 and "no answer within 0.3s" in warnings[0]


async def test_server_error_and_invalid_answers_fall_back():
    for status, payload in [
        (500, b'{"error": "boom"}'),
        (200, b'{"text": "not a set of responses"}'),
        (200, b'{"responses": {"utter_greet": [{"text": 5}]}}'),
        (200, b"not json"),
    ]:
        failing = SlowServer(delay=0, status=status, payload=payload)
        try:
            nlg = generator(failing.url, retry_after=0)
            assert (await nlg.generate("utter_greet", tracker(), "rest"))["text"] == "model greeting"
        finally:
            failing.close()
        assert (nlg.studio_answers, nlg.fallbacks, nlg.studio) == (0, 1, None), payload


async def test_the_last_responses_stay_when_the_server_fails_later(caplog):
    server = SlowServer(delay=0, payload=b'{"responses": {"utter_greet": [{"text": "studio greeting"}]}}')
    try:
        nlg = generator(server.url, refresh_seconds=0, retry_after=30)
        assert (await nlg.generate("utter_greet", tracker(), "rest"))["text"] == "studio greeting"
        server.status = 503
        with caplog.at_level(logging.WARNING, logger="bot.nlg"):
            assert (await nlg.generate("utter_greet", tracker(), "rest"))["text"] == "studio greeting"
            assert (await nlg.generate("utter_greet", tracker(), "rest"))["text"] == "studio greeting"
    finally:
        server.close()
    assert server.hits == 2  # after the failure: not asked again within retry_after
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.nlg"]
    assert len(warnings) == 1 and "HTTP 503" in warnings[0] and "the responses it gave last" in warnings[0]


async def test_model_fallback_fills_slots_like_rasa():
    nlg = generator(f"http://127.0.0.1:{free_port()}/x")
    nlg.responses = {"utter_x": [{"text": "đơn {order_id}"}]}
    assert (await nlg.generate("utter_x", tracker(order_id="SM9"), "rest")) == {"text": "đơn SM9"}


def test_project_content_has_every_domain_response_on_the_server():
    """What the server reads from the project equals the responses Rasa's importer puts in the domain."""
    from rasa.shared.importers.importer import TrainingDataImporter

    from studio.nlg_server import ResponseBook

    importer = TrainingDataImporter.load_from_config(
        str(PROJECT_ROOT / "config.yml"), str(PROJECT_ROOT / "domain.yml"), [str(PROJECT_ROOT / "data")]
    )
    rasa_responses = importer.get_domain().responses
    ours = ResponseBook(PROJECT_ROOT).responses()
    assert set(ours) == set(rasa_responses)
    for name, variations in rasa_responses.items():
        assert [v.get("text") for v in ours[name]] == [v.get("text") for v in variations], name
    assert len([n for n in ours if n.startswith("utter_faq/")]) == len(
        list((PROJECT_ROOT / "data/nlu/faq").glob("*.yml"))
    )
