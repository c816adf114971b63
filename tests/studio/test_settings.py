"""Studio settings: where the evaluation sets live, the wrong-answer limit, the content copy — and that
the studio never trains on the evaluation sets."""

from __future__ import annotations

import pytest

from bot.settings import PROJECT_ROOT
from studio.models import training_examples
from studio.settings import StudioSettings, StudioSettingsError, copy_content
from studio.training import rasa_train_command


def test_evaluation_sets_live_beside_the_data_not_in_it(tmp_path):
    settings = StudioSettings(content_dir=tmp_path)
    assert settings.evaluation_dir == tmp_path / "evaluation"
    assert settings.heldout_file == tmp_path / "evaluation" / "heldout.yml"
    assert settings.config_file == tmp_path / "config.yml"
    assert not settings.evaluation_dir.is_relative_to(settings.data_dir)


def test_max_wrong_answer_rise_from_the_environment():
    assert StudioSettings.from_env({}).max_wrong_answer_rise == 1.0
    assert StudioSettings.from_env({"STUDIO_MAX_WRONG_ANSWER_RISE": "2.5"}).max_wrong_answer_rise == 2.5
    assert StudioSettings.from_env({"STUDIO_MAX_WRONG_ANSWER_RISE": " "}).max_wrong_answer_rise == 1.0
    for bad in ("abc", "-1", "nan"):
        with pytest.raises(StudioSettingsError, match="STUDIO_MAX_WRONG_ANSWER_RISE"):
            StudioSettings.from_env({"STUDIO_MAX_WRONG_ANSWER_RISE": bad})


def test_copy_content_takes_the_evaluation_sets(tmp_path):
    content = copy_content(tmp_path / "content")
    settings = StudioSettings(content_dir=content)
    project_sets = sorted(path.name for path in (PROJECT_ROOT / "evaluation").glob("*.yml"))
    assert "heldout.yml" in project_sets
    assert sorted(path.name for path in settings.evaluation_dir.iterdir()) == project_sets
    assert settings.heldout_file.read_bytes() == (PROJECT_ROOT / "evaluation" / "heldout.yml").read_bytes()
    assert not (content / "tests").exists()
    assert (content / "config.yml").is_file() and (content / "data" / "nlu").is_dir()


def test_the_studio_never_trains_on_the_evaluation_sets(tmp_path):
    content = tmp_path / "content"
    (content / "data" / "nlu").mkdir(parents=True)
    (content / "evaluation").mkdir()
    block = 'version: "3.1"\nnlu:\n- intent: {}\n  examples: |\n    - {}\n'
    (content / "data" / "nlu" / "greet.yml").write_text(block.format("greet", "chào shop"), "utf-8")
    # an evaluation set in Rasa's NLU format, as heldout.yml is
    (content / "evaluation" / "heldout.yml").write_text(block.format("greet", "xin chào ạ"), "utf-8")
    assert training_examples(content) == {"greet": ["chào shop"]}
    command = rasa_train_command("python", tmp_path / "out", "m1")
    assert command[command.index("--data") + 1] == "data"
