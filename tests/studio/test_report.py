"""The report: evaluation of the live model (accuracy and selective answering) + per-day handoff rate
and inbox volume, exact numbers; the API on the real service (fed through Rasa's event stream) and
`python -m studio.report`."""

import json
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import redis
import redis.asyncio as aioredis

from handoff.settings import PROJECT_ROOT
from studio.inbox import Inbox
from studio.report import NO_SELECTIVE, assemble, build_report, percent, render_html, render_text
from studio.settings import StudioSettings

from .inbox_service import INBOX_DB, StudioService, fresh_data

T0 = 1795489200.0  # 2026-11-24 10:00 in Vietnam
DAY = 86400.0
VIETNAM = timezone(timedelta(hours=7))
EVALUATION = {
    "accuracy": 0.9,
    "n": 20,
    "per_topic": [
        {"topic": "faq/shipping_fee", "accuracy": 1.0, "n": 10},
        {"topic": "faq/refund_time", "accuracy": 0.75, "n": 8},
        {"topic": "greet", "accuracy": 1.0, "n": 2},
    ],
    "confusions": [
        {"expected": "faq/refund_time", "predicted": "faq/refund_cod", "count": 1},
        {"expected": "faq/refund_time", "predicted": "faq/return_policy", "count": 1},
    ],
}
SELECTIVE = {
    "thresholds": {"intent_confidence": 0.5, "margin": 0.05, "confidence": 0.0, "coverage": 0.0},
    "n": 500,
    "answerable": {
        "n": 380,
        "accuracy": 0.9237,
        "correct": 351,
        "wrong": 21,
        "deflected": 8,
        "deflected_rate": 0.0211,
    },
    "unanswerable": {"n": 80, "wrong": 3, "wrong_answer_rate": 0.0375, "deflected": 77},
    "human_request": {"n": 40, "handoff": 39, "handoff_rate": 0.975},
    "risk_coverage": [
        {"bar": 1.0, "coverage": 0.76, "risk": 0.05, "answered": 350, "wrong": 17},
        {"bar": 0.0, "coverage": 0.9, "risk": 0.12, "answered": 414, "wrong": 50},
        {"bar": 2.0, "coverage": 0.4, "risk": 0.01, "answered": 184, "wrong": 2},
    ],
    "groups": {"unanswerable_test": {"n": 40, "wrong": 1}},
}
SELECTIVE_VIEW = {
    "thresholds": SELECTIVE["thresholds"],
    "answerable": {"n": 380, "accuracy": 0.9237, "deflected": 8, "deflected_rate": 0.0211},
    "unanswerable": {"n": 80, "wrong": 3, "wrong_answer_rate": 0.0375},
    "human_request": {"n": 40, "handoff": 39, "handoff_rate": 0.975},
    "risk_coverage": [  # by bar
        {"bar": 0.0, "coverage": 0.9, "risk": 0.12, "answered": 414, "wrong": 50},
        {"bar": 1.0, "coverage": 0.76, "risk": 0.05, "answered": 350, "wrong": 17},
        {"bar": 2.0, "coverage": 0.4, "risk": 0.01, "answered": 184, "wrong": 2},
    ],
}
NO_REASONS = {
    "request_human": 0,
    "anger": 0,
    "money_complaint": 0,
    "low_confidence": 0,
    "account_security": 0,
    "partnership": 0,
    "other": 0,
}


def write_registry(models_dir, evaluation=EVALUATION, eval_file="m2.eval.json"):
    models_dir.mkdir(parents=True, exist_ok=True)
    (models_dir / eval_file).write_text(json.dumps(evaluation), encoding="utf-8")
    registry = {
        "current": "m2",
        "models": [
            {"id": "m1", "eval_file": None},
            {"id": "m2", "eval_file": str(models_dir / eval_file), "path": str(models_dir / "m2.tar.gz")},
        ],
    }
    (models_dir / "registry.json").write_text(json.dumps(registry), encoding="utf-8")


