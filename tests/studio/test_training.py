"""Training jobs: progress from Rasa's log, the result's parts, and THE ACCURACY GATE with a real
training on a temporary copy of the project (a deliberately bad edit must be refused)."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.services import Process, free_port, wait_until
from bot.settings import PROJECT_ROOT
from studio.models import BASE_MODEL_ID, ModelRegistry
from studio.settings import StudioSettings, copy_content
from studio.training import (
    ProgressParser,
    confusions_changed,
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
        ("INFO rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.", 10),
        ("Epochs:   0%|          | 0/60 [00:00<?, ?it/s]", 10),
        ("Epochs:  50%|█████     | 30/60 [00:38<00:33,  1.10s/it, t_loss=1.43]", 27),
        ("Epochs: 100%|██████████| 60/60 [01:10<00:00]", 45),
        ("INFO rasa.engine.training.hooks  - Starting to train component 'ResponseSelector'.", 45),
        ("Epochs:  10%|█         | 6/60 [00:05<00:50]", 47),
        ("INFO rasa.engine.training.hooks  - Restored component 'MemoizationPolicy' from cache.", 70),
        ("INFO rasa.engine.training.hooks  - Restored component 'TEDPolicy' from cache.", 84),
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
    assert len(moved) == 30
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
    process = Process("handoff", [sys.executable, "-m", "handoff"], tmp_path / "handoff.log", env)
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
        f"restored {state.get('restored_from_cache')}, "
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
    assert result["new_examples"]["n"] == len(moved) == 30
    assert result["new_examples"]["accuracy"] >= 0.9

    # nothing published: same current, no new model kept, the live model's evaluation cached
    data = registry.read()
    assert data["current"] == BASE_MODEL_ID
    assert [m["id"] for m in data["models"]] == [BASE_MODEL_ID]
    assert not list(models_dir.glob("2*.tar.gz")) and not list(models_dir.glob(".job-*"))
    cached = registry.evaluation(BASE_MODEL_ID)
    assert cached["accuracy"] == before["accuracy"] and data["models"][0]["accuracy"] == before["accuracy"]
    assert cached["n"] == 334
    assert re.fullmatch(r"[0-9a-f]{64}", cached["heldout_sha256"])
