"""A backup's encryption gives back exactly what went in, and refuses any file that is not."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imsclinic.core.backup import crypto

KEY = crypto.parse_key(crypto.generate_key())
OTHER_KEY = crypto.parse_key(crypto.generate_key())


def seal(plain: bytes, *, key: bytes = KEY, chunk_size: int = 64) -> bytes:
    sink = io.BytesIO()
    writer = crypto.EncryptingWriter(sink, key, chunk_size=chunk_size)
    # In uneven pieces, as tar and gzip write.
    for start in range(0, len(plain), 37):
        writer.write(plain[start : start + 37])
    writer.finish()
    return sink.getvalue()


def unseal(sealed: bytes, *, key: bytes = KEY) -> bytes:
    reader = crypto.DecryptingReader(io.BytesIO(sealed), key)
    data = reader.read()
    assert reader.finished
    return data


@settings(max_examples=60, deadline=None)
@given(plain=st.binary(max_size=700), chunk_size=st.integers(min_value=1, max_value=200))
def test_what_is_sealed_opens_to_the_same_bytes_whatever_the_length_and_chunk_size(
    plain: bytes, chunk_size: int
) -> None:
    assert unseal(seal(plain, chunk_size=chunk_size)) == plain


def test_the_same_content_sealed_twice_never_gives_the_same_file() -> None:
    assert seal(b"same") != seal(b"same")


def test_the_file_holds_none_of_the_plaintext() -> None:
    plain = b"Pat Ient, date of birth 1980-04-02. " * 20
    assert b"Pat Ient" not in seal(plain)


def test_a_file_made_with_another_key_is_refused_naming_both_key_ids() -> None:
    sealed = seal(b"clinic data", key=OTHER_KEY)
    with pytest.raises(crypto.WrongKey) as refused:
        unseal(sealed)
    assert crypto.key_id(OTHER_KEY) in str(refused.value)
    assert crypto.key_id(KEY) in str(refused.value)


@pytest.mark.parametrize("position", ["header", "first chunk", "middle", "last byte"])
def test_any_flipped_byte_is_refused_as_damage(position: str) -> None:
    sealed = bytearray(seal(bytes(range(256)) * 3))
    where = {
        "header": len(crypto.MAGIC) + 1 + crypto.KEY_ID_BYTES + 3,  # inside the salt
        "first chunk": crypto.HEADER_BYTES + 5,
        "middle": len(sealed) // 2,
        "last byte": len(sealed) - 1,
    }[position]
    sealed[where] ^= 0x01
    with pytest.raises(crypto.Damaged):
        unseal(bytes(sealed))


def test_a_file_cut_short_anywhere_is_refused_even_exactly_between_two_chunks() -> None:
    sealed = seal(bytes(range(256)) * 3, chunk_size=64)
    block = 64 + crypto.TAG_BYTES
    cuts = [crypto.HEADER_BYTES, crypto.HEADER_BYTES + 10, crypto.HEADER_BYTES + 2 * block]
    cuts += [len(sealed) - 1, len(sealed) - crypto.TAG_BYTES]
    for cut in cuts:
        with pytest.raises(crypto.Damaged):
            unseal(sealed[:cut])


def test_bytes_added_after_the_end_are_refused() -> None:
    with pytest.raises(crypto.Damaged):
        unseal(seal(b"clinic data") + b"\x00")


def test_chunks_swapped_or_repeated_are_refused() -> None:
    sealed = seal(b"a" * 64 + b"b" * 64 + b"c" * 10, chunk_size=64)
    head, block = crypto.HEADER_BYTES, 64 + crypto.TAG_BYTES
    first, second, last = (
        sealed[head : head + block],
        sealed[head + block : head + 2 * block],
        sealed[head + 2 * block :],
    )
    for shuffled in (second + first + last, first + first + second + last, first + last):
        with pytest.raises(crypto.Damaged):
            unseal(sealed[:head] + shuffled)


def test_a_file_that_is_not_a_backup_is_refused_as_such() -> None:
    with pytest.raises(crypto.Damaged, match="not an imsclinic backup"):
        unseal(b"PGDMP" + b"\x00" * 100)


def test_nothing_is_handed_out_before_its_chunk_is_proved() -> None:
    sealed = bytearray(seal(b"x" * 200, chunk_size=64))
    sealed[crypto.HEADER_BYTES + 3] ^= 0x01  # the first chunk
    with pytest.raises(crypto.Damaged):
        crypto.DecryptingReader(io.BytesIO(bytes(sealed)), KEY)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (None, "not set"),
        ("", "not set"),
        ("not base64 at all!", "not a backup key"),
        ("c2hvcnQ=", "holds 5 bytes"),
    ],
)
def test_a_missing_or_malformed_key_is_refused_with_what_is_wrong(
    text: str | None, says: str
) -> None:
    with pytest.raises(crypto.BackupKeyError, match=says):
        crypto.parse_key(text)


def test_a_generated_key_reads_back_with_or_without_padding_and_stray_whitespace() -> None:
    text = crypto.generate_key()
    assert len(text) == 44
    assert crypto.parse_key(f"  {text.rstrip('=')}\n") == crypto.parse_key(text)


def test_a_stream_abandoned_without_finishing_never_reads_back_as_whole() -> None:
    sink = io.BytesIO()
    writer = crypto.EncryptingWriter(sink, KEY, chunk_size=64)
    writer.write(b"x" * 300)
    writer.close()  # an error half way: the last chunk is never sealed
    with pytest.raises(crypto.Damaged):
        unseal(sink.getvalue())
