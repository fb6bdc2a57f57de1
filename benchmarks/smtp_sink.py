"""A local SMTP sink in its own process: accepts every message, keeps nothing but counts.

    python -m benchmarks.smtp_sink --port 8025 --count-file var/bench/sink.count \
        [--recipients-file var/bench/sink.recipients]

Writes "<messages> <distinct recipients>" to the count file whenever the numbers change
(at most every 20 ms), so a benchmark can wait for "all delivered" without sharing memory,
and see duplicates (messages > distinct recipients). With --recipients-file it also appends
each delivered message's recipients, one line per message (written before the count file
is updated, so a count the benchmark reads is always covered by the lines), for a benchmark
that must check which addresses got how many messages.

It speaks just enough SMTP for smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) on
one asyncio protocol per connection. It stands in for a mail provider that runs elsewhere:
aiosmtpd, used by the tests, spent 0.8 ms of CPU per message here, on the same two cores as
the workers it measures, and so weighed on both sides of the benchmark with its own costs.
"""

import argparse
import asyncio
import os
import threading


class Counter:
    def __init__(self):
        self.messages = 0
        self.recipients = set()
        self.lines = []  # recipients of the messages not yet written to the recipients file
        self.lock = threading.Lock()

    def delivered(self, recipients):
        with self.lock:
            self.messages += 1
            self.recipients.update(recipients)
            self.lines.append(" ".join(recipients))

    def snapshot(self):
        with self.lock:
            return self.messages, len(self.recipients)

    def take_lines(self):
        with self.lock:
            lines, self.lines = self.lines, []
        return lines


class SMTPSession(asyncio.Protocol):
    def __init__(self, counter):
        self.counter = counter
        self.buffer = b""
        self.in_data = False
        self.recipients = []

    def connection_made(self, transport):
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data):
        self.buffer += data
        replies = []
        while True:
            if self.in_data:
                # The buffer starts with the CRLF that ended the DATA command, so even an
                # empty message ends with CRLF . CRLF.
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    break
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                self.counter.delivered(self.recipients)
                self.recipients = []
                replies.append(b"250 OK\r\n")
                continue
            line, newline, rest = self.buffer.partition(b"\r\n")
            if not newline:
                break
            self.buffer = rest
            replies.append(self.command(line))
            if self.in_data:
                self.buffer = b"\r\n" + self.buffer
            if replies[-1] is None:
                replies.pop()
                self.transport.write(b"".join(replies) + b"221 Bye\r\n")
                self.transport.close()
                return
        if replies:
            self.transport.write(b"".join(replies))

    def command(self, line):
        verb = line[:4].upper()
        if verb == b"EHLO":
            return b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 33554432\r\n"
        if verb == b"RCPT":
            address = line.partition(b":")[2].strip().split(b" ", 1)[0].strip(b"<>")
            self.recipients.append(address.decode("utf-8", "replace"))
            return b"250 OK\r\n"
        if verb == b"DATA":
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"RSET":
            self.recipients = []
            return b"250 OK\r\n"
        if verb == b"QUIT":
            return None
        return b"250 OK\r\n"  # HELO, MAIL, NOOP


def write_atomically(path, text):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


async def serve(port, count_file, recipients_file=None):
    counter = Counter()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTPSession(counter), "127.0.0.1", port)
    if recipients_file:
        open(recipients_file, "w").close()
    write_atomically(count_file, "0 0")
    last = (0, 0)
    async with server:
        while True:
            await asyncio.sleep(0.02)
            now = counter.snapshot()
            if now != last:
                lines = counter.take_lines()
                if recipients_file and lines:
                    with open(recipients_file, "a") as handle:
                        handle.write("\n".join(lines) + "\n")
                write_atomically(count_file, f"{now[0]} {now[1]}")
                last = now


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count-file", required=True)
    parser.add_argument("--recipients-file", help="append each message's recipients here")
    opts = parser.parse_args()
    asyncio.run(serve(opts.port, opts.count_file, opts.recipients_file))


if __name__ == "__main__":
    main()
