"""Rasa's own story tests (tests/test_stories.yml) on the trained model, as `make story-test` runs them:
inside the pytest run, so that on several workers they overlap the other tests instead of running after."""

import json
import os
import re
import subprocess
import sys

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "senmart.tar.gz"
STORIES = PROJECT_ROOT / "tests" / "test_stories.yml"


def test_every_test_story_passes(tmp_path):
    command = [
        sys.executable, "-m", "rasa", "test", "core", "--e2e", "--model", str(MODEL),
        "--stories", str(STORIES), "--fail-on-prediction-errors", "--out", str(tmp_path), "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)
    failed = (tmp_path / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert done.returncode == 0, failed + done.stdout[-3000:] + done.stderr[-3000:]
    assert failed.strip() == "# None of the test stories failed - all good!"
    report = json.loads((tmp_path / "story_report.json").read_text(encoding="utf-8"))
    stories = len(re.findall(r"^  - story:", STORIES.read_text(encoding="utf-8"), flags=re.M))
    assert stories >= 40
    assert report["conversation_accuracy"] == {
        "accuracy": 1.0, "correct": stories, "with_warnings": 0, "total": stories,
    }  # fmt: skip
