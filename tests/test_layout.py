"""The import rules between the top-level packages, checked on every run.

protocol imports nothing of ours; store may use protocol; broker uses
protocol and store; raterd uses protocol only (raters hold no database
credentials); frontend uses protocol and store and reaches the broker over
the wire only.
"""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = {"protocol", "store", "broker", "raterd", "frontend"}
ALLOWED = {
    "protocol": set(),
    "store": {"protocol"},
    "broker": {"protocol", "store"},
    "raterd": {"protocol"},
    "frontend": {"protocol", "store"},
}


def imports_of(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for folder, _, files in os.walk(os.path.join(ROOT, package)):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            tree = ast.parse(open(path, encoding="utf-8").read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    tops = {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    tops = {node.module.split(".")[0]}
                else:
                    continue
                for top in tops & OURS - {package}:
                    found.setdefault(top, set()).add(os.path.relpath(path, ROOT))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_design_allows(package):
    forbidden = {dep: files for dep, files in imports_of(package).items() if dep not in ALLOWED[package]}
    assert forbidden == {}, f"{package} imports {forbidden}"
