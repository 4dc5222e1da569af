"""Package boundaries: shared code imports no role, device roles import no server, no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("motcua", "queue_server", "kiosk", "display", "counter")
DEVICE_ROLES = ("kiosk", "display", "counter")


def _imports(path: Path) -> set[str]:
    """Top-level project packages a module imports (at module level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in PACKAGES)
    return found


def _package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        deps: set[str] = set()
        for path in (ROOT / package).rglob("*.py"):
            deps |= _imports(path)
        graph[package] = deps - {package}
    return graph


def test_shared_package_imports_no_role():
    assert _package_graph()["motcua"] == set()


def test_device_roles_import_only_the_shared_package():
    graph = _package_graph()
    for role in DEVICE_ROLES:
        assert graph[role] <= {"motcua"}, f"{role} imports {graph[role] - {'motcua'}}"


def test_no_import_cycle_between_packages():
    graph = _package_graph()

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        return any(nxt == target or (nxt not in seen and reaches(nxt, target, seen | {nxt})) for nxt in graph[start])

    cycles = [p for p in PACKAGES if reaches(p, p, {p})]
    assert not cycles, f"import cycle through {cycles}"


def test_the_checker_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from queue_server.store import Store\n    import kiosk.app\n")
    assert _imports(module) == {"queue_server", "kiosk"}
