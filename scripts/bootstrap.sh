#!/usr/bin/env bash
# Prepare everything `make demo` and `make test` need. Safe to run again: a second run only
# checks, and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
PYTHON=${PYTHON:-python3}
say() { printf '\033[1m[préparation]\033[0m %s\n' "$*" >&2; }

# 1. System packages on Debian/Ubuntu: Chromium (Playwright's own download is often impossible),
#    libatomic1 for Playwright's bundled Node.js driver (a minimal Debian lacks it), the libraries
#    WeasyPrint needs, the PDF checkers, Xvfb and PostgreSQL used by the tests (they start a throwaway
#    server of their own: nothing to start here). The documents' fonts ship with the package.
APT_PACKAGES=(chromium libatomic1 qpdf poppler-utils xvfb xauth fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 postgresql)
# Installed with them, never on its own, and its failure stops nothing: Chromium's translations, so that the
# page it shows in place of a site it cannot reach (kept as evidence) is in French rather than in English.
APT_OPTIONAL=(chromium-l10n)
if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for package in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ]; then
            say "installation des paquets système : ${missing[*]}"
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${APT_OPTIONAL[@]}" >/dev/null \
                || say "paquet facultatif non installé : ${APT_OPTIONAL[*]}"
        elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            say "installation des paquets système (sudo) : ${missing[*]}"
            sudo apt-get update -qq
            sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
            sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${APT_OPTIONAL[@]}" \
                >/dev/null || say "paquet facultatif non installé : ${APT_OPTIONAL[*]}"
        else
            say "paquets système absents (à installer par un administrateur) : sudo apt-get install -y ${missing[*]}"
        fi
    fi
fi

# 2. A Python ≥ 3.11 virtual environment with the project and its test tools.
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Python 3.11 ou plus récent est nécessaire (PYTHON=$PYTHON)." >&2
    exit 2
fi
[ -x "$VENV/bin/python" ] || { say "création de $VENV"; "$PYTHON" -m venv "$VENV"; }
wanted=$("$VENV/bin/python" -c 'import hashlib; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')
if [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$wanted" ]; then
    say "installation de Preuves RDV et de ses dépendances dans $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test]'
    echo "$wanted" > "$VENV/.installed"
fi

# 3. A Chromium for Playwright: Debian's, else Playwright's own download.
if [ ! -x /usr/lib/chromium/chromium ] \
    && ! ls "$HOME"/.cache/ms-playwright/chromium*-*/ "$HOME"/Library/Caches/ms-playwright/chromium*-*/ >/dev/null 2>&1; then
    say "téléchargement de Chromium par Playwright"
    "$VENV/bin/python" -m playwright install chromium
fi

# 4. WeasyPrint needs Pango (macOS: brew install pango).
"$VENV/bin/python" -c 'import weasyprint' 2>/dev/null \
    || { echo "WeasyPrint ne trouve pas Pango : sur macOS « brew install pango », sur Debian « apt-get install libpango-1.0-0 »." >&2; exit 2; }
