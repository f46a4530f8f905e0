"""A throwaway PostgreSQL server for the tests that say they run on PostgreSQL.

It is started by the test set-up itself (initdb in a temporary folder, a free port on 127.0.0.1,
a Unix socket in the same folder) and stopped at the end; as root it runs as the `postgres`
system user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def find_pg_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresCluster:
    """A running throwaway server: its URL, its data folder, and a way to restart it."""

    url: str
    data: Path
    folder: Path
    pg_bin: Path
    run_as: list[str]
    port: int

    def run(self, *command: str) -> None:
        subprocess.run([*self.run_as, *command], check=True, capture_output=True, cwd=self.folder)

    def start(self) -> None:
        self.run(
            str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-w", "-l", str(self.folder / "log"), "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self) -> None:
        self.run(str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Start a server with a fresh, empty database "preuves"; stop it and remove it at the end."""
    pg_bin = find_pg_bin()
    if pg_bin is None:
        raise RuntimeError("PostgreSQL introuvable (apt-get install postgresql)")
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else os.environ.get("USER", "postgres")
    folder = Path(tempfile.mkdtemp(prefix="preuves-pg-"))
    if as_root:
        shutil.chown(folder, "postgres")
    port = _free_port()
    cluster = PostgresCluster(
        url=f"postgresql+psycopg://{user}@127.0.0.1:{port}/preuves",
        data=folder / "data",
        folder=folder,
        pg_bin=pg_bin,
        run_as=["runuser", "-u", "postgres", "--"] if as_root else [],
        port=port,
    )
    cluster.run(str(pg_bin / "initdb"), "-D", str(cluster.data), "-A", "trust", "-U", user, "--no-sync")
    cluster.start()
    try:
        cluster.run(str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, "preuves")
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a fresh, empty database."""
    with postgres_cluster() as cluster:
        yield cluster.url
