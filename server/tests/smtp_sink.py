"""A real SMTP server on loopback for the activation e-mail tests (aiosmtpd, pinned in
scripts/setup.sh).

    python3 smtp_sink.py --port PORT --dir DIR

Prints "ready" once it listens. Each accepted message is written to DIR as N.eml (the raw
bytes as they arrived) and N.json: the envelope, the raw headers, and the subject and body
as Python's own e-mail parser decodes them (so the test checks the encoding with a parser
that is not lettre's). Recipients whose local part starts with "reject" are refused with
550, those starting with "later" with 451, as a real server refusing them would.
"""

import argparse
import email
import email.policy
import json
import os
import signal
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("later"):
            return "451 4.3.0 <%s>: Temporary lookup failure" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        raw_headers = email.message_from_bytes(raw, policy=email.policy.compat32)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[k, str(v)] for k, v in raw_headers.items()],
            "subject": str(parsed["Subject"]),
            "content_type": parsed.get_content_type(),
            "charset": parsed.get_content_charset(),
            "transfer_encoding": parsed.get("Content-Transfer-Encoding", ""),
            "body": parsed.get_content(),
        }
        with self.lock:
            self.count += 1
            name = "%06d" % self.count
        # The .json last, by rename: a reader that sees it sees the whole message.
        with open(os.path.join(self.directory, name + ".eml"), "wb") as f:
            f.write(raw)
        tmp = os.path.join(self.directory, name + ".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.directory, name + ".json"))
        return "250 2.0.0 Ok: queued"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
