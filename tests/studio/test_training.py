"""Training jobs: progress from Rasa's log, the result's parts, the wrong-answer gate on fake evaluations
(a rise of wrong answers to unanswerable messages is refused, a steady rate passes; an old cached live
evaluation is redone), and THE ACCURACY GATE with a real training on a temporary copy of the project (a
deliberately bad edit must be refused)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest
import requests

from bot.nlu.selective import Thresholds
from bot.services import Process, free_port, wait_until
from bot.settings import PROJECT_ROOT
from common.file_digest import file_sha256
from evaluation.heldout import load_heldout
from evaluation.selective import model_thresholds
from studio.evaluate import sets_sha256
from studio.models import BASE_MODEL_ID, ModelRegistry, evaluation_beside, evaluation_of
from studio.settings import StudioSettings, copy_content
from studio.training import (
    ProgressParser,
    TrainingManager,
    confusions_changed,
    evaluation_is_current,
    gate,
    job_key,
    new_examples,
    only_additions,
    rasa_train_command,
)

BASE_MODEL = PROJECT_ROOT / "models" / "senmart.tar.gz"
CONTENT_TOKEN = "train-content-token"


# -- pure parts -------------------------------------------------------------------------------------
def test_progress_follows_rasa_log():
    parser = ProgressParser()
    assert parser.progress == 1
    steps = [
        ("2026-12-01 INFO rasa.cli.train  - Started validating domain and training data...", 3),
        ("INFO rasa.engine.training.hooks  - Starting to train component 'CountVectorsFeaturizer'.", 6),
        # config.yml names our subclasses; they count as the Rasa component they extend
        ("INFO rasa.engine.training.hooks  - Starting to train component 'DirectDIETClassifier'.", 10),
        ("Epochs:   0%|          | 0/60 [00:00<?, ?it/s]", 10),
        ("Epochs:  50%|█████     | 30/60 [00:38<00:33,  1.10s/it, t_loss=1.43]", 27),
        ("Epochs: 100%|██████████| 60/60 [01:10<00:00]", 45),
        ("INFO rasa.engine.training.hooks  - Starting to train component 'DirectResponseSelector'.", 45),
        ("Epochs:  10%|█         | 6/60 [00:05<00:50]", 47),
        ("INFO rasa.engine.training.hooks  - Restored component 'MemoizationPolicy' from cache.", 70),
        ("INFO rasa.engine.training.hooks  - Restored component 'StateCachedTEDPolicy' from cache.", 84),
        ("Your Rasa model is trained and saved at '/tmp/x.tar.gz'.", 85),
    ]
    for line, expected in steps:
        parser.feed(line)
        assert parser.progress == expected, line
    assert parser.restored == ["MemoizationPolicy", "TEDPolicy"]
    assert parser.trained == ["CountVectorsFeaturizer", "DIETClassifier", "ResponseSelector"]
    # a tqdm bar keeps one line in the tail (its last state): DIET's, then the ResponseSelector's
    assert [line for line in parser.tail if line.startswith("Epochs")] == [
        "Epochs: 100%|██████████| 60/60 [01:10<00:00]",
        "Epochs:  10%|█         | 6/60 [00:05<00:50]",
    ]
    assert parser.phase == "Đóng gói mô hình"


def test_progress_never_goes_back():
    parser = ProgressParser()
    parser.feed("Starting to train component 'TEDPolicy'.")
    parser.feed("Epochs:  50%|")
    assert parser.progress == 78
    parser.feed("Starting to train component 'DIETClassifier'.")  # a second training (finetune refused)
    assert parser.progress == 78


def test_result_parts():
    before = {
        "confusions": [
            {"expected": "faq/a", "predicted": "faq/b", "count": 2},
            {"expected": "x", "predicted": "y", "count": 1},
        ]
    }
    after = {
        "confusions": [
            {"expected": "faq/a", "predicted": "faq/b", "count": 5},
            {"expected": "faq/c", "predicted": "faq/a", "count": 1},
        ]
    }
    assert confusions_changed(before, after) == [
        {"expected": "faq/a", "predicted": "faq/b", "before": 2, "after": 5},
        {"expected": "faq/c", "predicted": "faq/a", "before": 0, "after": 1},
        {"expected": "x", "predicted": "y", "before": 1, "after": 0},
    ]
    live = {"faq/a": ["một", "hai"], "greet": ["chào"]}
    now = {"faq/a": ["một", "hai", "ba"], "greet": ["chào", "hello"]}
    assert new_examples(now, live) == [("ba", "faq/a"), ("hello", "greet")]
    assert new_examples(now, None) == []
    assert only_additions(now, live)
    assert not only_additions({"faq/a": ["một"], "greet": ["chào"]}, live)  # one removed
    assert not only_additions({**now, "faq/new": ["bốn"]}, live)  # a new label


def test_training_command():
    command = rasa_train_command("/py", Path("/tmp/out"), "20261201-1")
    assert command == [
        "nice", "-n", "10", "/py", "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
        "--data", "data", "--out", "/tmp/out", "--fixed-model-name", "20261201-1",
    ]  # fmt: skip


# -- the gate on fake evaluations (no Rasa) ---------------------------------------------------------
def fake_evaluation(accuracy: float, wrong_answer_rate: float, n_unanswerable: int = 120) -> dict:
    """The parts of studio/evaluate.py's JSON the gate reads."""
    return {
        "accuracy": accuracy,
        "n": 334,
        "per_topic": [{"topic": "faq/shipping_fee", "accuracy": accuracy, "n": 5}],
        "confusions": [],
        "new_examples": {"n": 0, "accuracy": 0.0, "errors": []},
        "selective": {
            "thresholds": asdict(model_thresholds(PROJECT_ROOT / "config.yml")),
            "n": 334 + n_unanswerable + 40,
            "answerable": {
                "n": 334,
                "accuracy": 0.93,
                "correct": 311,
                "wrong": 12,
                "deflected": 11,
                "deflected_rate": 11 / 334,
            },
            "unanswerable": {
                "n": n_unanswerable,
                "wrong": round(wrong_answer_rate * n_unanswerable),
                "wrong_answer_rate": wrong_answer_rate,
                "deflected": n_unanswerable - round(wrong_answer_rate * n_unanswerable),
            },
            "human_request": {"n": 40, "handoff": 39, "handoff_rate": 0.975},
            "risk_coverage": [{"bar": 1.0, "coverage": 0.8, "risk": 0.03, "answered": 10, "wrong": 1}],
            "groups": {},
        },
    }


