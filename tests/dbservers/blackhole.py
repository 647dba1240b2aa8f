#!/usr/bin/env python3
"""A TCP "black hole" on 127.0.0.1 for timeout tests (no root, no iptables).

  blackhole.py --mode connect   --port 55999 [--pidfile F] [--daemon]
  blackhole.py --mode handshake --port 55998 [--pidfile F] [--daemon]

connect:   listens with backlog 0, never accepts, and fills the accept queue with its
           own connections. Linux then drops every further SYN, so a client's connect()
           neither succeeds nor is refused: it hangs until the client's connect timeout.
handshake: listens with a large backlog and never accepts. The kernel completes the TCP
           handshake, so connect() succeeds at once, but no byte is ever sent or read:
           the client hangs in its protocol handshake (PostgreSQL startup, the MySQL
           greeting, a Redis reply) until its read/handshake timeout.

Prints "blackhole MODE 127.0.0.1:PORT ready" once it works (the connect mode checks
itself first). Stop it with SIGTERM (tests/dbservers/stop.sh does, for pid files named
STATE_DIR/blackhole-*.pid). Standard library only.
"""

import argparse
import os
import signal
import socket
import sys

HOST = "127.0.0.1"


def build(mode: str, port: int):
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((HOST, port))
    keep = [lst]
    if mode == "handshake":
        lst.listen(4096)
        return keep
    lst.listen(0)
    # Fill the accept queue: connect until one attempt times out (its SYN was dropped).
    # How many fit depends on the kernel (backlog 0 takes 1 on Linux 6.x); stop at 16.
    for _ in range(16):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(0.3)
        try:
            s.connect((HOST, lst.getsockname()[1]))
        except socket.timeout:
            s.close()
            return keep
        keep.append(s)
    raise SystemExit("blackhole: accept queue never filled; connects are not being dropped")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["connect", "handshake"], required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pidfile")
    ap.add_argument("--daemon", action="store_true", help="detach once ready")
    a = ap.parse_args()

    keep = build(a.mode, a.port)
    msg = f"blackhole {a.mode} {HOST}:{keep[0].getsockname()[1]} ready"
    if a.daemon:
        r, w = os.pipe()
        if os.fork() > 0:
            os.close(w)
            ok = os.read(r, 1) == b"1"
            print(msg if ok else "blackhole: child failed", flush=True)
            os._exit(0 if ok else 1)
        os.close(r)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    if a.daemon:
        os.write(w, b"1")
        os.close(w)
    else:
        print(msg, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
