"""Model registry (keep 5, never the current one, rollback) and the model server Rasa pulls from."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

import pytest
import redis
import requests
from rasa.core.agent import _pull_model_and_fingerprint
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.services import Process, free_port, wait_until
from bot.settings import PROJECT_ROOT
from studio.models import BASE_MODEL_ID, ModelNotFound, ModelRegistry, etag_matches, evaluation_beside
from studio.settings import StudioSettings

SERVICE_TOKEN = "models-service-token"
CONTENT_TOKEN = "models-content-token"
AGENT_TOKEN = "models-agent-token"


def fake_model(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return path


def quoted_sha(payload: bytes) -> str:
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


@pytest.fixture()
def settings(tmp_path) -> StudioSettings:
    return StudioSettings(
        content_dir=PROJECT_ROOT,
        models_dir=tmp_path / "models",
        base_model=fake_model(tmp_path / "base" / "senmart.tar.gz", b"base model bytes"),
    )


def add_models(registry: ModelRegistry, count: int, make_current: bool = True) -> list:
    ids = []
    for number in range(count):
        model_id = f"m{number}"
        path = fake_model(registry.model_path(model_id), f"model {number}".encode())
        registry.add(model_id, path, "hoa", make_current=make_current, accuracy=0.9 + number / 100)
        ids.append(model_id)
    return ids


# -- registry ---------------------------------------------------------------------------------------
def test_empty_registry_starts_with_the_base_model(settings):
    registry = ModelRegistry(settings)
    data = registry.read()
    assert data["current"] == BASE_MODEL_ID
    assert [m["id"] for m in data["models"]] == [BASE_MODEL_ID]
    entry = data["models"][0]
    assert entry["path"] == str(settings.base_model.resolve())
    assert (entry["editor"], entry["accuracy"], entry["eval_file"]) == ("make train", None, None)
    assert entry["created_at"].endswith("Z")
    # the examples the base model was trained on: the content as it is now
    examples = json.loads(Path(entry["examples_file"]).read_text())
    shipping = (PROJECT_ROOT / "data/nlu/faq/shipping_fee.yml").read_text()
    assert examples["faq/shipping_fee"][0] == "phí ship bao nhiêu vậy"
    assert len(examples["faq/shipping_fee"]) == shipping.count("\n    - ")
    assert json.loads((settings.models_dir / "registry.json").read_text()) == data


def test_the_evaluation_make_train_wrote_of_this_base_model_is_adopted(tmp_path):
    base = fake_model(tmp_path / "base" / "senmart.tar.gz", b"base model bytes")
    beside = evaluation_beside(base)
    assert beside == tmp_path / "base" / "senmart.eval.json"
    evaluation = {"accuracy": 0.93, "model_sha256": hashlib.sha256(b"base model bytes").hexdigest()}
    beside.write_text(json.dumps(evaluation), encoding="utf-8")
    registry = ModelRegistry(
        StudioSettings(content_dir=PROJECT_ROOT, models_dir=tmp_path / "m", base_model=base)
    )
    entry = registry.read()["models"][0]
    # a copy the registry owns (the file beside the model is `make train`'s)
    assert (entry["accuracy"], entry["eval_file"]) == (0.93, str(registry.eval_path(BASE_MODEL_ID)))
    assert registry.evaluation(BASE_MODEL_ID) == evaluation


@pytest.mark.parametrize("written", ['{"accuracy": 0.93, "model_sha256": "%s"}', "{not json", "[1]"])
def test_an_evaluation_of_another_model_file_or_unreadable_is_not_adopted(tmp_path, written):
    base = fake_model(tmp_path / "base" / "senmart.tar.gz", b"rebuilt base model")
    other = hashlib.sha256(b"the model it was written for").hexdigest()
    evaluation_beside(base).write_text(written.replace("%s", other), encoding="utf-8")
    registry = ModelRegistry(
        StudioSettings(content_dir=PROJECT_ROOT, models_dir=tmp_path / "m", base_model=base)
    )
    entry = registry.read()["models"][0]
    assert (entry["accuracy"], entry["eval_file"]) == (None, None)
    assert registry.evaluation(BASE_MODEL_ID) is None


def test_no_base_model_no_current(tmp_path):
    registry = ModelRegistry(StudioSettings(models_dir=tmp_path / "m", base_model=tmp_path / "none.tar.gz"))
    assert registry.read() == {"current": None, "models": []}
    assert registry.current() is None


def test_keeps_the_last_five_and_deletes_the_dropped_files(settings):
    registry = ModelRegistry(settings)
    ids = add_models(registry, 6)
    data = registry.read()
    assert [m["id"] for m in data["models"]] == ids[1:]
    assert data["current"] == "m5"
    assert not registry.model_path("m0").exists()
    assert all(registry.model_path(i).exists() for i in ids[1:])
    assert settings.base_model.exists()  # the base model is dropped from the list, never deleted


def test_never_drops_the_current_model(settings):
    registry = ModelRegistry(settings)
    add_models(registry, 1)
    registry.set_current(BASE_MODEL_ID)  # rolled back to the base model
    for number in range(1, 7):
        model_id = f"n{number}"
        registry.add(model_id, fake_model(registry.model_path(model_id), b"x"), "hoa", make_current=False)
    data = registry.read()
    assert data["current"] == BASE_MODEL_ID
    assert [m["id"] for m in data["models"]] == [BASE_MODEL_ID, "n3", "n4", "n5", "n6"]


def test_rollback_changes_current_only(settings):
    registry = ModelRegistry(settings)
    add_models(registry, 3)
    before = registry.read()
    previous, entry = registry.set_current("m0")
    after = registry.read()
    assert (previous, entry["id"], after["current"]) == ("m2", "m0", "m0")
    assert after["models"] == before["models"]
    with pytest.raises(ModelNotFound):
        registry.set_current("nope")
    registry.model_path("m1").unlink()
    with pytest.raises(ModelNotFound):  # its file is gone: cannot be served
        registry.set_current("m1")
    assert registry.read()["current"] == "m0"


def test_etag_matching():
    assert etag_matches('"abc"', '"abc"')
    assert etag_matches("abc", '"abc"')  # echoed unquoted
    assert etag_matches('W/"abc", "x"', '"abc"')
    assert etag_matches("*", '"abc"')
    assert not etag_matches('"abd"', '"abc"')
    assert not etag_matches(None, '"abc"')
    assert not etag_matches("None", '"abc"')


# -- the model server and the API on the real handoff service ---------------------------------------
@pytest.fixture()
def service(redis_server, settings, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "REDIS_URL": f"redis://{redis_server.host}:{redis_server.port}/4",
        "HANDOFF_PORT": str(port),
        "HANDOFF_ADMIN_TOKEN": "models-admin",
        "HANDOFF_SERVICE_TOKEN": SERVICE_TOKEN,
        "HANDOFF_AGENT_TOKENS": f"lan:{AGENT_TOKEN}",
        "RASA_URL": "http://127.0.0.1:9",
        "STUDIO_CONTENT_DIR": str(PROJECT_ROOT),
        "STUDIO_MODELS_DIR": str(settings.models_dir),
        "RASA_MODEL": str(settings.base_model),
        "STUDIO_TOKENS": f"hoa:{CONTENT_TOKEN}",
    }
    url = f"http://127.0.0.1:{port}"
    process = Process("handoff", [sys.executable, "-m", "staff"], tmp_path / "handoff.log", env)
    wait_until(lambda: requests.get(url + "/health", timeout=1).ok, "handoff", process, 30)
    yield url
    process.stop()


def get(url: str, token: str = SERVICE_TOKEN, **headers) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {token}", **headers}, timeout=10)


def test_model_server_etag_and_304(service, settings):
    url = service + "/internal/models/current"
    first = get(url)
    assert first.status_code == 200
    assert first.content == b"base model bytes"
    assert first.headers["ETag"] == quoted_sha(b"base model bytes")
    assert first.headers["filename"] == "base.tar.gz"
    again = get(url, **{"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", first.headers["ETag"])
    assert get(url, **{"If-None-Match": '"something-else"'}).status_code == 200
    assert requests.get(url, timeout=5).status_code == 401
    assert get(url, token=CONTENT_TOKEN).status_code == 403  # a person's token, not the service's

    # a publish (another process writes the registry): the next pull gets the new model and ETag
    registry = ModelRegistry(settings)
    path = fake_model(registry.model_path("m1"), b"new model bytes")
    registry.add("m1", path, "hoa", make_current=True)
    new = get(url, **{"If-None-Match": first.headers["ETag"]})
    assert (new.status_code, new.content) == (200, b"new model bytes")
    assert new.headers["ETag"] == quoted_sha(b"new model bytes")
    assert new.headers["filename"] == "m1.tar.gz"


def test_rasa_pull_sends_the_headers_of_endpoints_yml(service, monkeypatch, tmp_path):
    """Rasa's own pull code (rasa.core.agent) with the `models:` endpoint of endpoints.yml."""
    for name in re.findall(r"\$\{(\w+)\}", (PROJECT_ROOT / "endpoints.yml").read_text()):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("HANDOFF_URL", service)
    monkeypatch.setenv("HANDOFF_SERVICE_TOKEN", SERVICE_TOKEN)
    endpoint = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "models")
    assert endpoint.url == service + "/internal/models/current"
    assert endpoint.kwargs["wait_time_between_pulls"] == 0  # later pulls: bot.channels.model_updates

    import asyncio

    async def pull(config: EndpointConfig, fingerprint, directory: Path):
        directory.mkdir()
        return await _pull_model_and_fingerprint(config, fingerprint, str(directory))

    # an agent's fingerprint before its first model is a random uuid (Agent._set_fingerprint)
    fingerprint = asyncio.run(pull(endpoint, "0f1e2d3c4b5a69788796a5b4c3d2e1f0", tmp_path / "a"))
    assert fingerprint == quoted_sha(b"base model bytes")
    assert (tmp_path / "a" / "base.tar.gz").read_bytes() == b"base model bytes"
    assert asyncio.run(pull(endpoint, fingerprint, tmp_path / "b")) is None  # 304
    assert list((tmp_path / "b").iterdir()) == []
    # without the header the service refuses: Rasa logs it and keeps its model
    no_header = EndpointConfig(url=endpoint.url)
    assert asyncio.run(pull(no_header, "0f1e2d3c4b5a69788796a5b4c3d2e1f0", tmp_path / "c")) is None
    assert list((tmp_path / "c").iterdir()) == []


