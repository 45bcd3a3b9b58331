"""Structural checks of the container formats recordings come in: what a tablet's camera app or a
browser's MediaRecorder makes. A short allow-list of containers, each read far enough to know it
really is one and whether it holds a picture track (video) or only sound (audio):

* **WebM** (Chrome, Edge, Firefox recordings): an EBML header whose DocType is ``webm`` (other
  Matroska files are refused), then the Segment's Tracks: a video track makes it a video.
* **ISO base media** (MP4, M4A, MOV from iPads and Safari; HEIC photos): an ``ftyp`` box at the very
  start with a brand on our list; for MP4/MOV the ``moov`` box must be there and its handlers say
  ``vide`` (video) or only ``soun`` (audio). HEIC photos are told apart by their brands (``heic``,
  ``heix``, ``mif1``...), and decoded by the image path (classnote.files.images).
* **Ogg** with Opus or Vorbis sound (Firefox's audio recordings): the first page's first packet.

Nothing is decoded or transcoded: the bytes are stored as they came and played by the browser.
Anything else raises :class:`NotMedia`; the caller turns it into its refusal.
"""

from __future__ import annotations

import struct
from typing import IO

# How much of a file the checks read at most: the headers sit at the start; an MP4's moov box may
# be at the end, and is read on its own (MOOV_MAX_BYTES).
EBML_READ_BYTES = 1024 * 1024
MOOV_MAX_BYTES = 16 * 1024 * 1024
MAX_TOP_BOXES = 4096

AUDIO, VIDEO, HEIC, QUICKTIME = "audio", "video", "heic", "quicktime"

# ftyp brands of HEIF/HEIC photos (iPhone, iPad: heic; 10-bit and bursts: heix, hevc, hevx; the
# structure brands mif1/msf1 together with one of those).
HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"})
HEIF_STRUCTURE_BRANDS = frozenset({b"mif1", b"msf1"})
# MP4 family: the major brand must be one of these (audio or video is decided by the tracks).
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4A ", b"M4V ", b"M4B "}
    | {b"dash", b"MSNV", b"f4v ", b"mmp4"}
)
QUICKTIME_BRANDS = frozenset({b"qt  "})

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE = 0x4282
_SEGMENT = 0x18538067
_TRACKS = 0x1654AE6B
_TRACK_ENTRY = 0xAE
_TRACK_TYPE = 0x83
_CLUSTER = 0x1F43B675
_TRACK_VIDEO, _TRACK_AUDIO = 1, 2


class NotMedia(Exception):
    """Not a recording in a container on the allow-list (or damaged)."""


# --- WebM ---------------------------------------------------------------------------------------


def _vint(data: bytes, pos: int, *, element_id: bool = False) -> tuple[int | None, int]:
    """An EBML variable-length integer at POS: (value, next position). Sizes of all ones mean
    "unknown" (None): a live recording's Segment and Clusters are written so."""
    if pos >= len(data):
        raise NotMedia
    first = data[pos]
    if first == 0:
        raise NotMedia
    length = 9 - first.bit_length()
    if pos + length > len(data):
        raise NotMedia
    raw = int.from_bytes(data[pos : pos + length], "big")
    if element_id:
        return raw, pos + length
    value = raw & ((1 << (7 * length)) - 1)
    return (None if value == (1 << (7 * length)) - 1 else value), pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int | None]]:
    """(id, data start, size) of the elements between START and END; stops at the first one that is
    cut off or of unknown size (which then runs to END)."""
    found: list[tuple[int, int, int | None]] = []
    pos = start
    while pos < end:
        try:
            element, pos = _vint(data, pos, element_id=True)
            size, pos = _vint(data, pos)
        except NotMedia:
            break
        if element is None:
            break
        found.append((element, pos, size))
        if size is None or pos + size > end:
            break
        pos += size
    return found


