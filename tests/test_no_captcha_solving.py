"""Nothing in the product reads, guesses or solves a captcha.

The only product code that knows a captcha's answer is the demonstration's scripted person
(`preuves/demo_person.py`), which asks the simulated site's own test control for it; the only code that
types into a page is that person too. Checked on the source itself (every module of the product
packages, parsed), so that a new module cannot slip in unnoticed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("capture", "evidence", "dossier_builder", "preuves", "templates", "migrations")
SCRIPTED_PERSON = Path("preuves/demo_person.py")
# What knowing or giving an answer looks like: the simulated site's answer, and typing into a page.
ANSWER_NAMES = {"captcha_code"}
TYPING_CALLS = {"fill", "type", "press", "insert_text", "press_sequentially"}


def product_modules() -> list[Path]:
    return sorted(p.relative_to(ROOT) for package in PRODUCT for p in (ROOT / package).rglob("*.py"))


def touches_the_answer(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "simsite.rdvpref":
            found.append(f"imports simsite.rdvpref ({', '.join(a.name for a in node.names)})")
        elif isinstance(node, ast.Import) and any(a.name == "simsite.rdvpref" for a in node.names):
            found.append("imports simsite.rdvpref")
        elif isinstance(node, ast.Name | ast.alias) and (getattr(node, "id", None) or getattr(node, "name", None)) in ANSWER_NAMES:
            found.append("names captcha_code")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in TYPING_CALLS:
            found.append(f"types into a page (.{node.func.attr}())")
    return found


def test_the_product_modules_are_all_seen():
    modules = product_modules()
    assert SCRIPTED_PERSON in modules and Path("capture/walk.py") in modules and len(modules) > 60


@pytest.mark.parametrize("module", product_modules(), ids=str)
def test_only_the_demo_person_knows_or_types_a_captcha_answer(module):
    found = touches_the_answer(ast.parse((ROOT / module).read_text(encoding="utf-8")))
    if module == SCRIPTED_PERSON:
        assert "names captcha_code" in found and "types into a page (.fill())" in found
    else:
        assert found == [], f"{module}: {found}"


def test_the_check_sees_an_answer_however_it_is_imported():
    for source in (
        "from simsite.rdvpref import captcha_code as c",
        "import simsite.rdvpref",
        "async def f(page): await page.fill('#captchaFormulaireExtInput', '1234')",
        "async def f(page): await page.keyboard.type('1234')",
    ):
        assert touches_the_answer(ast.parse(source)), source