def test_model_update_keeps_the_loaded_model_when_the_new_one_is_broken(service, monkeypatch):
    """bot.channels.model_updates: a published file that is no model → the worker keeps its model and
    fingerprint (and pulls again later); an unchanged ETag → nothing is loaded."""
    import asyncio

    from rasa.core.agent import Agent

    from bot.channels.model_updates import update_once

    endpoint = EndpointConfig(
        url=service + "/internal/models/current", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}
    )
    agent = Agent(model_server=endpoint)
    agent.fingerprint = "running-model"
    loaded = object()
    agent.processor = loaded
    with pytest.raises(Exception):
        asyncio.run(update_once(agent))  # the fake bytes are not a Rasa model
    assert (agent.processor, agent.fingerprint) == (loaded, "running-model")
    agent.fingerprint = quoted_sha(b"base model bytes")  # what the server has now: 304
    assert asyncio.run(update_once(agent)) is None
    assert agent.processor is loaded


def test_models_api_list_and_rollback(service, settings, redis_server):
    history = redis.Redis(host=redis_server.host, port=redis_server.port, db=4, decode_responses=True)
    history.delete("senmart:studio:history")
    registry = ModelRegistry(settings)
    add_models(registry, 2)
    auth = {"Authorization": f"Bearer {CONTENT_TOKEN}"}
    listing = requests.get(service + "/studio/api/models", headers=auth, timeout=5).json()
    assert listing["current"] == "m1"
    assert [(m["id"], m["editor"], m["accuracy"]) for m in listing["models"]] == [
        ("m1", "hoa", 0.91),
        ("m0", "hoa", 0.9),
        (BASE_MODEL_ID, "make train", None),
    ]
    done = requests.post(service + f"/studio/api/models/{BASE_MODEL_ID}/rollback", headers=auth, timeout=5)
    assert done.status_code == 200
    assert (done.json()["current"], done.json()["previous"]) == (BASE_MODEL_ID, "m1")
    assert registry.read()["current"] == BASE_MODEL_ID
    assert get(service + "/internal/models/current").content == b"base model bytes"
    entries = [json.loads(fields["entry"]) for _, fields in history.xrange("senmart:studio:history")]
    assert [(e["editor"], e["kind"], e["target"], e["action"]) for e in entries] == [
        ("hoa", "model", "model", "rollback")
    ]
    assert (entries[0]["before"]["id"], entries[0]["after"]["id"]) == ("m1", BASE_MODEL_ID)
    missing = requests.post(service + "/studio/api/models/nope/rollback", headers=auth, timeout=5)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    agent = {"Authorization": f"Bearer {AGENT_TOKEN}"}
    assert (
        requests.post(service + "/studio/api/models/m0/rollback", headers=agent, timeout=5).status_code == 403
    )
    assert registry.read()["current"] == BASE_MODEL_ID


def test_unknown_job_is_404(service):
    auth = {"Authorization": f"Bearer {CONTENT_TOKEN}"}
    answer = requests.get(service + "/studio/api/train/nope", headers=auth, timeout=5)
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
