"""A real SMTP server for the email output's tests: aiosmtpd 1.4.6 on 127.0.0.1:PORT that
appends every message it accepts to OUT as one JSON line (envelope sender and recipients,
Subject, the text body). Prints "ready" once it listens; runs until killed.

    python smtp_sink.py PORT OUT
"""

import email
import email.policy
import json
import sys
import threading

from aiosmtpd.controller import Controller


class Record:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        line = json.dumps(
            {
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "subject": message["Subject"],
                "cc": message["Cc"],
                "bcc_header": message["Bcc"],
                "body": body.get_content() if body is not None else "",
            }
        )
        with self.lock, open(self.path, "a") as out:
            out.write(line + "\n")
        return "250 OK"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Record(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
