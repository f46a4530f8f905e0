"""Bad input that used to get through (issue 16 §3): each is one French line, exit 2, nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.evidence_helpers import pdf_bytes, sample_png

URL = "https://www.val-doise.gouv.fr/booking/create/11343"
HUGE = "99999999999999999999999"


@pytest.fixture
def one_case(cli, tmp_path):
    """A workspace with case 1 « Dupont »; returns the CLI runner."""
    assert cli("init").code == 0
    assert cli("case", "add", "Dupont", "--url", URL).code == 0
    return cli


def journal_lines(tmp_path: Path) -> list[str]:
    return (tmp_path / "ws" / "journal.jsonl").read_text(encoding="utf-8").splitlines()


def refused(cli, tmp_path: Path, *args: str) -> str:
    """Run a command that must be refused: exit 2, one line on stderr, no journal entry; the line."""
    before = journal_lines(tmp_path)
    result = cli(*args)
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert "Traceback" not in result.err
    assert journal_lines(tmp_path) == before
    return result.err.strip()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("case", "show", HUGE), f"Erreur : dossier inconnu : '{HUGE}' (voir « preuves case list »)"),
        (("letter", "list", HUGE), f"Erreur : dossier inconnu : '{HUGE}' (voir « preuves case list »)"),
        (("letter", "proof", "1", HUGE, "{png}"),
         f"Erreur : courrier n° {HUGE} inconnu dans le dossier « Dupont » (voir « preuves letter list »)"),
        (("letter", "add", "1", "--file", "{pdf}", "--direction", "received", "--channel", "email",
          "--date", "2026-11-02", "--answers", HUGE),
         f"Erreur : courrier n° {HUGE} inconnu dans le dossier « Dupont » (voir « preuves letter list »)"),
        (("piece", "remove", "1", HUGE),
         f"Erreur : pièce n° {HUGE} inconnue dans le dossier « Dupont » (voir « preuves piece list »)"),
        (("verify", "--head", f"{HUGE}:{'a' * 64}"),
         f"Erreur : tête du journal : aucune entrée ne peut porter le n° {HUGE}"),
    ],
)
def test_a_number_too_large_for_any_row_is_not_found(one_case, tmp_path, args, line):
    (tmp_path / "a.pdf").write_bytes(pdf_bytes())
    (tmp_path / "a.png").write_bytes(sample_png())
    files = {"{pdf}": str(tmp_path / "a.pdf"), "{png}": str(tmp_path / "a.png")}
    assert refused(one_case, tmp_path, *(files.get(arg, arg) for arg in args)) == line


@pytest.mark.parametrize("day", ["0001-01-01", "1800-06-01", "9999-12-31", "01/01/99999999999999999999"])
@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("letter", "add", "1", "--file", "{pdf}", "--direction", "sent", "--channel", "lrar", "--date", "{day}"),
         "date du courrier"),
        (("applicant", "set", "1", "--name", "A B", "--birth-date", "{day}"), "date de naissance"),
        (("applicant", "set", "1", "--name", "A B", "--permit-expiry", "{day}"), "date d'expiration du titre de séjour"),
        (("event", "add", "1", "--kind", "appel", "--outcome", "pas de rendez-vous", "--date", "{day}"),
         "date de la démarche"),
        (("piece", "add", "1", "--file", "{pdf}", "--kind", "identite", "--label", "Passeport", "--date", "{day}"),
         "date du document"),
    ],
)
def test_a_date_out_of_any_real_range_is_refused(one_case, tmp_path, args, what, day):
    (tmp_path / "a.pdf").write_bytes(pdf_bytes())
    values = {"{pdf}": str(tmp_path / "a.pdf"), "{day}": day}
    line = refused(one_case, tmp_path, *(values.get(arg, arg) for arg in args))
    reason = "attendu AAAA-MM-JJ ou JJ/MM/AAAA" if "/" in day else "année entre 1900 et 2100 attendue"
    assert line == f"Erreur : {what} invalide : '{day}' ({reason})"


def run_here(folder: Path, monkeypatch, capsys, *argv: str) -> tuple[int, str]:
    """`preuves ARGV…` run from `folder`, without the fixture's --home; (exit code, stderr)."""
    from preuves.cli import run

    monkeypatch.chdir(folder)
    monkeypatch.delenv("PREUVES_HOME", raising=False)
    capsys.readouterr()
    code = run(list(argv))
    return code, capsys.readouterr().err.strip()