def test_the_gate_refuses_a_rise_of_wrong_answers_to_unanswerable_messages():
    verdict = gate(fake_evaluation(0.9, 0.017), fake_evaluation(0.905, 0.038), 0.5, 1.0)
    assert not verdict.passed
    assert verdict.wrong_answer_rise_points == 2.1 and verdict.drop_points == -0.5
    assert verdict.reason == (
        "Tỷ lệ trả lời sai cho câu hỏi ngoài kiến thức tăng 2.1 điểm (1.7% → 3.8%), quá mức cho phép "
        "1 điểm: mô hình mới không được xuất bản, bot vẫn dùng mô hình hiện tại."
    )
    # both limits broken: both named
    both = gate(fake_evaluation(0.9, 0.017), fake_evaluation(0.88, 0.05), 0.5, 1.0)
    assert not both.passed
    assert both.reason.startswith("Độ chính xác trên bộ câu kiểm tra giảm 2.0 điểm (90.0% → 88.0%)")
    assert "; Tỷ lệ trả lời sai cho câu hỏi ngoài kiến thức tăng 3.3 điểm (1.7% → 5.0%)" in both.reason
    # the limit comes from the settings (STUDIO_MAX_WRONG_ANSWER_RISE)
    assert gate(fake_evaluation(0.9, 0.017), fake_evaluation(0.9, 0.038), 0.5, 2.5).passed


