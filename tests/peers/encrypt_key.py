"""Encrypts a PEM private key with Python `cryptography` (OpenSSL underneath), as a user's tools
would: PKCS#8 with `BestAvailableEncryption` (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC).

Usage: encrypt_key.py PLAIN_KEY_PEM OUT_PEM PASSPHRASE
"""

import sys

from cryptography.hazmat.primitives import serialization

plain_path, out_path, passphrase = sys.argv[1:4]
with open(plain_path, "rb") as f:
    key = serialization.load_pem_private_key(f.read(), password=None)
encrypted = key.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.BestAvailableEncryption(passphrase.encode()),
)
with open(out_path, "wb") as f:
    f.write(encrypted)