def webm_kind(file: IO[bytes]) -> str:
    """AUDIO or VIDEO for a WebM file; NotMedia otherwise."""
    file.seek(0)
    data = bytes(file.read(EBML_READ_BYTES))
    file.seek(0)
    top = _children(data, 0, len(data))
    _id, header_start, header_size = top[0] if top else (0, 0, None)
    if len(top) < 2 or _id != 0x1A45DFA3 or header_size is None or top[1][0] != _SEGMENT:
        raise NotMedia
    doctype = b""
    for element, start, size in _children(data, header_start, header_start + header_size):
        if element == _EBML_DOCTYPE and size is not None:
            doctype = data[start : start + size].rstrip(b"\x00")
    if doctype != b"webm":
        raise NotMedia
    _id, segment_start, segment_size = top[1]
    segment_end = len(data) if segment_size is None else min(len(data), segment_start + segment_size)
    types: set[int] = set()
    for element, start, size in _children(data, segment_start, segment_end):
        if element == _CLUSTER or size is None:
            break  # the tracks come before the first cluster
        if element != _TRACKS:
            continue
        for entry, entry_start, entry_size in _children(data, start, start + size):
            if entry != _TRACK_ENTRY or entry_size is None:
                continue
            for field, field_start, field_size in _children(data, entry_start, entry_start + entry_size):
                if field == _TRACK_TYPE and field_size is not None and 0 < field_size <= 8:
                    types.add(int.from_bytes(data[field_start : field_start + field_size], "big"))
        break
    if _TRACK_VIDEO in types:
        return VIDEO
    if _TRACK_AUDIO in types:
        return AUDIO
    raise NotMedia


# --- ISO base media (MP4, M4A, MOV, HEIC) ------------------------------------------------------


def _brands(head: bytes) -> tuple[bytes, set[bytes]]:
    if len(head) < 16 or head[4:8] != b"ftyp":
        raise NotMedia
    size = struct.unpack(">I", head[:4])[0]
    if size < 16 or size > len(head) or (size - 16) % 4:
        raise NotMedia
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, size, 4)}
    return major, compatible


def is_heic(head: bytes) -> bool:
    try:
        major, compatible = _brands(head)
    except NotMedia:
        return False
    if major in HEIC_BRANDS:
        return True
    return major in HEIF_STRUCTURE_BRANDS and bool(compatible & HEIC_BRANDS)


def _find_moov(file: IO[bytes]) -> bytes:
    """The moov box's body, found by walking the top-level boxes (seeking past mdat)."""
    end = file.seek(0, 2)
    pos = 0
    for _ in range(MAX_TOP_BOXES):
        if pos + 8 > end:
            break
        file.seek(pos)
        header = file.read(16)
        size, kind = struct.unpack(">I4s", header[:8])
        body = pos + 8
        if size == 1:  # a 64-bit size follows
            if len(header) < 16:
                break
            size = struct.unpack(">Q", header[8:16])[0]
            body = pos + 16
        elif size == 0:  # to the end of the file
            size = end - pos
        if size < body - pos or pos + size > end:
            break
        if kind == b"moov":
            if size > MOOV_MAX_BYTES:
                raise NotMedia
            file.seek(body)
            return bytes(file.read(pos + size - body))
        pos += size
    raise NotMedia


def _handlers(moov: bytes) -> set[bytes]:
    """The handler types of the tracks (hdlr: version/flags, pre_defined, then the type)."""
    found = set()
    at = moov.find(b"hdlr")
    while at != -1:
        found.add(moov[at + 12 : at + 16])
        at = moov.find(b"hdlr", at + 4)
    return found


def iso_kind(file: IO[bytes], head: bytes) -> str:
    """HEIC, AUDIO, VIDEO or QUICKTIME for an ISO base media file; NotMedia otherwise."""
    if is_heic(head):
        return HEIC
    major, _compatible = _brands(head)
    if major not in MP4_BRANDS | QUICKTIME_BRANDS:
        raise NotMedia
    try:
        handlers = _handlers(_find_moov(file))
    finally:
        file.seek(0)
    if b"vide" in handlers:
        return QUICKTIME if major in QUICKTIME_BRANDS else VIDEO
    if b"soun" in handlers:
        return AUDIO
    raise NotMedia


# --- Ogg ------------------------------------------------------------------------------------------


def ogg_kind(head: bytes) -> str:
    """AUDIO for an Ogg stream that begins with Opus or Vorbis sound; NotMedia otherwise (Ogg video
    and anything else)."""
    # capture pattern, version 0, the first page (beginning of stream), 27 bytes of header
    if len(head) < 28 or not head.startswith(b"OggS") or head[4] != 0 or not head[5] & 0x02:
        raise NotMedia
    segments = head[26]
    packet = head[27 + segments : 27 + segments + 8]
    if packet.startswith((b"OpusHead", b"\x01vorbis")):
        return AUDIO
    raise NotMedia