def test_the_gate_passes_a_model_whose_wrong_answer_rate_stays():
    same = gate(fake_evaluation(0.9, 0.017), fake_evaluation(0.9, 0.017), 0.5, 1.0)
    assert same.passed and same.wrong_answer_rise_points == 0.0
    assert same.reason == (
        "Độ chính xác 90.0% (trước đó 90.0%), trả lời sai cho câu hỏi ngoài kiến thức 1.7% "
        "(trước đó 1.7%): đạt, mô hình mới đã được xuất bản."
    )
    within = gate(fake_evaluation(0.9, 0.017), fake_evaluation(0.9, 0.025), 0.5, 1.0)
    assert within.passed and within.wrong_answer_rise_points == 0.8
    fewer = gate(fake_evaluation(0.9, 0.05), fake_evaluation(0.9, 0.01), 0.5, 1.0)
    assert fewer.passed and fewer.wrong_answer_rise_points == -4.0
    # the accuracy rule is unchanged
    dropped = gate(fake_evaluation(0.9, 0.017), fake_evaluation(0.89, 0.017), 0.5, 1.0)
    assert not dropped.passed and "giảm 1.0 điểm (90.0% → 89.0%), quá mức cho phép 0.5 điểm" in dropped.reason
    # no live model, or no unanswerable set: only what can be compared is
    assert gate(None, fake_evaluation(0.9, 0.5), 0.5, 1.0).passed
    assert (
        gate(fake_evaluation(0.9, 0.0, 0), fake_evaluation(0.9, 0.0, 0), 0.5, 1.0).wrong_answer_rise_points
        is None
    )


def test_a_cached_evaluation_holds_while_the_model_sets_and_thresholds_do(tmp_path):
    content = copy_content(tmp_path / "content")
    settings = StudioSettings(content_dir=content)
    guard = "pipeline:\n  - name: bot.nlu.answer_guard.AnswerGuard\n    intent_confidence: {}\n"
    settings.config_file.write_text(guard.format(0.5), encoding="utf-8")
    model = tmp_path / "senmart.tar.gz"
    model.write_bytes(b"the live model")
    args = (settings.heldout_file, settings.evaluation_dir, settings.config_file, model)
    cached = fake_evaluation(0.9, 0.017)
    cached["selective"]["thresholds"] = asdict(Thresholds(intent_confidence=0.5))
    cached["model_sha256"] = file_sha256(model)
    cached["heldout_sha256"] = file_sha256(settings.heldout_file)
    cached["sets_sha256"] = sets_sha256(settings.evaluation_dir)
    assert evaluation_is_current(cached, *args)
    assert not evaluation_is_current(None, *args)
    # the model file rebuilt (`make train` after a data change), or an evaluation from before model_sha256
    model.write_bytes(b"the live model, retrained")
    assert not evaluation_is_current(cached, *args)
    cached["model_sha256"] = file_sha256(model)
    assert evaluation_is_current(cached, *args)
    assert not evaluation_is_current({k: v for k, v in cached.items() if k != "model_sha256"}, *args)
    # an evaluation from before the selective figures
    assert not evaluation_is_current({k: v for k, v in cached.items() if k != "selective"}, *args)
    # other thresholds in config.yml
    settings.config_file.write_text(guard.format(0.6), encoding="utf-8")
    assert not evaluation_is_current(cached, *args)
    settings.config_file.write_text(guard.format(0.5), encoding="utf-8")
    assert evaluation_is_current(cached, *args)
    # any evaluation set changed (or added)
    (settings.evaluation_dir / "unanswerable.yml").write_text(
        'version: 1\nmessages:\n  - {text: "shop có bán vé máy bay không", style: diacritics}\n',
        encoding="utf-8",
    )
    assert not evaluation_is_current(cached, *args)


class FakeRedis:
    """The few async Redis calls a training job makes."""

    def __init__(self) -> None:
        self.data = {}

    async def get(self, key):
        return self.data.get(key)

    async def set(self, key, value, nx=False, ex=None):
        if nx and key in self.data:
            return None
        self.data[key] = value
        return True

    async def delete(self, key):
        self.data.pop(key, None)


