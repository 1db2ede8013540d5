"""A real SMTP server for the email output's tests: aiosmtpd 1.4.6 on 127.0.0.1:PORT that
appends every message it accepts to OUT as one JSON line (envelope sender and recipients,
Subject, the text and HTML bodies, attachments, who logged in, whether the session was TLS). Prints "ready" once it
listens; runs until killed.

    python smtp_sink.py PORT OUT [CERT KEY USER PASSWORD]

With CERT and KEY it requires STARTTLS, and then AUTH as USER with PASSWORD.
"""

import email
import email.policy
import json
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Record:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        html = message.get_body(preferencelist=("html",))
        line = json.dumps(
            {
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "subject": message["Subject"],
                "cc": message["Cc"],
                "bcc_header": message["Bcc"],
                "body": body.get_content() if body is not None else "",
                "html": html.get_content() if html is not None else None,
                "html_type": html["Content-Type"] if html is not None else None,
                "attachments": [
                    {"name": a.get_filename(), "content": a.get_content().decode()}
                    for a in message.iter_attachments()
                ],
                "login": session.auth_data.decode() if session.auth_data else None,
                "tls": session.ssl is not None,
            }
        )
        with self.lock, open(self.path, "a") as out:
            out.write(line + "\n")
        return "250 OK"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    secured = {}
    if len(sys.argv) > 3:
        cert, key, user, password = sys.argv[3:7]
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login.decode() == user and auth_data.password.decode() == password
            # Recorded with each mail as "login": USER/MECHANISM.
            return AuthResult(success=ok, auth_data=f"{user}/{mechanism}".encode() if ok else None)

        secured = dict(
            tls_context=context,
            require_starttls=True,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=True,
        )
    controller = Controller(Record(out), hostname="127.0.0.1", port=port, **secured)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