def test_an_empty_home_is_refused_and_the_current_folder_left_as_it_is(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "mes-documents"
    folder.mkdir()
    folder.chmod(0o755)
    (folder / "lettre.odt").write_text("brouillon")
    assert run_here(folder, monkeypatch, capsys, "--home", "", "init") == (
        2, "Erreur : --home vide : donnez le chemin du dossier de l'espace de travail"
    )
    assert run_here(folder, monkeypatch, capsys, "init", "--home", "") == (
        2, "Erreur : --home vide : donnez le chemin du dossier de l'espace de travail"
    )
    assert sorted(path.name for path in folder.iterdir()) == ["lettre.odt"]
    assert folder.stat().st_mode & 0o777 == 0o755


def test_init_in_a_folder_holding_other_files_asks_for_yes_before_making_it_owner_only(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "mes-documents"
    folder.mkdir()
    folder.chmod(0o755)
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):
        (folder / name).write_text("x")
    assert run_here(tmp_path, monkeypatch, capsys, "--home", str(folder), "init") == (
        2,
        f"Erreur : {folder} contient déjà d'autres fichiers (a.txt, b.txt, c.txt …) : l'espace de travail le "
        "réserverait à vous seul (droits 0700) ; choisissez un dossier vide ou neuf, ou ajoutez --yes",
    )
    assert len(list(folder.iterdir())) == 4 and folder.stat().st_mode & 0o777 == 0o755
    assert run_here(tmp_path, monkeypatch, capsys, "--home", str(folder), "init", "--yes")[0] == 0
    assert folder.stat().st_mode & 0o777 == 0o700
    # Once it is a workspace, init is the usual no-op, without --yes.
    assert run_here(tmp_path, monkeypatch, capsys, "--home", str(folder), "init")[0] == 0
    empty = tmp_path / "vide"
    empty.mkdir()
    assert run_here(tmp_path, monkeypatch, capsys, "--home", str(empty), "init")[0] == 0


def test_a_case_name_is_the_same_case_whatever_its_unicode_form_or_spaces(cli, tmp_path):
    import json
    import unicodedata

    assert cli("init").code == 0
    composed = "2026-014 Amélie séjour"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert cli("case", "add", decomposed, "--url", URL).code == 0
    assert [case["label"] for case in json.loads(cli("case", "list", "--json").out)] == [composed]
    for typed in (decomposed, composed, composed.replace(" ", "\u00a0"), f" 2026-014\u202f\u2003Amélie séjour "):
        shown = cli("case", "show", typed, "--json")
        assert (shown.code, json.loads(shown.out)["id"]) == (0, 1), typed
    for look_alike in (composed.replace(" ", "\u00a0"), composed.replace(" ", "  "), decomposed):
        assert refused(cli, tmp_path, "case", "add", look_alike, "--url", URL + "2") == (
            f"Erreur : un dossier nommé {composed!r} existe déjà"
        )


def test_dossier_refuses_an_output_folder_it_cannot_make_before_doing_anything(one_case, tmp_path):
    in_the_way = tmp_path / "notes.txt"
    in_the_way.write_text("x")
    assert refused(one_case, tmp_path, "dossier", "1", "--out", str(in_the_way / "pieces")) == (
        f"Erreur : le dossier de sortie {in_the_way / 'pieces'} ne peut pas être créé : {in_the_way} est un fichier"
    )
    assert refused(one_case, tmp_path, "dossier", "1", "--out", str(in_the_way)) == (
        f"Erreur : le dossier de sortie {in_the_way} est un fichier : donnez le nom d'un dossier nouveau ou vide"
    )
    assert in_the_way.read_text() == "x"


def test_system_errors_are_said_in_french(one_case, tmp_path):
    import socket

    assert refused(one_case, tmp_path, "letter", "add", "1", "--file", str(tmp_path / "absent.pdf"), "--direction",
                   "sent", "--channel", "lrar", "--date", "2026-11-02") == (
        f"Erreur : {tmp_path / 'absent.pdf'} : lecture impossible (fichier ou dossier introuvable)"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert refused(one_case, tmp_path, "serve", "--port", str(port), "--no-watch") == (
            f"Erreur : impossible d'écouter sur 127.0.0.1:{port} (adresse déjà utilisée par un autre programme)"
        )


def test_the_password_prompts_are_french_and_a_mismatch_changes_nothing(one_case, tmp_path):
    """Typed on a real terminal (getpass reads /dev/tty): no « Repeat for confirmation: »."""
    import os
    import pty
    import sys
    import time

    pid, terminal = pty.fork()
    if pid == 0:  # the child: `preuves user add` on the terminal
        os.execv(sys.executable, [sys.executable, "-m", "preuves", "--home", str(tmp_path / "ws"),
                                  "user", "add", "camille", "--organisation", "Cimade"])

    def screen_until(text: str) -> str:
        shown, deadline = b"", time.monotonic() + 30
        while text.encode() not in shown and time.monotonic() < deadline:
            try:
                shown += os.read(terminal, 1024)
            except OSError:  # the child has gone
                break
        return shown.decode()

    before = journal_lines(tmp_path)
    assert screen_until("Mot de passe : ").endswith("Mot de passe : ")
    os.write(terminal, b"une phrase assez longue\n")
    assert screen_until("confirmer : ").strip() == "Le même, pour confirmer :"
    os.write(terminal, b"une autre phrase longue\n")
    assert screen_until("changé").strip() == "Erreur : les deux mots de passe tapés diffèrent : rien n'a été changé"
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 2
    os.close(terminal)
    assert journal_lines(tmp_path) == before


def test_a_postal_address_too_long_is_said_in_good_french(one_case, tmp_path):
    assert refused(one_case, tmp_path, "applicant", "set", "1", "--name", "A B", "--address", "x" * 1001) == (
        "Erreur : adresse postale : texte trop long, 1000 caractères au plus"
    )


def test_demo_refuses_a_home_that_is_not_new_or_empty(one_case, tmp_path):
    assert refused(one_case, tmp_path, "demo", "--out", str(tmp_path / "demo")) == (
        f"Erreur : {tmp_path / 'ws'} n'est pas vide : la démonstration s'installe dans un dossier neuf ou vide"
    )
    assert not (tmp_path / "demo").exists()


def test_a_letter_too_heavy_for_telerecours_is_refused_when_added(one_case, tmp_path):
    """A letter and its proofs are one pièce: over 32 Mo, the dossier could not be filed."""
    import os

    from PIL import Image

    side = 3300  # random pixels do not compress: about 32.7 Mo
    heavy = tmp_path / "scan.png"
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(heavy, compress_level=0)
    size = f"{heavy.stat().st_size / 1_000_000:.1f}".replace(".", ",")
    assert heavy.stat().st_size > 32_000_000
    assert refused(one_case, tmp_path, "letter", "add", "1", "--file", str(heavy), "--direction", "sent",
                   "--channel", "lrar", "--date", "2026-11-02") == (
        f"Erreur : {heavy} : le courrier et ses preuves font {size} Mo, or Télérecours refuse toute pièce de plus "
        "de 32 Mo : numérisez-les plus légers (150 ppp, niveaux de gris) avant de les enregistrer"
    )
    # Nor may proofs added later make the pièce too heavy.
    (tmp_path / "lettre.pdf").write_bytes(pdf_bytes())
    assert one_case("letter", "add", "1", "--file", str(tmp_path / "lettre.pdf"), "--direction", "sent",
                    "--channel", "lrar", "--date", "2026-11-02").code == 0
    assert refused(one_case, tmp_path, "letter", "proof", "1", "1", str(heavy)).startswith(
        f"Erreur : {heavy} : le courrier et ses preuves font "
    )