class StandInJobs(TrainingManager):
    """A training job whose `rasa train` and `studio.evaluate` are stand-ins: the gate and the result."""

    def __init__(self, settings: StudioSettings, evaluations: dict) -> None:
        self.fake_redis = FakeRedis()
        super().__init__(settings, lambda: self.fake_redis, history_hook=self.no_history)
        self.evaluations = evaluations
        self.evaluated = []

    @staticmethod
    async def no_history(*args) -> None:
        return None

    async def _train(self, state, parser, work, model_id, finetune_from):
        (work / f"{model_id}.tar.gz").write_bytes(b"a new model")
        return 0

    async def _evaluate(self, model, extra, out, log_path):
        kind = "live" if model == self.settings.base_model.resolve() else "new"
        self.evaluated.append(kind)
        evaluation = {
            **self.evaluations[kind],
            "model_sha256": file_sha256(model),
            "heldout_sha256": file_sha256(self.settings.heldout_file),
            "sets_sha256": sets_sha256(self.settings.evaluation_dir),
        }
        out.write_text(json.dumps(evaluation), encoding="utf-8")
        return evaluation

    async def run_job(self) -> dict:
        job_id = await self.start("hoa")
        await asyncio.gather(*self.tasks)
        return json.loads(self.fake_redis.data[job_key(job_id)])


@pytest.fixture()
def stand_in_settings(tmp_path):
    content = tmp_path / "content"
    (content / "data" / "nlu").mkdir(parents=True)
    (content / "data" / "nlu" / "greet.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - chào shop\n', encoding="utf-8"
    )
    shutil.copy(PROJECT_ROOT / "config.yml", content / "config.yml")
    (content / "evaluation").mkdir()
    shutil.copy(PROJECT_ROOT / "evaluation" / "heldout.yml", content / "evaluation" / "heldout.yml")
    base = tmp_path / "base" / "senmart.tar.gz"
    base.parent.mkdir()
    base.write_bytes(b"the base model")
    return StudioSettings(content_dir=content, models_dir=tmp_path / "models", base_model=base)


async def test_a_job_refuses_more_wrong_answers_and_reevaluates_an_old_live_evaluation(stand_in_settings):
    settings = stand_in_settings
    jobs = StandInJobs(settings, {"live": fake_evaluation(0.9, 0.017), "new": fake_evaluation(0.9, 0.038)})
    registry = jobs.registry
    # the live model's evaluation from before the selective figures, on the same held-out set
    registry.read()
    old = registry.eval_path(BASE_MODEL_ID)
    old.write_text(
        json.dumps({"accuracy": 0.9, "n": 334, "per_topic": [], "confusions": [],
                    "heldout_sha256": file_sha256(settings.heldout_file)}),
        encoding="utf-8",
    )  # fmt: skip
    registry.set_evaluation(BASE_MODEL_ID, 0.9, old)

    state = await jobs.run_job()
    assert sorted(jobs.evaluated) == ["live", "new"]  # the old cache was not trusted
    assert state["live_evaluation"] == "computed"
    assert state["state"] == "refused", state
    result = state["result"]
    assert result["published"] is False and result["model_id"] is None
    assert result["wrong_answer_rise_points"] == 2.1 and result["max_wrong_answer_rise_points"] == 1.0
    assert result["drop_points"] == 0.0
    assert "tăng 2.1 điểm (1.7% → 3.8%), quá mức cho phép 1 điểm" in result["reason"]
    before, after = result["before"]["selective"], result["after"]["selective"]
    assert before["unanswerable"]["wrong_answer_rate"] == 0.017
    assert after["unanswerable"]["wrong_answer_rate"] == 0.038
    assert after["answerable"]["accuracy"] == 0.93 and after["human_request"]["handoff_rate"] == 0.975
    assert "risk_coverage" not in after
    assert registry.read()["current"] == BASE_MODEL_ID
    assert "selective" in registry.evaluation(BASE_MODEL_ID)  # the new live evaluation is cached

    # next job: the cached live evaluation holds; a model whose rate stays is published
    jobs.evaluated.clear()
    jobs.evaluations["new"] = fake_evaluation(0.9, 0.017)
    state = await jobs.run_job()
    assert jobs.evaluated == ["new"] and state["live_evaluation"] == "stored"
    assert state["state"] == "published", state
    assert state["result"]["wrong_answer_rise_points"] == 0.0
    assert registry.read()["current"] == state["model_id"]


