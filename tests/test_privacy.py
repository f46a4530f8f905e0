"""Privacy: `case export` (everything about a case, in one archive) and `case purge` (erase it).

A purge erases the applicant's identity and the case's files that no other case needs, and says
so in the journal first; `verify` then explains the missing files instead of reporting them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import stat
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from capture.plan import build_plan, save_plan
from evidence import journal
from evidence.applicants import ApplicantFields, set_applicant
from evidence.letters import LetterInput, record_letter
from evidence.models import Applicant, Artefact, Capture, Letter, PlannedAttempt
from evidence.purge import PURGE_KIND
from evidence.records import TargetSpec, add_case
from evidence.verify import verify_workspace
from tests.evidence_helpers import add_sample_case, record_sample_captures, sample_png

pytestmark = pytest.mark.both_databases

NAME = "Aminata Traoré"
IDENTITY = ApplicantFields(full_name=NAME, birth_place="Bamako", nationality="malienne",
                           postal_address="12 rue des Lilas\n95000 Cergy", foreigner_number="7501234567")
OTHER_URL = "https://www.val-doise.gouv.fr/booking/create/99999"


def write_letter_files(folder: Path, stem: str, proof: bytes) -> tuple[Path, Path]:
    folder.mkdir(exist_ok=True)
    letter = folder / f"{stem}.png"
    letter.write_bytes(sample_png(f"Courrier {stem}"))
    receipt = folder / f"{stem}-accuse.png"
    receipt.write_bytes(proof)
    return letter, receipt


@pytest.fixture
def two_cases(workspace, tmp_path):
    """Traoré (case 1) and Martin (case 2) on two pages; both letters carry the same receipt scan."""
    receipt = sample_png("Accusé de réception commun")
    traore_target = add_sample_case(workspace, "Traoré")
    martin, _ = add_case(workspace, "Martin", TargetSpec(OTHER_URL, "ezbooking", "16161"))
    record_sample_captures(workspace, traore_target, 3, screenshot=sample_png("Traoré"))
    record_sample_captures(workspace, martin.target_id, 2, screenshot=sample_png("Martin"))
    set_applicant(workspace, "Traoré", IDENTITY)
    for label in ("Traoré", "Martin"):
        letter, proof = write_letter_files(tmp_path / "courriers", label.lower(), receipt)
        record_letter(workspace, label, LetterInput(letter, "sent", "lrar", date(2026, 11, 3), proofs=(proof,)))
    save_plan(workspace, traore_target, build_plan(date.today() + timedelta(days=1), weeks=1, per_day=2,
                                                   min_interval=timedelta(minutes=10), seed=1))
    return {"traore_target": traore_target, "martin_target": martin.target_id, "receipt": hashlib.sha256(receipt).hexdigest()}


def blobs_of(workspace, *conditions) -> set[str]:
    with workspace.reading() as session:
        return set(session.scalars(select(Artefact.sha256).outerjoin(Capture).outerjoin(Letter).where(*conditions)))


def present(workspace, sha256: str) -> bool:
    return workspace.blobs.path_for(sha256).is_file()


# --- export ---------------------------------------------------------------------------------


def test_export_holds_every_file_checked_by_its_sums(workspace, cli, two_cases, tmp_path):
    result = cli("case", "export", "Traoré", "--out", str(tmp_path / "traore.zip"), home=workspace.home)
    assert result.code == 0, result.err
    archive_path = tmp_path / "traore.zip"
    assert result.out.strip() == str(archive_path)
    # Its size written the French way (« 0,1 Mo » or « 95,2 Ko », never « 0.1 Mo »).
    assert re.fullmatch(r"\d+ fichiers d'origine exportés \(\d+(,\d)? (o|Ko|Mo)\), avec leurs empreintes\.",
                        result.err.strip().splitlines()[-1]), result.err
    assert stat.S_IMODE(archive_path.stat().st_mode) == 0o600
    with zipfile.ZipFile(archive_path) as archive:
        names = archive.namelist()
        sums = [line.split("  ", 1) for line in archive.read("SHA256SUMS").decode().splitlines()]
        assert {name for _, name in sums} == set(names) - {"SHA256SUMS"}
        for sha256, name in sums:
            assert hashlib.sha256(archive.read(name)).hexdigest() == sha256, name
        described = json.loads(archive.read("dossier.json"))
        journal_lines = archive.read("journal.jsonl").decode().splitlines()
    # Traoré's three attempts and letter, with their files; none of Martin's.
    assert len([n for n in names if n.startswith("tentatives/")]) == 3 * 2
    assert len([n for n in names if n.startswith("courriers/")]) == 2
    # Folders named in French: « aucun_creneau », « envoye » rather than the codes noslot, sent.
    folders = {name.rsplit("/", 1)[0].split("_")[-1] for name in names if name.startswith(("tentatives/", "courriers/"))}
    assert folders <= {"creneau", "envoye", "recu", "proposes", "captcha", "site", "reconnue"}, folders
    assert described["applicant"]["full_name"] == NAME
    assert [a["attempt_no"] for a in described["attempts"]] == [1, 2, 3]
    martin_screenshots = blobs_of(workspace, Capture.target_id == two_cases["martin_target"], Artefact.kind == "screenshot")
    assert martin_screenshots and not martin_screenshots & {sha for sha, _ in sums}
    assert json.loads(journal_lines[0])["case"]["label"] == "Traoré"
    assert "SHA256SUMS" in "".join(names) and "LISEZMOI.txt" in names


def test_export_refuses_an_existing_file_and_a_tampered_one_leaving_nothing(workspace, cli, two_cases, tmp_path):
    existing = tmp_path / "deja.zip"
    existing.write_bytes(b"ne pas ecraser")
    refused = cli("case", "export", "Traoré", "--out", str(existing), home=workspace.home)
    assert refused.code == 2 and "existe déjà" in refused.err
    assert existing.read_bytes() == b"ne pas ecraser"

    victim = min(blobs_of(workspace, Capture.target_id == two_cases["traore_target"]))
    path = workspace.blobs.path_for(victim)
    path.chmod(0o600)
    path.write_bytes(b"falsifie")
    broken = cli("case", "export", "Traoré", "--out", str(tmp_path / "traore.zip"), home=workspace.home)
    assert broken.code == 1
    assert broken.err.strip().splitlines()[-1].endswith("modifié depuis son enregistrement : lancez « preuves verify »")
    assert sorted(p.name for p in tmp_path.iterdir() if "traore" in p.name) == []


# --- purge ----------------------------------------------------------------------------------


def test_purge_needs_yes_and_changes_nothing_without_it(workspace, cli, two_cases):
    before = verify_workspace(workspace).head
    result = cli("case", "purge", "Traoré", home=workspace.home)
    assert result.code == 2 and "--yes" in result.err
    assert verify_workspace(workspace).head == before


def test_purge_erases_the_case_files_and_identity_and_verify_explains_it(workspace, cli, two_cases):
    traore_files = blobs_of(workspace, (Capture.target_id == two_cases["traore_target"]) | (Letter.case_id == 1))
    martin_files = blobs_of(workspace, (Capture.target_id == two_cases["martin_target"]) | (Letter.case_id == 2))
    assert two_cases["receipt"] in traore_files & martin_files

    result = cli("case", "purge", "Traoré", "--yes", home=workspace.home)
    assert result.code == 0, result.err
    assert "l'identité du demandeur" in result.err and "annulée(s)" in result.err
    assert "se lisent désormais « effacé »" in result.err  # what the key's destruction erased is said

    # Traoré's files are gone, except those Martin's rows still need (the receipt, identical
    # pages); Martin's are untouched.
    assert not any(present(workspace, sha) for sha in traore_files - martin_files)
    assert all(present(workspace, sha) for sha in martin_files)
    with workspace.reading() as session:
        assert session.scalars(select(Applicant)).first() is None
        statuses = set(session.scalars(select(PlannedAttempt.status)))
    assert statuses == {"cancelled"}

    verified = cli("verify", home=workspace.home)
    assert verified.code == 0, verified.out
    lines = verified.out.splitlines()
    assert lines[0].startswith("Effacement demandé : dossier 1 purgé le ")
    assert "l'identité du demandeur et" in lines[0] and "à la demande de l'utilisateur" in lines[0]
    assert lines[-1].startswith("INTACT")
    report = verify_workspace(workspace)
    with workspace.reading() as session:
        erased_rows = session.scalar(
            select(func.count()).select_from(Artefact).where(Artefact.sha256.in_(traore_files - martin_files))
        )
    assert report.ok and report.purged_files == erased_rows > 0
    assert NAME not in verified.out


def test_a_purged_case_takes_no_new_evidence(workspace, cli, two_cases, tmp_path):
    assert cli("case", "purge", "Traoré", "--yes", home=workspace.home).code == 0
    letter, _ = write_letter_files(tmp_path / "nouveau", "relance", sample_png())
    # Its label is erased with it: the case is named by its number.
    assert cli("case", "show", "Traoré", home=workspace.home).code == 2
    for args in (
        ("dossier", "1", "--out", str(tmp_path / "pieces")),
        ("letter", "add", "1", "--file", str(letter), "--date", "2026-11-20", "--direction", "sent", "--channel", "lrar"),
        ("capture", "1"),
        ("plan", "1", "--new"),
        ("case", "export", "1", "--out", str(tmp_path / "x.zip")),
    ):
        result = cli(*args, home=workspace.home)
        assert result.code == 2, args
        assert "a été purgé" in result.err, args
    assert cli("dossier", "Martin", "--out", str(tmp_path / "martin")).code == 0


def test_purging_again_finishes_an_interrupted_purge(workspace, cli, two_cases, tmp_path):
    kept = tmp_path / "copie"
    victim = min(blobs_of(workspace, Capture.target_id == two_cases["traore_target"], Artefact.kind == "screenshot"))
    shutil.copy(workspace.blobs.path_for(victim), kept)
    assert cli("case", "purge", "Traoré", "--yes", home=workspace.home).code == 0
    shutil.copy(kept, workspace.blobs.path_for(victim))  # as if the purge had stopped before this file
    again = cli("case", "purge", "1", "--yes", home=workspace.home)
    assert again.code == 0 and "déjà purgé" in again.err and "1 fichier(s) restant(s) effacé(s)" in again.err
    assert not present(workspace, victim)
    assert verify_workspace(workspace).ok


def test_a_purge_entry_explains_only_its_own_case_files(workspace, cli, two_cases):
    add_case(workspace, "Traoré bis", TargetSpec(
        "https://www.val-doise.gouv.fr/booking/create/11343", "ezbooking", "16161"))
    captures = blobs_of(workspace, Capture.target_id == two_cases["traore_target"])
    assert cli("case", "purge", "Traoré", "--yes", home=workspace.home).code == 0
    # Another case waits on the same page: its attempts' files stay.
    assert all(present(workspace, sha) for sha in captures)
    # A file of Martin deleted behind the tool's back is still a problem.
    victim = min(blobs_of(workspace, Capture.target_id == two_cases["martin_target"], Artefact.kind == "screenshot"))
    workspace.blobs.path_for(victim).unlink()
    report = verify_workspace(workspace)
    assert not report.ok
    assert {p.detail for p in report.problems} == {"fichier supprimé"}
    assert {p.file for p in report.problems} == {workspace.blobs.relpath_for(victim)}


def test_a_forged_purge_cannot_hide_another_case_deleted_file(workspace, two_cases):
    """Anyone able to write the database can append an entry; verify still names what it hides."""
    with workspace.reading() as session:
        martin = session.execute(
            select(Artefact.id, Artefact.sha256).join(Capture)
            .where(Capture.target_id == two_cases["martin_target"], Artefact.kind == "screenshot")
        ).first()
    with workspace.writing() as session:
        entry = journal.append(session, PURGE_KIND, {
            "case_id": 1, "reason": "x", "artefact_ids": [martin.id], "blobs": [martin.sha256],
            "applicant_id": None, "plan_cancelled": 0,
        }, workspace.clock.now())
    workspace.blobs.path_for(martin.sha256).unlink()
    lines = [p.line() for p in verify_workspace(workspace).problems]
    assert f"entrée n° {entry.seq} du journal (case.purged) : la purge du dossier 1 nomme des fichiers d'un autre dossier" in lines
    assert any("fichier supprimé" in line for line in lines)


def test_command_output_never_shows_the_identity(workspace, cli, two_cases, tmp_path):
    outputs = [
        cli(*args, home=workspace.home)
        for args in (
            ("status",), ("case", "list"), ("case", "show", "Traoré"), ("letter", "list", "Traoré"),
            ("verify",), ("dossier", "Traoré", "--out", str(tmp_path / "pieces")),
            ("case", "export", "Traoré", "--out", str(tmp_path / "t.zip")), ("case", "purge", "Traoré", "--yes"),
            ("verify",),
        )
    ]
    assert all(result.code == 0 for result in outputs), [r.err for r in outputs]
    printed = "\n".join(result.out + result.err for result in outputs)
    for value in ("Aminata", "Bamako", "malienne", "Lilas", "7501234567"):
        assert value not in printed
