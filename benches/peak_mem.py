#!/usr/bin/env python3
"""Runs a command and reports its wall time, peak RSS and peak anonymous memory (RssAnon: heap and
stacks, not the mapped program or page cache), sampling /proc every 5 ms.

Usage: python3 benches/peak_mem.py CMD [ARGS...]
"""
import subprocess
import sys
import time


def sample(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None
    kb = lambda k: int(fields.get(k, "0 kB").split()[0])
    return kb("RssAnon"), kb("VmHWM")


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    t0 = time.monotonic()
    p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    anon = hwm = 0
    while p.poll() is None:
        s = sample(p.pid)
        if s:
            anon, hwm = max(anon, s[0]), max(hwm, s[1])
        time.sleep(0.005)
    wall = time.monotonic() - t0
    print(f"wall {wall:.2f} s, peak RSS {hwm / 1024:.0f} MB, peak anonymous {anon / 1024:.0f} MB, exit {p.returncode}")
    return p.returncode


if __name__ == "__main__":
    sys.exit(main())
