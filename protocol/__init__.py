"""What crosses a socket, and the words every process shares.

The one place that knows the wire format (:mod:`protocol.wire`: frames,
header, command bytes, msgpack), the typed messages built on it
(:mod:`protocol.messages`), the rating vocabulary of the public API
(:mod:`protocol.vocabulary`) and what a "domain" is (:mod:`protocol.domains`).
It imports nothing else of ours, so every component can depend on it.

Typical use on a ROUTER socket::

    identity, frames = split_envelope(sock.recv_multipart())
    try:
        msg = decode(frames)
    except ProtocolError as e:
        log.warning("bad message from %r: %s", identity, e)
    ...
    sock.send_multipart(join_envelope(identity, reply.to_frames()))
"""

from .domains import MAX_URL_LEN, is_registrable_domain, normalise_host, registrable_domain
from .errors import DomainError, ProtocolError
from .messages import (
    MAX_DEPTH,
    MAX_DOMAIN_LEN,
    MAX_DOMAINS_PER_REQUEST,
    MAX_EVIDENCE_ITEMS,
    MAX_IDENT_LEN,
    MAX_PRIORITY,
    MAX_TEXT_LEN,
    MAX_TRACEBACK_LEN,
    MESSAGE_TYPES,
    AdminReply,
    AdminRequest,
    Disconnect,
    DomainStatus,
    ErrorReply,
    ErrorReport,
    Failed,
    Heartbeat,
    Job,
    JobState,
    Message,
    Overload,
    Pulse,
    RateReply,
    RateRequest,
    Ready,
    Result,
    StatsReply,
    StatsRequest,
    Unavailable,
    decode,
)
from .vocabulary import FINAL_RATINGS, LOCATION_FIELDS, RATING_TTL_SECONDS, Rating, RatingInfo
from .wire import HEADER, MAX_BODY_BYTES, VERSION, Command, join_envelope, split_envelope

__all__ = [
    # wire
    "VERSION",
    "HEADER",
    "MAX_BODY_BYTES",
    "Command",
    "split_envelope",
    "join_envelope",
    # errors
    "ProtocolError",
    "DomainError",
    # messages
    "Message",
    "decode",
    "MESSAGE_TYPES",
    "JobState",
    "DomainStatus",
    "RateRequest",
    "RateReply",
    "Overload",
    "Unavailable",
    "StatsRequest",
    "StatsReply",
    "AdminRequest",
    "AdminReply",
    "ErrorReply",
    "Ready",
    "Job",
    "Pulse",
    "Result",
    "Failed",
    "Heartbeat",
    "Disconnect",
    "ErrorReport",
    "MAX_DOMAIN_LEN",
    "MAX_IDENT_LEN",
    "MAX_TEXT_LEN",
    "MAX_TRACEBACK_LEN",
    "MAX_DOMAINS_PER_REQUEST",
    "MAX_EVIDENCE_ITEMS",
    "MAX_PRIORITY",
    "MAX_DEPTH",
    # vocabulary
    "Rating",
    "RatingInfo",
    "FINAL_RATINGS",
    "RATING_TTL_SECONDS",
    "LOCATION_FIELDS",
    # domains
    "registrable_domain",
    "normalise_host",
    "is_registrable_domain",
    "MAX_URL_LEN",
]
