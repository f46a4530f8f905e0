"""The journal's second copy (`journal.jsonl`): written around every commit, in the database's order,
and compared with the database by `verify` (what either side lost or changed is named)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from evidence import triggers
from evidence.errors import StoreError
from evidence.journal_copy import COPY_NAME, FORMAT, JournalCopyWriter, read_copy
from evidence.models import JournalEntry
from evidence.records import add_correction
from evidence.verify import verify_workspace
from evidence.workspace import init_workspace, open_workspace
from tests.evidence_helpers import add_sample_case, drop_triggers, raw_sql, record_sample_captures, rewrite_journal_from

pytestmark = pytest.mark.both_databases


def lines(report):
    return [problem.line() for problem in report.problems]


def database_hashes(workspace) -> list[str]:
    with workspace.reading() as session:
        return list(session.scalars(select(JournalEntry.entry_hash).order_by(JournalEntry.seq)))


def copy_lines(workspace) -> list[dict]:
    return [json.loads(line) for line in workspace.journal_copy.read_text(encoding="utf-8").splitlines()]


@contextmanager
def confirmations_lost(monkeypatch) -> Iterator[None]:
    """As if the process died after each commit, before writing its confirmation."""
    append = JournalCopyWriter._append

    def without_confirmation(self, lines_, **options):
        lines_ = list(lines_)
        if len(lines_) == 1 and "committed" in lines_[0]:
            raise OSError(5, "Input/output error")
        append(self, lines_, **options)

    with monkeypatch.context() as patch:
        patch.setattr(JournalCopyWriter, "_append", without_confirmation)
        yield


@pytest.fixture
def recorded(workspace):
    record_sample_captures(workspace, add_sample_case(workspace), 3)
    return workspace


def test_every_committed_entry_is_in_the_copy_and_confirmed(recorded):
    workspace = recorded
    copy = read_copy(workspace.journal_copy)
    assert [entry.entry_hash for entry in copy.chain] == database_hashes(workspace)
    assert copy.confirmed == len(copy.chain) == 1 + 2 + 3
    assert copy.problems == copy.unreadable_lines == [] and copy.dropped == 0
    written = copy_lines(workspace)
    assert written[0]["format"] == FORMAT and written[0]["copied_from_database"] == 0
    # One transaction: the head it builds on, its entry, then (after the commit) its own confirmation.
    assert [sorted(line) for line in written[-3:]] == [
        ["committed", "entry_hash"], ["entry_hash", "kind", "payload", "prev_hash", "recorded_at", "seq"],
        ["committed", "entry_hash"],
    ]
    assert written[-1] == {"committed": 6, "entry_hash": database_hashes(workspace)[-1]}
    assert (workspace.journal_copy.stat().st_mode & 0o777) == 0o600
    assert verify_workspace(workspace).ok


def test_an_entry_written_then_rolled_back_is_dropped(recorded):
    """The database refuses the commit after the copy took the entry: the next writer takes its
    number again, and the copy's reader keeps the one that was committed."""
    workspace = recorded

    def refuse_once(session):
        event.remove(workspace.sessions, "before_commit", refuse_once)
        raise RuntimeError("commit refusé")

    event.listen(workspace.sessions, "before_commit", refuse_once)
    with pytest.raises(RuntimeError):
        add_correction(workspace, 4, "première tentative, annulée")
    assert read_copy(workspace.journal_copy).chain[-1].kind == "correction"  # written before the refusal
    add_correction(workspace, 4, "deuxième tentative")
    copy = read_copy(workspace.journal_copy)
    assert copy.dropped == 1 and copy.confirmed == len(copy.chain) == 7
    assert json.loads(copy.chain[-1].payload)["data"]["note"] == "deuxième tentative"
    assert lines(verify_workspace(workspace)) == []


def test_a_confirmation_lost_in_a_crash_is_given_by_the_next_writer(recorded, monkeypatch):
    """Killed between the commit and the confirmation: the entry is committed, the copy has it
    unconfirmed; `verify` finds it in the database, the next transaction confirms it."""
    workspace = recorded
    with confirmations_lost(monkeypatch):
        add_correction(workspace, 4, "committed, confirmation lost")
    copy = read_copy(workspace.journal_copy)
    assert (copy.confirmed, len(copy.chain)) == (6, 7)
    assert lines(verify_workspace(workspace)) == []
    add_correction(workspace, 4, "next")
    copy = read_copy(workspace.journal_copy)
    assert (copy.confirmed, len(copy.chain)) == (8, 8)


def test_opening_the_workspace_confirms_what_the_database_committed(recorded, monkeypatch):
    workspace = recorded
    with confirmations_lost(monkeypatch):
        add_correction(workspace, 4, "committed, then the process was killed")
    assert read_copy(workspace.journal_copy).confirmed == 6
    open_workspace(workspace.home).close()
    assert read_copy(workspace.journal_copy).confirmed == 7


def test_a_copy_that_cannot_be_written_keeps_nothing(recorded):
    workspace = recorded
    head = database_hashes(workspace)
    workspace.journal_copy.unlink()
    workspace.journal_copy.mkdir()  # where the copy should be, something it cannot append to
    with pytest.raises(StoreError, match="écriture impossible dans la copie du journal"):
        add_correction(workspace, 4, "not kept")
    assert database_hashes(workspace) == head


