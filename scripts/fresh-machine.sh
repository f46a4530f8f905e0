#!/usr/bin/env bash
# The README's two commands on a fresh, minimal Debian 12, timed: proves that the set-up installs everything
# (system packages, Python environment, browser, fonts) and that the suite passes there.
#
#   sudo scripts/fresh-machine.sh [FOLDER]      (FOLDER: where the Debian root is built, /var/tmp/preuves-fresh)
#
# It builds a root with debootstrap (variant minbase plus only python3, python3-venv, python3-pip, make, git and
# ca-certificates, as a new user's machine would have), clones the repository's committed HEAD into it, and runs
# `make demo` then `make test` inside it with chroot, as root. Not part of CI: it takes many minutes and needs
# root and the package mirrors (MIRROR, default deb.debian.org; pip uses PyPI as on any machine).
set -euo pipefail

FOLDER=${1:-/var/tmp/preuves-fresh}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
REPO=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
say() { printf '\033[1m[machine neuve]\033[0m %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { echo "À lancer en root (debootstrap et chroot)." >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "debootstrap absent : apt-get install debootstrap" >&2; exit 2; }
[ ! -e "$FOLDER" ] || { echo "$FOLDER existe déjà : choisissez un autre dossier ou supprimez-le." >&2; exit 2; }

mounted=()
cleanup() {
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
mount_into() {  # mount_into TYPE-OR-BIND SOURCE TARGET
    mkdir -p "$3"
    if [ "$1" = bind ]; then mount --bind "$2" "$3"; else mount -t "$1" "$2" "$3"; fi
    mounted+=("$3")
}

started=$SECONDS
say "debootstrap de Debian 12 (minbase) dans $FOLDER"
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,make,git,ca-certificates \
    bookworm "$FOLDER" "$MIRROR" >/dev/null
cat > "$FOLDER/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$FOLDER/etc/resolv.conf"
# Where this machine trusts local certificate authorities (a network that inspects TLS on its way to the
# registries), the new system must trust them too, or pip cannot reach PyPI.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$FOLDER/usr/local/share/ca-certificates/"
    chroot "$FOLDER" update-ca-certificates >/dev/null
fi
mount_into proc proc "$FOLDER/proc"
mount_into sysfs sysfs "$FOLDER/sys"
mount_into bind /dev "$FOLDER/dev"
mount_into devpts devpts "$FOLDER/dev/pts"
mount_into tmpfs tmpfs "$FOLDER/dev/shm"
git clone --quiet "$REPO" "$FOLDER/root/preuves-rdv"
say "système prêt en $((SECONDS - started)) s ; commit $(git -C "$FOLDER/root/preuves-rdv" rev-parse --short HEAD)"

run_timed() {  # run_timed NAME COMMAND: runs it in the new system, prints its duration and exit code
    local begin=$SECONDS code=0
    say "$1"
    chroot "$FOLDER" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        LANG=C.UTF-8 TERM=dumb bash -c "cd /root/preuves-rdv && $2" || code=$?
    say "$1 : code de sortie $code en $((SECONDS - begin)) s"
    return "$code"
}

status=0
run_timed "make demo" "make demo" || status=1
run_timed "make test" "make test" || status=1
say "total : $((SECONDS - started)) s ; $([ $status = 0 ] && echo 'les deux commandes ont réussi' || echo 'ÉCHEC')"
exit "$status"
