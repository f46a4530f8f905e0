"""The `preuves` command. Loading the command line takes seconds on a busy machine: a Ctrl-C meanwhile
ends like one during the command (« Interrompu. », exit 130), not with a traceback of the imports."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from preuves.cli import run
    except KeyboardInterrupt:
        sys.stderr.write("Interrompu.\n")
        raise SystemExit(130) from None
    raise SystemExit(run(sys.argv[1:]))