# -- the gate, with a real training ----------------------------------------------------------------
def move_examples(faq_dir: Path, source: str, target: str, keep: int) -> list:
    """Move all but `keep` examples of topic `source` into topic `target` (a content editor's mistake)."""
    source_path, target_path = faq_dir / f"{source}.yml", faq_dir / f"{target}.yml"
    source_text = source_path.read_text(encoding="utf-8")
    lines = source_text.splitlines(keepends=True)
    example_lines = [i for i, line in enumerate(lines) if line.startswith("    - ")]
    moved = [lines[i] for i in example_lines[keep:]]
    source_path.write_text(
        "".join(line for i, line in enumerate(lines) if i not in example_lines[keep:]), encoding="utf-8"
    )
    target_text = target_path.read_text(encoding="utf-8")
    marker = "  examples: |\n"
    at = target_text.index(marker) + len(marker)
    target_path.write_text(target_text[:at] + "".join(moved) + target_text[at:], encoding="utf-8")
    return [line[6:].strip() for line in moved]


@pytest.fixture()
def bad_content(tmp_path):
    content = copy_content(tmp_path / "content")  # with .rasa linked: the project's cache is found
    faq = content / "data" / "nlu" / "faq"
    moved = move_examples(faq, "shipping_fee", "delivery_time", keep=2)
    moved += move_examples(faq, "refund_time", "return_policy", keep=2)
    # all but two examples of two topics: far more than a real edit would move
    assert len(moved) >= 30
    return content, moved


