"""Every command is documented: docs/cli.md is exactly what the commands' help says."""

from pathlib import Path

from preuves.reference import render_reference

REFERENCE = Path(__file__).parent.parent / "docs" / "cli.md"


def test_cli_reference_is_current():
    assert REFERENCE.read_text(encoding="utf-8") == render_reference(), (
        "docs/cli.md is out of date: run `python -m preuves.reference > docs/cli.md`"
    )


def test_every_command_has_a_french_summary():
    text = render_reference()
    for section in text.split("## `")[1:]:
        name = section.split("`")[0]
        assert "Utilisation :" in section, name
        summary = section.split("Utilisation :")[1].splitlines()[2].strip()
        assert summary, f"{name} has no help text"
    for english in ("Usage:", "Show this message", "[default:", "[required]", "[env var:", "Commands:"):
        assert english not in text, english


def test_command_lists_show_whole_sentences(cli):
    """A command's summary in a list is its help's first paragraph, cut with « ... » when longer than the
    terminal's line: each first paragraph is short enough to be read whole in 80 columns."""
    for group in ((), ("case",), ("letter",), ("event",), ("applicant",), ("piece",), ("user",)):
        listed = cli(*group, "--help").out.split("Commandes :\n")[1].splitlines()
        assert listed and not [line for line in listed if line.rstrip().endswith("...")], group
