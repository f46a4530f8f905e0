"""Start-up: each command imports only what it uses, so that `preuves --help` and `preuves status` answer at
once. (The benches time them; these tests only check what is loaded, in a fresh interpreter.)"""

import json
import subprocess
import sys

# Libraries that take a tenth of a second or more to import, and the commands that need them.
BROWSER_PDF_WEB = (
    "playwright", "weasyprint", "PIL", "pypdf", "jinja2", "flask", "waitress", "apscheduler", "selectolax"
)
DATABASE = ("sqlalchemy", "alembic")


def loaded_after(*argv: str, home: str | None = None) -> set[str]:
    """The top-level packages loaded once `preuves ARGV` has run (in a new Python process)."""
    probe = (
        "import json, os, sys\n"
        "from preuves.cli import run\n"
        "code = run(sys.argv[1:])\n"
        "sys.stdout = sys.__stdout__\n"
        "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]))\n"
    )
    env_home = ["--home", home] if home else []
    result = subprocess.run(
        [sys.executable, "-c", probe, *env_home, *argv], capture_output=True, text=True, check=True
    )
    code, modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert code == 0, result.stderr
    return set(modules)


def test_help_loads_no_database_browser_pdf_or_web_library():
    for argv in (("--help",), ("case", "--help"), ("status", "--help")):
        assert loaded_after(*argv) & {*BROWSER_PDF_WEB, *DATABASE} == set(), argv


def test_status_reads_a_sqlite_workspace_without_sqlalchemy(tmp_path):
    home = str(tmp_path / "ws")
    subprocess.run([sys.executable, "-m", "preuves", "--home", home, "init"], capture_output=True, check=True)
    loaded = loaded_after("status", home=home)
    assert "sqlite3" in loaded
    assert loaded & {*BROWSER_PDF_WEB, *DATABASE} == set()


def test_the_newest_shipped_revision_is_alembics_head(workspace):
    """Opening a workspace recognises the newest schema without Alembic: from the migrations' own lines."""
    from evidence import schema

    assert schema.shipped_head() == schema.head_revision(workspace.engine)
    assert schema.current_revision(workspace.engine) == schema.shipped_head()
