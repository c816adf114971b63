"""Fails when the project's top-level packages import each other in a cycle, or import test or benchmark
code they must not (`make lint`).

Every import counts, also those inside functions (an import at call time is still a dependency). A
package is a top-level directory with an `__init__.py`; `python tools/import_graph.py [root]` prints the
graph and exits 1 on a cycle or a forbidden edge, naming the files of each edge in it.
"""

from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

Edges = Dict[Tuple[str, str], Set[str]]

# who may import the test and benchmark code: nobody the tests, nobody the benchmarks, only the tests and the
# benchmarks the test kit (stand-ins, polling, simulated customers); the services never carry test code
ONLY_FROM: Dict[str, Set[str]] = {"tests": set(), "benchmarks": set(), "testkit": {"tests", "benchmarks"}}


def packages(root: Path) -> List[str]:
    """The top-level packages under `root`."""
    return sorted(
        p.name for p in root.iterdir() if (p / "__init__.py").is_file() and not p.name.startswith(".")
    )


def edges(root: Path) -> Edges:
    """(importer, imported) → files of the importer that import it, between different packages."""
    names = set(packages(root))
    found: Edges = {}
    for package in names:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    target = module.split(".")[0]
                    if target in names and target != package:
                        found.setdefault((package, target), set()).add(str(path.relative_to(root)))
    return found


def cycles(found: Edges) -> List[List[str]]:
    """Every elementary cycle's packages (each cycle once, starting at its smallest name)."""
    graph: Dict[str, Set[str]] = {}
    for source, target in found:
        graph.setdefault(source, set()).add(target)
    result: List[List[str]] = []

    def walk(start: str, node: str, path: List[str]) -> None:
        for following in sorted(graph.get(node, ())):
            if following == start:
                result.append(path[:])
            elif following > start and following not in path:
                walk(start, following, [*path, following])

    for start in sorted(graph):
        walk(start, start, [start])
    return result


def forbidden(found: Edges) -> List[Tuple[str, str]]:
    """The edges into test or benchmark code from a package that may not import it (ONLY_FROM)."""
    return sorted(edge for edge in found if edge[1] in ONLY_FROM and edge[0] not in ONLY_FROM[edge[1]])


def main(argv: List[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else ".").resolve()
    found = edges(root)
    for (source, target), files in sorted(found.items()):
        print(f"{source} -> {target} ({len(files)} file{'s' if len(files) > 1 else ''})")
    loops = cycles(found)
    for loop in loops:
        ring = [*loop, loop[0]]
        print(f"CYCLE: {' -> '.join(ring)}", file=sys.stderr)
        for source, target in itertools.pairwise(ring):
            print(f"  {source} -> {target}: {', '.join(sorted(found[(source, target)]))}", file=sys.stderr)
    refused = forbidden(found)
    for source, target in refused:
        print(
            f"FORBIDDEN: {source} -> {target}: {', '.join(sorted(found[(source, target)]))}", file=sys.stderr
        )
    if loops or refused:
        return 1
    print(f"no cycle between the {len(packages(root))} top-level packages, no forbidden import")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
