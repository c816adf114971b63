"""tools/import_graph.py (`make lint`): cycles between top-level packages fail, so do imports of test or
benchmark code from where it must not be; this project has neither."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bot.settings import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("import_graph", PROJECT_ROOT / "tools" / "import_graph.py")
import_graph = importlib.util.module_from_spec(spec)
spec.loader.exec_module(import_graph)


def package(root: Path, name: str, **modules: str) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text("", encoding="utf-8")
    for module, text in modules.items():
        (root / name / f"{module}.py").write_text(text, encoding="utf-8")


def test_a_cycle_through_an_import_at_call_time_fails(tmp_path, capsys):
    package(tmp_path, "alpha", app="from beta.helpers import x\n")
    package(tmp_path, "beta", helpers="x = 1\n\ndef later():\n    import gamma.deep\n")
    package(tmp_path, "gamma", deep="from alpha import app\n")
    package(tmp_path, "delta", free="import alpha\n")  # depends on the cycle, is not in it
    assert import_graph.cycles(import_graph.edges(tmp_path)) == [["alpha", "beta", "gamma"]]
    assert import_graph.main(["import_graph", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "CYCLE: alpha -> beta -> gamma -> alpha" in err
    assert "  beta -> gamma: beta/helpers.py" in err


def test_two_packages_importing_each_other_are_one_cycle(tmp_path):
    package(tmp_path, "one", a="import two\n")
    package(tmp_path, "two", b="from one import a\n")
    assert import_graph.cycles(import_graph.edges(tmp_path)) == [["one", "two"]]


def test_relative_and_outside_imports_are_not_edges(tmp_path):
    package(tmp_path, "one", a="from . import b\nimport json\nimport sanic\n", b="")
    assert import_graph.edges(tmp_path) == {}
    assert import_graph.main(["import_graph", str(tmp_path)]) == 0


def test_imports_of_test_and_benchmark_code_from_the_wrong_side_fail(tmp_path, capsys):
    package(tmp_path, "bot", a="from testkit import stand_in\n")
    package(tmp_path, "tests", t="import testkit\nfrom benchmarks import shared\n")
    package(tmp_path, "benchmarks", shared="from testkit import stand_in\nfrom tests import t\n")
    package(tmp_path, "testkit", stand_in="")
    assert import_graph.forbidden(import_graph.edges(tmp_path)) == [
        ("benchmarks", "tests"),
        ("bot", "testkit"),
        ("tests", "benchmarks"),
    ]
    assert import_graph.main(["import_graph", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "FORBIDDEN: bot -> testkit: bot/a.py" in err
    assert "FORBIDDEN: tests -> benchmarks: tests/t.py" in err


def test_this_project_has_no_cycle_and_handoff_and_studio_are_apart():
    found = import_graph.edges(PROJECT_ROOT)
    assert import_graph.cycles(found) == []
    assert import_graph.forbidden(found) == []
    assert ("handoff", "studio") not in found and ("studio", "handoff") not in found
    # the kernel imports no other package of the project; services never import tests or benchmarks
    assert not [edge for edge in found if edge[0] == "common"]
    for service in ("bot", "actions", "common", "handoff", "staff", "studio", "evaluation"):
        assert (service, "tests") not in found and (service, "benchmarks") not in found
