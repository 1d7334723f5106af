#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""qmp-migrate.py: migrate a running QEMU to one waiting with -incoming.

  qmp-migrate.py --source SOCK --uri URI [--wait-log LOG --wait-for TEXT]
                 [--timeout S] [--expect-error TEXT] [--expect-failure]

Connects to the source's QMP socket, waits until LOG contains TEXT (the
guest's "go" line), starts the migration to URI and polls query-migrate
until it completes, then quits the source (left paused by a completed
migration). Prints "migration: completed in T ms, downtime D ms, R MiB" and
exits 0, or prints why it failed and exits 1.

With --expect-error, the migrate command itself must be refused with an
error containing TEXT (a migration blocker): prints the error and exits 0 if
it is, 1 otherwise; the source keeps running.

With --expect-failure, the migration runs with the return path (the
destination reports a failed load to the source) and must fail: prints the
error and exits 0 once the source runs again, 1 if it completed or the
source stays stopped.
"""
import argparse
import json
import os
import socket
import sys
import time


class Qmp:
    """A minimal QMP client: one command at a time, events skipped."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        # A QEMU that hangs must not hang the harness.
        self.sock.settimeout(60)
        self.file = self.sock.makefile('rw')
        json.loads(self.file.readline())        # the greeting
        self.cmd('qmp_capabilities')

    def cmd(self, name, **args):
        """Run NAME; its reply: {'return': ...} or {'error': ...}."""
        self.file.write(json.dumps({'execute': name, 'arguments': args}))
        self.file.write('\n')
        self.file.flush()
        while True:
            line = self.file.readline()
            if not line:
                raise ConnectionError('QMP socket closed')
            reply = json.loads(line)
            if 'return' in reply or 'error' in reply:
                return reply


def wait_log(qmp, path, text, timeout):
    """Wait for TEXT in PATH while QMP's QEMU still answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, errors='replace') as f:
                if text in f.read():
                    return True
        qmp.cmd('query-status')
        time.sleep(0.2)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--source', required=True)
    ap.add_argument('--uri', required=True)
    ap.add_argument('--wait-log')
    ap.add_argument('--wait-for')
    ap.add_argument('--timeout', type=float, default=300)
    ap.add_argument('--expect-error')
    ap.add_argument('--expect-failure', action='store_true')
    a = ap.parse_args()

    try:
        return migrate(a)
    except (OSError, ValueError) as e:
        print(f'migration: QMP: {e}')
        return 1


def migrate(a):
    src = Qmp(a.source, 60)
    if a.wait_log and not wait_log(src, a.wait_log, a.wait_for, a.timeout):
        print(f'migration: "{a.wait_for}" never appeared in {a.wait_log}')
        return 1
    if a.expect_failure:
        caps = [{'capability': 'return-path', 'state': True}]
        reply = src.cmd('migrate-set-capabilities', capabilities=caps)
        if 'error' in reply:
            print(f"migration: return path: {reply['error'].get('desc')}")
            return 1
    reply = src.cmd('migrate', uri=a.uri)
    if a.expect_error is not None:
        err = reply.get('error', {}).get('desc', '')
        print(f'migration: refused: {err}' if err else
              'migration: started although it should be blocked')
        return 0 if err and a.expect_error in err else 1
    if 'error' in reply:
        print(f"migration: refused: {reply['error'].get('desc')}")
        return 1
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        info = src.cmd('query-migrate')['return']
        status = info.get('status')
        if a.expect_failure and status in ('completed', 'failed', 'cancelled'):
            return resumed(src, info, a.timeout)
        if status == 'completed':
            ram = info.get('ram', {}).get('transferred', 0) >> 20
            print(f"migration: completed in {info.get('total-time')} ms, "
                  f"downtime {info.get('downtime')} ms, {ram} MiB")
            try:
                src.cmd('quit')
            except (OSError, ValueError):
                pass    # it may close the socket before answering
            return 0
        if status in ('failed', 'cancelled'):
            print(f"migration: {status}: {info.get('error-desc', '')}")
            return 1
        time.sleep(0.2)
    print(f'migration: not completed after {a.timeout:.0f} s')
    return 1


def resumed(src, info, timeout):
    """After a migration meant to fail: did it, and does the source run?"""
    if info.get('status') != 'failed':
        print(f"migration: {info.get('status')} although the destination "
              f"should refuse it")
        return 1
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if src.cmd('query-status')['return'].get('status') == 'running':
            print(f"migration: failed as expected "
                  f"({info.get('error-desc', 'no reason given')}); "
                  f"the source runs again")
            return 0
        time.sleep(0.2)
    print('migration: failed, but the source did not resume')
    return 1


if __name__ == '__main__':
    sys.exit(main())
