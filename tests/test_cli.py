"""The command line: exit codes, exact error lines, and bad input that changes nothing."""

import json
import stat
import subprocess
import sys
from datetime import datetime

import pytest
import time_machine

from evidence import journal
from evidence.localtime import PARIS

OFFICIAL = "https://www.val-doise.gouv.fr/booking/create/11343"


@pytest.fixture
def initialised(cli):
    assert cli("init").code == 0
    return cli


def journal_head(tmp_path):
    from evidence.workspace import open_workspace

    workspace = open_workspace(tmp_path / "ws")
    with workspace.reading() as session:
        head = journal.head(session)
    workspace.close()
    return head


def test_init_is_idempotent_and_owner_only(cli, tmp_path):
    first = cli("init")
    assert first.code == 0 and first.out.startswith("Espace de travail créé")
    assert first.err == "Prochaine étape : un dossier par démarche, « preuves case add NOM --url ADRESSE-DE-LA-PAGE ».\n"
    again = cli("init")
    assert again.code == 0 and again.out.startswith("Espace de travail déjà prêt")
    home = tmp_path / "ws"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "blobs").stat().st_mode) == 0o700
    for name in ("preuves.toml", "preuves.sqlite3"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600
    assert journal_head(tmp_path).seq == 1


def test_case_add_prints_id_and_reuses_the_target(initialised):
    first = initialised("case", "add", "Dupont", "--url", OFFICIAL, "--counter", "16161")
    assert (first.code, first.out) == (0, "1\n")
    second = initialised("case", "add", "Martin", "--url", OFFICIAL, "--counter", "16161")
    assert (second.code, second.out) == (0, "2\n")
    assert "page déjà surveillée" in second.err
    listed = json.loads(initialised("case", "list", "--json").out)
    assert [c["target_id"] for c in listed] == [1, 1]
    shown = json.loads(initialised("case", "show", "Martin", "--json").out)
    assert shown["platform"] == "ezbooking" and shown["counter"] == "16161"


def test_a_case_added_just_after_midnight_in_paris_is_followed_from_that_day(initialised):
    """At 00:30 in Paris it is still the day before in UTC: the period starts on the Paris day."""
    with time_machine.travel(datetime(2026, 12, 8, 0, 30, tzinfo=PARIS), tick=False):
        assert initialised("case", "add", "Dupont", "--url", OFFICIAL).code == 0
    assert json.loads(initialised("case", "show", "Dupont", "--json").out)["period_start"] == "2026-12-08"


BAD_INPUTS = [
    (
        ("case", "show", "Inconnu"),
        "Erreur : dossier inconnu : 'Inconnu' (voir « preuves case list »)",
    ),
    (
        ("case", "add", "X", "--url", "pas une adresse"),
        "Erreur : adresse invalide : 'pas une adresse' (attendu : https://…)",
    ),
    (
        ("case", "add", "X", "--url", "https://rdv-prefecture-rapide.fr/booking"),
        "Erreur : adresse refusée : rdv-prefecture-rapide.fr n'est pas un domaine officiel (*.gouv.fr) "
        "en https. Attention aux faux sites qui imitent les préfectures ; utilisez --allow-any-domain "
        "seulement si vous savez ce que vous faites",
    ),
    (
        ("case", "add", "X", "--url", "http://www.val-doise.gouv.fr/booking/create/1"),
        "Erreur : adresse refusée : www.val-doise.gouv.fr n'est pas un domaine officiel (*.gouv.fr) "
        "en https. Attention aux faux sites qui imitent les préfectures ; utilisez --allow-any-domain "
        "seulement si vous savez ce que vous faites",
    ),
    (
        ("case", "add", "   ", "--url", OFFICIAL),
        "Erreur : nom de dossier invalide : 1 à 80 caractères attendus",
    ),
    (
        ("case", "add", "12", "--url", OFFICIAL),
        "Erreur : nom de dossier invalide : il ne peut pas être composé que de chiffres",
    ),
    (
        ("case", "add", "Dupont", "--url", OFFICIAL),
        "Erreur : un dossier nommé 'Dupont' existe déjà",
    ),
    (
        ("case", "add", "Y", "--url", OFFICIAL, "--platform", "minitel"),
        "Erreur : Plateforme inconnue : 'minitel' (connues : ezbooking, rdvpref, eappointment94, anct, generic)",
    ),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(initialised, tmp_path, args, message):
    assert initialised("case", "add", "Dupont", "--url", OFFICIAL).code == 0
    before = journal_head(tmp_path)
    result = initialised(*args)
    assert result.code == 2
    assert result.err.strip().startswith(message)
    assert len(result.err.strip().splitlines()) == 1
    assert journal_head(tmp_path) == before


def test_missing_workspace_is_one_clear_line(cli, tmp_path):
    result = cli("case", "list", home=tmp_path / "nowhere")
    assert result.code == 2
    assert result.err.strip() == (
        f"Erreur : aucun espace de travail dans {tmp_path / 'nowhere'} : "
        f"lancez « preuves init --home {tmp_path / 'nowhere'} »"
    )


def test_home_may_follow_the_command_as_the_hints_write_it(tmp_path, capsys):
    from preuves.cli import run

    home = tmp_path / "ailleurs"
    assert run(["init", "--home", str(home)]) == 0
    assert capsys.readouterr().out == f"Espace de travail créé : {home}\n"
    assert run(["case", "add", "Dupont", "--url", OFFICIAL, f"--home={home}"]) == 0
    capsys.readouterr()
    assert run(["case", "list", "--json", "--home", str(home)]) == 0
    assert [case["label"] for case in json.loads(capsys.readouterr().out)] == ["Dupont"]
    assert run(["case", "list", "--home"]) == 2
    assert capsys.readouterr().err == "Erreur : l'option --home attend une valeur\n"


def test_verify_prints_the_journal_head(initialised, tmp_path):
    initialised("case", "add", "Dupont", "--url", OFFICIAL)
    result = initialised("verify")
    head = journal_head(tmp_path)
    assert result.code == 0
    assert result.out.strip() == (
        f"INTACT — 3 entrées du journal, 0 fichiers vérifiés. "
        f"Tête du journal : n° 3, {head.entry_hash}"
    )
    as_json = json.loads(initialised("verify", "--json").out)
    assert as_json["ok"] is True and as_json["journal_head"] == {"seq": 3, "hash": head.entry_hash}


def test_verify_exits_1_on_tampering(initialised, tmp_path):
    initialised("case", "add", "Dupont", "--url", OFFICIAL)
    import sqlite3

    connection = sqlite3.connect(tmp_path / "ws" / "preuves.sqlite3")
    connection.execute("UPDATE cases SET notes = 'ajout' WHERE id = 1")
    connection.commit()
    connection.close()
    result = initialised("verify")
    assert result.code == 1
    assert result.out.splitlines()[0].startswith("dossier 1 « Dupont » : champ « notes » modifié")
    assert "1 PROBLÈME(S)" in result.out


def test_console_script_runs_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "preuves", "--home", str(tmp_path / "none"), "verify"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Erreur : aucun espace de travail")


def test_verify_checks_a_head_noted_earlier(initialised, tmp_path):
    initialised("case", "add", "Dupont", "--url", OFFICIAL)
    noted = journal_head(tmp_path)
    initialised("case", "add", "Martin", "--url", OFFICIAL + "1")
    assert initialised("verify", "--head", f"{noted.seq}:{noted.entry_hash}").code == 0
    forged = initialised("verify", "--head", f"{noted.seq}:{'0' * 64}")
    assert forged.code == 1
    assert forged.out.splitlines()[0] == (
        f"tête du journal notée (n° 3) : empreinte {noted.entry_hash} au lieu de {'0' * 64} : "
        "le journal a été réécrit depuis"
    )
    later = initialised("verify", "--head", f"99:{noted.entry_hash}")
    assert later.code == 1 and "entrée absente : le journal a été tronqué ou renuméroté depuis" in later.out
    for bad_head in ("3-abc", f"3:{noted.entry_hash[:7]}", f"3:{noted.entry_hash}0", "3:5d1dzzzz"):
        bad = initialised("verify", "--head", bad_head)
        assert (bad.code, bad.err.strip()) == (
            2, "Erreur : tête du journal attendue sous la forme NUMÉRO:EMPREINTE (les 64 caractères hexadécimaux, "
               "ou au moins les 8 premiers)"
        ), bad_head


def test_verify_accepts_a_head_noted_short_as_the_readme_shows(initialised, tmp_path):
    initialised("case", "add", "Dupont", "--url", OFFICIAL)
    noted = journal_head(tmp_path)
    for short in (noted.entry_hash[:8], f"{noted.entry_hash[:12].upper()}…", f"{noted.entry_hash[:10]}..."):
        result = initialised("verify", "--head", f"{noted.seq}:{short}")
        assert result.code == 0, short
        digits = len(short.rstrip(".…"))
        assert result.err.strip().splitlines()[-1] == (
            f"Note : tête du journal notée en abrégé : seuls ses {digits} premiers chiffres ont pu être comparés ; "
            "notez l'empreinte entière pour une preuve complète"
        )
    other = "0" * 8 if not noted.entry_hash.startswith("0" * 8) else "f" * 8
    forged = initialised("verify", "--head", f"{noted.seq}:{other}")
    assert forged.code == 1
    assert forged.out.splitlines()[0] == (
        f"tête du journal notée (n° 3) : empreinte {noted.entry_hash} au lieu de {other} : le journal a été réécrit depuis"
    )


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("nope",), "Erreur : commande inconnue : nope (aide : « preuves --help »)"),
        (("case", "add", "X"), "Erreur : option manquante : --url (aide : « preuves case add --help »)"),
        (("plan", "1", "--weeks", "abc"),
         "Erreur : valeur invalide pour --weeks : un nombre entier est attendu (aide : « preuves plan --help »)"),
        (("case", "list", "en-trop"), "Erreur : argument(s) en trop : en-trop (aide : « preuves case list --help »)"),
        (("case", "add", "X", "--url", "u", "--bogus"),
         "Erreur : option inconnue : --bogus (aide : « preuves case add --help »)"),
        (("letter", "proof", "1"), "Erreur : argument manquant : COURRIER (aide : « preuves letter proof --help »)"),
        (("case", "lsit"), "Erreur : commande inconnue : lsit — vouliez-vous dire « list » ? (aide : « preuves case --help »)"),
        (("case", "show", "1", "--jsn"),
         "Erreur : option inconnue : --jsn — vouliez-vous dire --json ? (aide : « preuves case show --help »)"),
        (("applicant", "set", "1", "--nme", "X"),
         "Erreur : option inconnue : --nme — vouliez-vous dire --anef ou --name ? (aide : « preuves applicant set --help »)"),
    ],
)
def test_usage_errors_are_one_french_line(cli, args, line):
    result = cli(*args)
    assert (result.code, result.out, result.err.splitlines()) == (2, "", [line])


