"""A non-editable `pip install .` must ship every package and template the tool imports."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_python_package_of_the_tool_is_listed():
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in ROOT.glob("**/__init__.py")
        if init.parent.relative_to(ROOT).parts[0] not in ("tests", ".venv", "build")
        and not any(part.startswith(".") for part in init.relative_to(ROOT).parts)
    }
    assert found == listed


def test_every_template_is_package_data():
    patterns = pyproject()["tool"]["setuptools"]["package-data"]["templates"]
    templates = ROOT / "templates"
    files = [p.relative_to(templates).as_posix() for p in templates.rglob("*") if p.is_file() and p.suffix != ".py"]
    files = [f for f in files if "__pycache__" not in f]
    assert files
    assert [f for f in files if not any(fnmatch(f, pattern) and f.count("/") == pattern.count("/") for pattern in patterns)] == []
