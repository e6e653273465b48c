"""Encrypt and decrypt a backup as a stream of authenticated chunks (AES-256-GCM).

A backup file is a fixed header followed by chunks. The header holds a magic string, the
format version, the key's id (so a wrong key is named as such), a random salt and the chunk
size. Each file gets its own AES-256 key, derived from BACKUP_KEY and the salt with
HKDF-SHA256, so nonces never repeat across files. Chunk n is sealed with the nonce
(n as 11 bytes, then 1 if it is the last chunk else 0) and the header as associated data:
a changed byte anywhere, chunks swapped, dropped or repeated, a file cut short (even at a
chunk boundary) or anything appended all fail authentication. Nothing is handed to the
reader before its chunk has been authenticated.

Pure Python and `cryptography`: no Django.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import secrets
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"IMSCLINIC-BACKUP"
FORMAT_VERSION = 1
KEY_BYTES = 32
SALT_BYTES = 16
KEY_ID_BYTES = 8
TAG_BYTES = 16
DEFAULT_CHUNK = 1 << 20
# A damaged header must not make the reader allocate gigabytes before authentication fails.
MAX_CHUNK = 64 << 20
_HEADER = struct.Struct(f">{len(MAGIC)}sB{KEY_ID_BYTES}s{SALT_BYTES}sI")
HEADER_BYTES = _HEADER.size
_KDF_INFO = b"imsclinic backup v1 aes-256-gcm"
_KEY_ID_LABEL = b"imsclinic backup key id\x00"


class BackupKeyError(Exception):
    """BACKUP_KEY is missing or not a backup key."""


class WrongKey(Exception):
    """The backup was made with another key."""

    def __init__(self, message: str, *, file_key_id: str, our_key_id: str) -> None:
        super().__init__(message)
        self.file_key_id = file_key_id
        self.our_key_id = our_key_id


class Damaged(Exception):
    """The file is not a whole, unaltered backup."""


def generate_key() -> str:
    """Return a new random backup key as text (URL-safe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key(text: str | None) -> bytes:
    """Return the 32 key bytes written in `text`, or raise BackupKeyError saying what is wrong."""
    if text is None or not text.strip():
        raise BackupKeyError("BACKUP_KEY is not set.")
    cleaned = "".join(text.split())
    padded = cleaned + "=" * (-len(cleaned) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BackupKeyError(
            "BACKUP_KEY is not a backup key: it should be 44 characters of URL-safe base64."
        ) from None
    if len(raw) != KEY_BYTES:
        raise BackupKeyError(
            f"BACKUP_KEY is not a backup key: it holds {len(raw)} bytes, a key holds {KEY_BYTES}."
        )
    return raw


def key_id(key: bytes) -> str:
    """Return the key's short public name (16 hex digits); it reveals nothing of the key."""
    return hashlib.sha256(_KEY_ID_LABEL + key).digest()[:KEY_ID_BYTES].hex()


def _file_cipher(key: bytes, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_KDF_INFO).derive(key)
    return AESGCM(derived)


def _nonce(counter: int, final: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if final else b"\x00")


class EncryptingWriter(io.RawIOBase):
    """A write-only stream that encrypts into `sink`; finish() seals the last chunk."""

    def __init__(self, sink: BinaryIO, key: bytes, *, chunk_size: int = DEFAULT_CHUNK) -> None:
        super().__init__()
        if not 0 < chunk_size <= MAX_CHUNK:
            raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK}")
        salt = os.urandom(SALT_BYTES)
        self._header = _HEADER.pack(
            MAGIC, FORMAT_VERSION, bytes.fromhex(key_id(key)), salt, chunk_size
        )
        self._cipher = _file_cipher(key, salt)
        self._sink = sink
        self._chunk = chunk_size
        self._buffer = bytearray()
        self._counter = 0
        self._sealed = False
        self.bytes_written = 0
        self._emit(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        if self._sealed or self.closed:
            raise ValueError("write to a closed backup stream")
        self._buffer += data
        # Keep at least one byte back while more may come, so the last chunk is never empty
        # unless the whole stream is.
        while len(self._buffer) > self._chunk:
            self._seal_chunk(bytes(self._buffer[: self._chunk]), final=False)
            del self._buffer[: self._chunk]
        return len(data)

    def finish(self) -> None:
        """Seal the last chunk and close; a stream closed without this never reads back."""
        if self._sealed:
            return
        self._seal_chunk(bytes(self._buffer), final=True)
        self._buffer.clear()
        self._sealed = True
        self.close()

    def _seal_chunk(self, plain: bytes, *, final: bool) -> None:
        self._emit(self._cipher.encrypt(_nonce(self._counter, final), plain, self._header))
        self._counter += 1

    def _emit(self, data: bytes) -> None:
        self._sink.write(data)
        self.bytes_written += len(data)


def read_header(source: BinaryIO, key: bytes) -> tuple[bytes, int, bytes]:
    """Read and check the header; return it, the chunk size and the salt."""
    header = source.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
        raise Damaged("This is not an imsclinic backup file (its first bytes are not a backup's).")
    _magic, version, file_key_id, salt, chunk_size = _HEADER.unpack(header)
    if version != FORMAT_VERSION:
        raise Damaged(
            f"This backup is in format version {version}; this version of imsclinic reads "
            f"version {FORMAT_VERSION}. Restore it with the imsclinic version that made it, "
            "or the header is damaged."
        )
    ours = key_id(key)
    if file_key_id.hex() != ours:
        raise WrongKey(
            f"This backup was made with another key (key id {file_key_id.hex()}); "
            f"BACKUP_KEY has key id {ours}. Set BACKUP_KEY to the key that made it "
            "(or the file's header is damaged).",
            file_key_id=file_key_id.hex(),
            our_key_id=ours,
        )
    if not 0 < chunk_size <= MAX_CHUNK:
        raise Damaged("The backup file is damaged: its header names an impossible chunk size.")
    return header, chunk_size, salt


def decrypt_chunks(source: BinaryIO, key: bytes) -> Iterator[bytes]:
    """Yield the plaintext chunk by chunk, each only after it has been authenticated.

    Raises WrongKey, or Damaged for any altered, missing or extra byte; the last chunk
    must be marked last, so a generator run to its end has proved the whole file.
    """
    header, chunk_size, salt = read_header(source, key)
    cipher = _file_cipher(key, salt)
    block = chunk_size + TAG_BYTES
    counter = 0
    pending = source.read(block)
    while True:
        following = source.read(block)
        final = not following
        if len(pending) < TAG_BYTES or (not final and len(pending) != block):
            raise Damaged(_cut_short())
        try:
            plain = cipher.decrypt(_nonce(counter, final), pending, header)
        except InvalidTag:
            if final:
                raise Damaged(_cut_short_or_changed()) from None
            raise Damaged(
                f"The backup file is damaged: part {counter + 1} does not match what was "
                "written (a changed byte, or the wrong file)."
            ) from None
        yield plain
        if final:
            return
        counter += 1
        pending = following


def _cut_short() -> str:
    return "The backup file is incomplete: it ends before its last part (cut short while copying?)."


def _cut_short_or_changed() -> str:
    return (
        "The backup file is damaged or incomplete: its last part does not match what was "
        "written (cut short, extended, or a changed byte)."
    )


class DecryptingReader(io.RawIOBase):
    """A read-only stream of the authenticated plaintext; `finished` once the end is proved."""

    def __init__(self, source: BinaryIO, key: bytes) -> None:
        super().__init__()
        self._chunks = decrypt_chunks(source, key)
        self._current = memoryview(b"")
        self.finished = False
        # Fail on a wrong key or a foreign file at once, before anyone reads.
        self._next_chunk()

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bool:
        try:
            self._current = memoryview(next(self._chunks))
        except StopIteration:
            self.finished = True
            return False
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._current:
            if self.finished or not self._next_chunk():
                return 0
        n = min(len(target), len(self._current))
        target[:n] = self._current[:n]
        self._current = self._current[n:]
        return n

    def drain(self) -> None:
        """Read and authenticate everything left, so the end of the file is proved."""
        while self._current or not self.finished:
            self._current = memoryview(b"")
            self._next_chunk()
