"""Typer's own words — help headings, option notes, usage errors — in French.

Typer (0.29, with its vendored Click) writes these in English and offers no translation hook,
so the fixed English fragments are rewritten on their way out: `install()` wraps the help
formatter (the placeholders of the values' types before the options' column is measured, the
rest once the page is written), and `usage_error()` turns a usage error into the one French line
every error of the tool is. Only Typer's fixed texts are matched; the tool's own help is French already.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from typer._click import formatting
from typer._click.exceptions import UsageError

HELP = (
    (re.compile(r"^Usage:", re.MULTILINE), "Utilisation :"),
    (re.compile(r"^(Options|Commands|Arguments):$", re.MULTILINE), lambda m: {"Options": "Options :",
     "Commands": "Commandes :", "Arguments": "Arguments :"}[m[1]]),
    (re.compile(r"Show this message and exit\."), "Afficher cette aide et quitter."),
    (re.compile(r"\[default:(\s)"), r"[par défaut :\1"),
    (re.compile(r"\[env\s+var:(\s)"), r"[variable d'environnement :\1"),
    (re.compile(r"\[required\]"), "[obligatoire]"),
    (re.compile(r"\bCOMMAND \[ARGS\]\.\.\."), "COMMANDE [ARGUMENTS]..."),
)
# Typer's placeholders of a value's type (`--port <int range>`), in French.
PLACEHOLDER = re.compile(r"<(str|int|int range|float|path|list\[Path\]|list\[str\])>")
PLACEHOLDERS = {
    "str": "<texte>", "int": "<nombre>", "int range": "<nombre>", "float": "<nombre>", "path": "<chemin>",
    "list[Path]": "<chemins>", "list[str]": "<textes>",
}

ERRORS = (
    (r"No such command '(.+?)'\.(?: Did you mean '(.+)'\?)?",
     lambda m: f"commande inconnue : {m[1]}" + (f" — vouliez-vous dire « {m[2]} » ?" if m[2] else "")),
    (r"No such option: (\S+)(?: Did you mean (\S+)\?| \(Possible options: (.+)\))?",
     lambda m: f"option inconnue : {m[1]}" + (f" — vouliez-vous dire {m[2] or m[3].replace(', ', ' ou ')} ?"
                                                if m[2] or m[3] else "")),
    (r"Missing option '(.+)'\.?", r"option manquante : \1"),
    (r"Missing argument '(.+)'\.?", r"argument manquant : \1"),
    (r"Missing parameter: (.+)", r"paramètre manquant : \1"),
    (r"Option '(.+)' requires an argument\.", r"l'option \1 attend une valeur"),
    (r"Option '(.+)' requires (\d+) arguments\.", r"l'option \1 attend \2 valeurs"),
    (r"Option '(.+)' does not take a value\.", r"l'option \1 ne prend pas de valeur"),
    (r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)", r"argument(s) en trop : \1"),
    (r"Invalid value for '(.+?)': Input should be a valid integer.*", r"valeur invalide pour \1 : un nombre entier est attendu"),
    (r"Invalid value for '(.+?)': Input should be greater than or equal to (\S+)", r"valeur invalide pour \1 : au moins \2"),
    (r"Invalid value for '(.+?)': Input should be less than or equal to (\S+)", r"valeur invalide pour \1 : au plus \2"),
    (r"Invalid value for '(.+?)': (.+)", r"valeur invalide pour \1 : \2"),
    (r"Missing command\.", r"commande manquante"),
)
_ERRORS = tuple((re.compile(pattern, re.DOTALL), french) for pattern, french in ERRORS)


def french_help(text: str) -> str:
    for pattern, french in HELP:
        text = pattern.sub(french, text)
    return text


def usage_error(error: UsageError) -> str:
    """One line: the French message, and where to find help."""
    message = error.format_message().strip()
    for pattern, french in _ERRORS:
        if pattern.fullmatch(message):
            message = pattern.sub(french, message)
            break
    message = " ".join(message.split())
    command = error.ctx.command_path if error.ctx is not None else "preuves"
    return f"Erreur : {message} (aide : « {command} --help »)"


def french_terms(rows: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The rows of an options or arguments list, their placeholders in French."""
    return [(PLACEHOLDER.sub(lambda found: PLACEHOLDERS[found[1]], term), text) for term, text in rows]


def install() -> None:
    """Every help page Typer writes goes through the formatter's `write_dl` (each list of options,
    arguments or commands, whose first column is measured there) and `getvalue`."""
    if getattr(formatting.HelpFormatter.getvalue, "french", False):
        return
    english = formatting.HelpFormatter.getvalue
    english_list = formatting.HelpFormatter.write_dl

    def getvalue(self: formatting.HelpFormatter) -> str:
        return french_help(english(self))

    def write_dl(self: formatting.HelpFormatter, rows: Sequence[tuple[str, str]], *args: int, **kwargs: int) -> None:
        english_list(self, french_terms(rows), *args, **kwargs)

    getvalue.french = True  # type: ignore[attr-defined]
    formatting.HelpFormatter.getvalue = getvalue  # type: ignore[method-assign]
    formatting.HelpFormatter.write_dl = write_dl  # type: ignore[method-assign]