def test_help_is_in_french(cli):
    for args in ((), ("--help",), ("case",), ("case", "add", "--help")):
        result = cli(*args)
        assert result.code == 0 and result.out.startswith("Utilisation : preuves"), args
        assert "Usage" not in result.out and "Show this message" not in result.out
    placeholders = cli("serve", "--help").out + cli("letter", "proof", "--help").out + cli("case", "--help").out
    assert "--port <nombre>" in placeholders and "FICHIERS <chemins>" in placeholders and "DOSSIER <texte>" in placeholders
    assert "{DOSSIER} {COURRIER} [FICHIERS]..." in placeholders  # the arguments are named in French too
    assert "COMMANDE [ARGUMENTS]..." in placeholders
    assert not any(english in placeholders for english in ("<int", "<str>", "<list", "<path>", "COMMAND [ARGS]"))


def test_help_keeps_its_column_with_the_french_placeholders(cli):
    """The options' texts start in one column, the longest placeholder's (« <chemin> » is longer than
    Typer's « <path> »): `--head <texte>` used to start its text two columns before `--dossier <chemin>`."""
    for args in (("verify",), ("case", "add"), ("letter", "add"), ("applicant", "set")):
        options = cli(*args, "--help").out.split("Options :\n")[1].splitlines()
        starts = {len(line) - len(line.lstrip(" ").split("  ", 1)[1].lstrip(" "))
                  for line in options if line.startswith("  -") and "  " in line.strip()}
        assert len(starts) == 1, (args, options)