async def seed(inbox, base):
    """Day 1: 4 conversations, 1 handoff (anger); day 2: 2 conversations, 2 handoffs, 3 inbox messages."""
    for sender in "abcd":
        await inbox.count_conversation(sender, base)
    await inbox.record_handoff("a", "anger", [], created_at=base)
    for sender in "ef":
        await inbox.count_conversation(sender, base + DAY)
    await inbox.record_handoff("e", "request_human", [], created_at=base + DAY)
    await inbox.record_handoff("f", "low_confidence", [], created_at=base + DAY)
    for text in ("câu một", "câu hai", "câu một"):
        await inbox.record(text, "low_confidence", base + DAY)


async def test_report_numbers(aredis, tmp_path):
    settings = StudioSettings(content_dir=tmp_path, models_dir=tmp_path / "models")
    inbox = Inbox(aredis, clock=lambda: T0 + DAY)
    await seed(inbox, T0)
    empty = await build_report(inbox, settings, days=3, today=date(2026, 11, 25))
    assert empty["evaluation"] is None
    assert empty["message"].startswith("Chưa có đánh giá")
    assert (empty["per_topic"], empty["confusions"]) == ([], [])

    write_registry(settings.models_dir)
    report = await build_report(inbox, settings, days=3, today=date(2026, 11, 25))
    assert report == {
        "evaluation": {"model": "m2", "accuracy": 0.9, "n": 20},
        "message": None,
        "per_topic": [
            {"topic": "faq/refund_time", "accuracy": 0.75, "n": 8},
            {"topic": "faq/shipping_fee", "accuracy": 1.0, "n": 10},
            {"topic": "greet", "accuracy": 1.0, "n": 2},
        ],
        "confusions": EVALUATION["confusions"],
        "selective": None,
        "handoffs_by_day": [
            {
                "day": "2026-11-23",
                "reason": NO_REASONS,
                "conversations": 0,
                "handoffs": 0,
                "rate": None,
                "rate_by_reason": {reason: None for reason in NO_REASONS},
            },
            {
                "day": "2026-11-24",
                "reason": {**NO_REASONS, "anger": 1},
                "conversations": 4,
                "handoffs": 1,
                "rate": 0.25,
                "rate_by_reason": {**{r: 0.0 for r in NO_REASONS}, "anger": 0.25},
            },
            {
                "day": "2026-11-25",
                "reason": {**NO_REASONS, "request_human": 1, "low_confidence": 1},
                "conversations": 2,
                "handoffs": 2,
                "rate": 1.0,
                "rate_by_reason": {
                    **{r: 0.0 for r in NO_REASONS},
                    "request_human": 0.5,
                    "low_confidence": 0.5,
                },
            },
        ],
        "inbox_by_day": [
            {"day": "2026-11-23", "count": 0},
            {"day": "2026-11-24", "count": 0},
            {"day": "2026-11-25", "count": 3},
        ],
    }
    # the brief's map form of per_topic gives the same rows
    mapped = {
        **EVALUATION,
        "per_topic": {r["topic"]: {"accuracy": r["accuracy"], "n": r["n"]} for r in EVALUATION["per_topic"]},
    }
    assert assemble(mapped, [])["per_topic"] == report["per_topic"]

    text = render_text(report)
    assert "   Mô hình m2: 90,0% trên 20 câu\n" in text
    assert "   faq/refund_time   ███████████████░░░░░   75,0%  (8 câu)\n" in text
    assert "   faq/refund_time → faq/refund_cod: 1 lần\n" in text
    assert "   2026-11-24  █████░░░░░░░░░░░░░░░   25,0%  (1/4)  anger 1\n" in text
    assert "   2026-11-25  ████████████████████  100,0%  (2/2)  request_human 1, low_confidence 1\n" in text
    assert "   2026-11-23  ░░░░░░░░░░░░░░░░░░░░       –  (0/0)\n" in text
    assert "   2026-11-25  ████████████████████  3\n" in text
    assert f"   {NO_SELECTIVE}\n" in text  # an evaluation from before the selective figures
    page = render_html(report)
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert page.count("<svg") == 3 and "faq/refund_time (8)" in page and "75,0%" in page
    assert percent(0.9644) == "96,4%" and percent(None) == "–"


