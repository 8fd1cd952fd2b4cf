"""Runs `softtoken ARGS...` in an 80x24 pseudo-terminal for SECONDS and writes everything it
drew to stdout, raw. Used by vault_cli.rs to check `softtoken show`'s live redraw."""

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

seconds = float(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
out = bytearray()
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.1)
    if ready:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
os.kill(pid, signal.SIGTERM)
os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out))
