"""The project's error root, and the two errors the protocol package raises.

``SiteTruthError`` is the root of every error our code raises on purpose:
each package has its base under it (``ProtocolError`` and ``DomainError``
here, ``ConfigError`` in :mod:`protocol.config`, ``StoreError``,
``FrontendError``, ``FetchError``, ``SourceError``, ``WorkerError``), so a
caller that only needs "did SiteTruth refuse this?" catches one thing,
while one that can do something specific catches the family it knows.

``ProtocolError`` is the one exception that decoding (and constructing) a
message may raise: a daemon that reads a socket catches exactly this, logs it
with the context it carries (which command, which frame) and carries on with
the next message.  ``DomainError`` is what :mod:`protocol.domains` raises when
a URL or host cannot be reduced to a registrable domain; its ``ratinginfo``
is the API code the frontend answers with (``bad_url`` or ``no_domain``).

Both errors may echo data a peer sent us; that data is always shortened and
``repr``-escaped first, so a hostile frame can't flood a log line or smuggle
control characters into a terminal.
"""

from __future__ import annotations

from typing import Any

from .vocabulary import RatingInfo

__all__ = ["SiteTruthError", "ProtocolError", "DomainError", "shorten", "ECHO_LIMIT"]

# How much of a peer's data an error message may quote.
ECHO_LIMIT = 80


def shorten(value: Any, limit: int = ECHO_LIMIT) -> str:
    """``repr`` of *value*, cut to about *limit* characters of its content.

    Strings and bytes are cut before ``repr`` (so the escape sequences stay
    whole) and the original length is appended when something was cut.
    Anything else is ``repr``'d and cut afterwards; the repr of a hostile
    object can't be trusted to be short.
    """
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        if isinstance(value, memoryview):
            value = value.tobytes()
        if len(value) <= limit:
            return repr(value)
        unit = "chars" if isinstance(value, str) else "bytes"
        return f"{value[:limit]!r}... ({len(value)} {unit})"
    try:
        text = repr(value)
    except Exception:  # a repr that fails must not hide the original error
        text = f"<unprintable {type(value).__name__}>"
    if len(text) > limit:
        return text[:limit] + "..."
    return text


class SiteTruthError(Exception):
    """Root of every error SiteTruth raises on purpose (not of bugs: those stay ``TypeError``...)."""


class ProtocolError(SiteTruthError):
    """A frame list or a message field that breaks the wire contract.

    ``command`` is the command byte (an ``int``) when it was known at the time
    of the error, ``frame_index`` the position of the offending frame within
    the application frames (0 header, 1 command, 2 body), or ``None``.
    """

    def __init__(self, message: str, *, command: int | None = None, frame_index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.command = None if command is None else int(command)
        self.frame_index = frame_index

    def with_context(self, *, command: int | None = None, frame_index: int | None = None) -> ProtocolError:
        """A copy with the missing context filled in (existing context wins)."""
        return ProtocolError(
            self.message,
            command=self.command if self.command is not None else command,
            frame_index=self.frame_index if self.frame_index is not None else frame_index,
        )

    def __str__(self) -> str:
        context = []
        if self.command is not None:
            context.append(f"command {_command_name(self.command)}")
        if self.frame_index is not None:
            context.append(f"frame {self.frame_index}")
        if not context:
            return self.message
        return f"{self.message} [{', '.join(context)}]"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments don't survive the default pickling of exceptions.
        return (_rebuild_protocol_error, (self.message, self.command, self.frame_index))


def _rebuild_protocol_error(message: str, command: int | None, frame_index: int | None) -> ProtocolError:
    return ProtocolError(message, command=command, frame_index=frame_index)


def _command_name(value: int) -> str:
    # Imported late: wire imports this module, and a name is only a nicety.
    from .wire import Command

    try:
        return f"{Command(value).name} (0x{value:02x})"
    except ValueError:
        return f"0x{value:02x}"


class DomainError(SiteTruthError, ValueError):
    """Text that is not a usable web-site domain.

    ``ratinginfo`` is :attr:`RatingInfo.BAD_URL` (unreadable URL, IP literal)
    or :attr:`RatingInfo.NO_DOMAIN` (readable, but no registrable domain: a
    bare public suffix, a single label, an unknown TLD, an invalid label).
    ``text`` is the offending input, shortened.
    """

    def __init__(self, ratinginfo: RatingInfo, text: str, reason: str = "") -> None:
        self.ratinginfo = RatingInfo(ratinginfo)
        self.text = text[:ECHO_LIMIT] if isinstance(text, str) else shorten(text)
        self.reason = reason
        super().__init__(ratinginfo, text, reason)

    def __str__(self) -> str:
        reason = f": {self.reason}" if self.reason else ""
        return f"{self.ratinginfo.value}{reason}: {self.text!r}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (DomainError, (self.ratinginfo, self.text, self.reason))