def test_a_bad_edit_is_refused_and_the_live_model_stays(redis_server, bad_content, tmp_path):
    if not BASE_MODEL.exists():
        pytest.fail(f"no trained model at {BASE_MODEL}; run `make train` (make test does it)")
    content, moved = bad_content
    models_dir = tmp_path / "models"
    settings = StudioSettings(content_dir=content, models_dir=models_dir, base_model=BASE_MODEL)
    registry = ModelRegistry(settings)
    # the base model was trained on the project's data: record that (not the bad copy) as its examples
    from studio.models import training_examples, write_examples_json

    registry.read()
    write_examples_json(registry.examples_path(BASE_MODEL_ID), training_examples(PROJECT_ROOT))

    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "REDIS_URL": f"redis://{redis_server.host}:{redis_server.port}/5",
        "HANDOFF_PORT": str(port),
        "HANDOFF_ADMIN_TOKEN": "train-admin",
        "HANDOFF_SERVICE_TOKEN": "train-service",
        "RASA_URL": "http://127.0.0.1:9",
        "STUDIO_CONTENT_DIR": str(content),
        "STUDIO_MODELS_DIR": str(models_dir),
        "RASA_MODEL": str(BASE_MODEL),
        "STUDIO_TOKENS": f"hoa:{CONTENT_TOKEN}",
    }
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {CONTENT_TOKEN}"}
    process = Process("handoff", [sys.executable, "-m", "staff"], tmp_path / "handoff.log", env)
    try:
        wait_until(lambda: requests.get(url + "/health", timeout=1).ok, "handoff", process, 30)
        started = time.monotonic()
        answer = requests.post(url + "/studio/api/train", headers=auth, timeout=10)
        assert answer.status_code == 202
        job_id = answer.json()["job_id"]
        busy = requests.post(url + "/studio/api/train", headers=auth, timeout=10)
        assert busy.status_code == 409
        assert busy.json()["error"] == "conflict" and busy.json()["current"]["job_id"] == job_id

        seen_progress = []
        deadline = time.monotonic() + 20 * 60
        while time.monotonic() < deadline:
            state = requests.get(f"{url}/studio/api/train/{job_id}", headers=auth, timeout=10).json()
            seen_progress.append(state["progress"])
            if state["state"] in ("published", "refused", "failed"):
                break
            time.sleep(2)
        seconds = time.monotonic() - started
    finally:
        process.stop()
    print(
        f"\njob {state['state']} in {seconds:.0f}s: {state.get('seconds')}, "
        f"live evaluation {state.get('live_evaluation')}, restored {state.get('restored_from_cache')}, "
        f"drop {(state.get('result') or {}).get('drop_points')} points"
    )
    assert state["state"] == "refused", json.dumps(state, ensure_ascii=False)[:3000]
    assert seen_progress == sorted(seen_progress) and seen_progress[-1] == 100
    assert any(0 < p < 85 for p in seen_progress)  # training progress was reported on the way
    assert state["log"] and any("Your Rasa model is trained" in line for line in state["log"])
    # the dialogue policies did not change: Rasa restored them from the project's cache
    assert "TEDPolicy" in state["restored_from_cache"]
    assert "TEDPolicy" not in state["trained_components"]

    result = state["result"]
    assert result["published"] is False and result["model_id"] is None
    before, after = result["before"], result["after"]
    assert before["model"] == BASE_MODEL_ID
    drop = round((before["accuracy"] - after["accuracy"]) * 100, 4)
    assert result["drop_points"] == drop and drop > 0.5
    assert result["max_drop_points"] == 0.5
    assert f"giảm {drop:.1f} điểm" in result["reason"]
    topics_before = {t["topic"]: t for t in before["per_topic"]}
    topics_after = {t["topic"]: t for t in after["per_topic"]}
    assert topics_after["faq/shipping_fee"]["n"] == topics_before["faq/shipping_fee"]["n"] == 5
    assert topics_after["faq/shipping_fee"]["accuracy"] < topics_before["faq/shipping_fee"]["accuracy"]
    changed = {(c["expected"], c["predicted"]): c for c in result["confusions_changed"]}
    worse = [
        changed.get(("faq/shipping_fee", "faq/delivery_time")),
        changed.get(("faq/refund_time", "faq/return_policy")),
    ]
    assert any(c and c["after"] > c["before"] for c in worse), result["confusions_changed"]
    # the moved examples are "new" (label changed) and the new model learned them
    assert result["new_examples"]["n"] == len(moved)
    assert result["new_examples"]["accuracy"] >= 0.9

    # the live model's evaluation: the one `make train` wrote beside it, when it is of this model file
    made_by_make_train = evaluation_of(BASE_MODEL, evaluation_beside(BASE_MODEL)) is not None
    assert state["live_evaluation"] == ("stored" if made_by_make_train else "computed")

    # nothing published: same current, no new model kept, the live model's evaluation cached
    data = registry.read()
    assert data["current"] == BASE_MODEL_ID
    assert [m["id"] for m in data["models"]] == [BASE_MODEL_ID]
    assert not list(models_dir.glob("2*.tar.gz")) and not list(models_dir.glob(".job-*"))
    cached = registry.evaluation(BASE_MODEL_ID)
    assert cached["accuracy"] == before["accuracy"] and data["models"][0]["accuracy"] == before["accuracy"]
    assert cached["n"] == len(load_heldout(settings.heldout_file))
    assert re.fullmatch(r"[0-9a-f]{64}", cached["heldout_sha256"])
    assert cached["sets_sha256"] == sets_sha256(settings.evaluation_dir)
    # the selective figures of both models, at config.yml's thresholds, and the wrong-answer limit
    thresholds = asdict(model_thresholds(settings.config_file))
    assert cached["selective"]["thresholds"] == before["selective"]["thresholds"] == thresholds
    assert after["selective"]["thresholds"] == thresholds
    for figures in (before["selective"], after["selective"]):
        assert figures["answerable"]["n"] > 0 and 0 <= figures["answerable"]["accuracy"] <= 1
    assert result["max_wrong_answer_rise_points"] == 1.0
    if before["selective"]["unanswerable"]["n"]:
        rise = (
            after["selective"]["unanswerable"]["wrong_answer_rate"]
            - before["selective"]["unanswerable"]["wrong_answer_rate"]
        ) * 100
        assert result["wrong_answer_rise_points"] == round(rise, 4)
