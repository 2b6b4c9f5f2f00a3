"""Is PostgreSQL / Redis answering? With --start, start what is down (CI machines have them installed)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

SERVICES = {
    "postgres": (
        ("127.0.0.1", 5432),
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    ),
    "redis": (
        ("127.0.0.1", 6379),
        'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
        "--dir /var/lib/redis --logfile /var/log/redis/ci.log",
    ),
}


def answers(address: tuple[str, int], timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def main(argv: list[str]) -> int:
    start = "--start" in argv
    missing = []
    for name, (address, command) in SERVICES.items():
        if answers(address):
            continue
        if start:
            print(f"[services] {name} is down; starting it: {command}", file=sys.stderr)
            subprocess.run(command, shell=True, check=False)
            for _ in range(30):
                if answers(address):
                    break
                time.sleep(1)
        if not answers(address):
            missing.append(name)
    print(" ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
