"""A local SMTP sink in its own process: accepts every message, keeps nothing but counts.

    python -m benchmarks.smtp_sink --port 8025 --count-file var/bench/sink.count

Writes "<messages> <distinct recipients>" to the count file whenever the numbers change
(at most every 20 ms), so a benchmark can wait for "all delivered" without sharing memory,
and see duplicates (messages > distinct recipients).
"""

import argparse
import os
import threading
import time

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self):
        self.messages = 0
        self.recipients = set()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages += 1
            self.recipients.update(envelope.rcpt_tos)
        return "250 OK"

    def snapshot(self):
        with self.lock:
            return self.messages, len(self.recipients)


def write_atomically(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count-file", required=True)
    opts = parser.parse_args()
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=opts.port)
    controller.start()
    write_atomically(opts.count_file, "0 0")
    last = (0, 0)
    try:
        while True:
            time.sleep(0.02)
            now = counter.snapshot()
            if now != last:
                write_atomically(opts.count_file, f"{now[0]} {now[1]}")
                last = now
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