def test_a_deleted_copy_is_a_problem_until_it_is_made_again(recorded):
    workspace = recorded
    workspace.journal_copy.unlink()
    open_workspace(workspace.home).close()
    assert not workspace.journal_copy.exists()  # a confirmation alone never starts a copy
    report = verify_workspace(workspace)
    assert lines(report) == [
        f"copie du journal : {COPY_NAME} a été supprimée : la base est la seule trace du journal ; "
        "« preuves repair » la refait à partir de la base"
    ]
    add_correction(workspace, 4, "the next write copies the journal again")
    copy = read_copy(workspace.journal_copy)
    assert copy.copied_from_database == 6 and copy.confirmed == 7
    report = verify_workspace(workspace)
    assert report.ok and any("copie du journal refaite le" in note for note in report.notes)


def test_a_copy_cut_short_is_named(recorded):
    workspace = recorded
    kept = workspace.journal_copy.read_text(encoding="utf-8").splitlines(keepends=True)
    workspace.journal_copy.write_text("".join(kept[:-6]), encoding="utf-8")  # the last two transactions
    assert lines(verify_workspace(workspace)) == [
        f"copie du journal : entrées n° 5 à 6 de la base absente(s) de la copie ({COPY_NAME} coupée ?) ; "
        "« preuves repair » la refait à partir de la base"
    ]


def test_an_entry_changed_in_the_copy_is_named(recorded):
    workspace = recorded
    text = workspace.journal_copy.read_text(encoding="utf-8")
    workspace.journal_copy.write_text(text.replace("noslot", "slots", 1), encoding="utf-8")
    found = lines(verify_workspace(workspace))
    assert found[0].startswith("copie du journal : ligne ") and "(entrée n° 4) : contenu modifié" in found[0]
    assert found[0].endswith(f"[{COPY_NAME}]")


def test_a_database_that_lost_its_last_entry_is_named(recorded):
    """The database cut back to an earlier state (a backup put back, say): its chain is whole, only
    the journal's copy shows what it lost."""
    workspace = recorded
    raw_sql(workspace, *drop_triggers(workspace), "DELETE FROM artefacts WHERE capture_id = 3",
            "DELETE FROM captures WHERE id = 3", "DELETE FROM journal_entries WHERE seq = 6",
            *journal_triggers(workspace))
    assert lines(verify_workspace(workspace)) == [
        "base de données : 1 entrée(s) du journal perdue(s) (entrée n° 6), gardée(s) par la copie : "
        "« preuves repair » reconstruit la base à partir de la copie et des fichiers"
    ]


def journal_triggers(workspace) -> list[str]:
    """The statements putting the append-only protections back."""
    return triggers.create_statements(workspace.engine.dialect.name)


def test_a_database_rewritten_from_one_entry_on_differs_from_the_copy(recorded):
    """A forger rewrites entry 5 and every hash after it: the chain in the database is whole
    again, the copy shows where the two part."""
    workspace = recorded
    rewrite_journal_from(workspace, 5, lambda payload: payload.replace("noslot", "slots"))
    changed_row, parted = lines(verify_workspace(workspace))
    assert changed_row.startswith("capture 2 du ") and "champ « state » modifié" in changed_row
    assert parted == (
        "copie du journal : à partir de l'entrée n° 5, la base et la copie du journal diffèrent (l'une a été réécrite)"
    )


def test_a_workspace_older_than_the_copy_gets_one_at_its_next_write(recorded):
    """Made by a version without the copy: no problem, a note; the next write starts the copy with
    the database's whole journal."""
    workspace = recorded
    rewrite_journal_from(workspace, 1, lambda payload: payload.replace('"journal_copy":"journal.jsonl",', ""))
    workspace.journal_copy.unlink()
    report = verify_workspace(workspace)
    assert report.ok and report.notes[-1] == (
        "pas encore de copie du journal (journal.jsonl, espace créé par une version antérieure) : "
        "elle est faite à la prochaine écriture"
    )
    add_correction(workspace, 4, "the first write after the upgrade")
    copy = read_copy(workspace.journal_copy)
    assert (copy.copied_from_database, copy.confirmed) == (6, 7)
    report = verify_workspace(workspace)
    assert report.ok and not any("copie" in note for note in report.notes)


@pytest.mark.only_database("sqlite", reason="the database file of another workspace put in place of this one's")
def test_a_database_from_another_workspace_is_named(recorded, tmp_path):
    workspace = recorded
    other, _ = init_workspace(tmp_path / "autre")
    other.close()
    workspace.close()
    shutil.copy(other.home / "preuves.sqlite3", workspace.home / "preuves.sqlite3")
    replaced = open_workspace(workspace.home)
    try:
        report = verify_workspace(replaced)
    finally:
        replaced.close()
    assert [problem.line() for problem in report.problems] == [
        f"base de données : ce n'est pas la base dont {COPY_NAME} garde le journal : elle a été recréée ou "
        "remplacée ; « preuves repair » reconstruit la base à partir de la copie et des fichiers",
        "base de données : 6 entrée(s) du journal perdue(s) (entrées n° 1 à 6), gardée(s) par la copie : "
        "« preuves repair » reconstruit la base à partir de la copie et des fichiers",
    ]
    assert len(report.orphans) == 6