def test_report_selective_figures():
    report = assemble({**EVALUATION, "selective": SELECTIVE, "model": "m2"}, [])
    assert report["selective"] == SELECTIVE_VIEW
    text = render_text(report)
    assert "2. Khi nào bot trả lời (mọi bộ câu đánh giá, ngưỡng của config.yml)\n" in text
    assert (
        "   Câu hỏi bot có câu trả lời: trả lời đúng 92,4%, "
        "hỏi lại hoặc chuyển nhân viên 2,1% (trên 380 câu)\n" in text
    )
    assert "   Câu hỏi ngoài kiến thức bị trả lời sai: 3,8% (3/80 câu)\n" in text
    assert "   Yêu cầu gặp nhân viên được chuyển ngay: 97,5% (39/40 câu)\n" in text
    assert "   ngưỡng ×1,00  trả lời  76,0%  sai   5,0%  (17/350)  ← ngưỡng đang dùng\n" in text
    assert "   ngưỡng ×0,00  trả lời  90,0%  sai  12,0%  (50/414)\n" in text
    assert "3. Tỉ lệ chuyển cho nhân viên theo ngày" in text and "4. Số câu vào hộp" in text
    page = render_html(report)
    assert "<script" not in page and "<style>" in page
    assert page.count("<svg") == 4 and page.count("<circle") == 3
    assert "<p>Câu hỏi ngoài kiến thức bị trả lời sai: 3,8% (3/80 câu)</p>" in page
    assert 'fill="#c62828"><title>ngưỡng ×1: trả lời 76,0%, sai 5,0% (17/350)</title>' in page

    # sets not written yet: said, not shown as 0 %
    empty = {**SELECTIVE, "unanswerable": {"n": 0, "wrong": 0, "wrong_answer_rate": 0.0, "deflected": 0}}
    text = render_text(assemble({**EVALUATION, "selective": empty}, []))
    assert "   Câu hỏi ngoài kiến thức bị trả lời sai: (chưa có bộ câu này)\n" in text
    # malformed values never break the report
    odd = {**EVALUATION, "selective": {"answerable": "x", "risk_coverage": [{"bar": "1"}, None]}}
    view = assemble(odd, [])["selective"]
    assert view["answerable"] == {"n": 0, "accuracy": None, "deflected": 0, "deflected_rate": None}
    assert view["risk_coverage"] == [{"bar": 0.0, "coverage": 0.0, "risk": 0.0, "answered": 0, "wrong": 0}]
    render_text(assemble(odd, []))
    render_html(assemble(odd, []))


def today_local():
    return datetime.now(VIETNAM).date()


def test_cli_prints_the_report_and_writes_html(redis_server, tmp_path):
    client = redis.Redis(host=redis_server.host, port=redis_server.port, db=INBOX_DB + 1)
    client.flushdb()
    url = f"redis://{redis_server.host}:{redis_server.port}/{INBOX_DB + 1}"

    async def fill():
        aclient = aioredis.Redis.from_url(url, decode_responses=True)
        now = time.time()
        inbox = Inbox(aclient)
        for sender in "abcdefgh":
            await inbox.count_conversation(sender, now)
        await inbox.record_handoff("a", "money_complaint", [], created_at=now)
        await inbox.record_handoff("b", "money_complaint", [], created_at=now)
        await inbox.record("ủa là sao", "low_confidence", now)
        await aclient.close()

    import asyncio

    asyncio.run(fill())
    models = tmp_path / "models"
    write_registry(models)
    page = tmp_path / "out" / "report.html"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(PROJECT_ROOT),
        "STUDIO_MODELS_DIR": str(models),
    }
    command = [
        sys.executable,
        "-m",
        "studio.report",
        "--redis-url",
        url,
        "--days",
        "2",
        "--html",
        str(page),
        "--no-evaluate",
    ]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    today = today_local()
    yesterday = today - timedelta(days=1)
    assert result.stdout.splitlines()[0] == "BÁO CÁO TRỢ LÝ ẢO SENMART"
    assert "   Mô hình m2: 90,0% trên 20 câu" in result.stdout
    assert (
        f"   {today.isoformat()}  ████████████████████   25,0%  (2/8)  money_complaint 2\n" in result.stdout
    )
    assert f"   {yesterday.isoformat()}  ░░░░░░░░░░░░░░░░░░░░       –  (0/0)\n" in result.stdout
    assert f"   {today.isoformat()}  ████████████████████  1\n" in result.stdout
    assert result.stdout.endswith(f"Đã ghi báo cáo HTML: {page}\n")
    assert "<svg" in page.read_text(encoding="utf-8")

    # without a registry and with --no-evaluate: no evaluation, said politely
    env["STUDIO_MODELS_DIR"] = str(tmp_path / "none")
    command = [sys.executable, "-m", "studio.report", "--redis-url", url, "--days", "1", "--no-evaluate"]
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "   Chưa có đánh giá cho mô hình đang chạy." in result.stdout
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def service(redis_server, tmp_path_factory):
    content_dir = tmp_path_factory.mktemp("report-content")
    fresh_data(content_dir)
    url = f"redis://{redis_server.host}:{redis_server.port}/{INBOX_DB + 2}"
    started = StudioService(url, content_dir, tmp_path_factory.mktemp("report-log")).start()
    yield started
    started.stop()


def test_api_report_from_the_event_stream(service, redis_server):
    client = redis.Redis(
        host=redis_server.host, port=redis_server.port, db=INBOX_DB + 2, decode_responses=True
    )
    assert service.call("GET", "/studio/api/report", token="lan").status_code == 403
    assert service.call("GET", "/studio/api/report", token=None).status_code == 401
    assert service.call("GET", "/studio/api/report?days=0").status_code == 422
    empty = service.call("GET", "/studio/api/report").json()
    assert empty["message"].startswith("Chưa có đánh giá") and empty["per_topic"] == []
    assert len(empty["handoffs_by_day"]) == len(empty["inbox_by_day"]) == 14
    now = time.time()
    unclear = {"intent": {"name": "nlu_fallback", "confidence": 0.5}, "intent_ranking": []}
    for index, sender in enumerate(["u1", "u2", "u3", "u4", "u1"]):
        event = {
            "event": "user",
            "sender_id": sender,
            "timestamp": now + index,
            "text": f"hả {index % 2}",
            "parse_data": unclear,
        }
        client.xadd("senmart:events", {"data": json.dumps(event, ensure_ascii=False)})
    # u2's message of the stream again, in the ticket's transcript: counted once
    service.handoff(
        "u2", [{"role": "customer", "text": "hả 1", "timestamp": now - 9}], reason="low_confidence"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        report = service.call("GET", "/studio/api/report").json()
        if report["handoffs_by_day"][-1]["conversations"] == 4 and report["inbox_by_day"][-1]["count"] == 5:
            break
        time.sleep(0.2)
    today = report["handoffs_by_day"][-1]
    assert today["day"] == today_local().isoformat()
    assert (today["conversations"], today["handoffs"], today["rate"]) == (4, 1, 0.25)
    assert today["reason"]["low_confidence"] == 1
    assert report["inbox_by_day"][-1] == {"day": today_local().isoformat(), "count": 5}
    write_registry(service.content_dir / "models")
    report = service.call("GET", "/studio/api/report").json()
    assert report["evaluation"] == {"model": "m2", "accuracy": 0.9, "n": 20}
    assert report["per_topic"][0] == {"topic": "faq/refund_time", "accuracy": 0.75, "n": 8}
    assert report["selective"] is None  # an evaluation from before the selective figures
    write_registry(service.content_dir / "models", {**EVALUATION, "selective": SELECTIVE})
    report = service.call("GET", "/studio/api/report").json()
    assert report["selective"] == SELECTIVE_VIEW
    client.flushdb()
    client.close()
