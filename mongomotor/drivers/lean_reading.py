"""How the lean transport's connections read: one turn of the loop per reply, no pause per reply.

    lean_reading.adopt(conn)   # a pooled AsyncConnection's protocol, after its handshake

PyMongo's protocol asks the transport for a reply's 16-byte header, then for
its body, so each reply takes two turns of the event loop (about 15 k
instructions each) before the waiting task runs in a third; and it pauses
reading after every reply, which takes the socket out of the selector and puts
it back on the next read (about 44 k instructions per round trip). Here:

* when a reader waits, the transport reads into a scratch buffer as much as
  the socket holds (16 KiB at most), and those bytes go through PyMongo's own
  framing (its ``get_buffer``/``buffer_updated``) exactly as if they had been
  read in pieces: the header and body of a reply that has arrived cost one
  turn;
* reading pauses only when a reply completes that nobody waits for (an
  exhaust cursor's stream), as PyMongo pauses.

Read-ahead stays bounded: PyMongo holds at most one unasked reply when it
pauses; a scratch read may have brought part of a stream beyond it, at most
16 KiB, which waits in PyMongo's queue of done messages like that reply.
"""

from __future__ import annotations

from typing import Any

from pymongo.network_layer import PyMongoProtocol

SCRATCH_SIZE = 16 * 1024


def moved_into(cls: type, obj: Any) -> Any:
    """A new ``cls`` object holding ``obj``'s attributes, in their order.

    Assigning ``__class__`` would do this with less code, but CPython 3.11
    then keeps the object's attributes in a plain dictionary and every
    attribute read costs about 270 more instructions (measured); PyMongo reads
    the connection's and the protocol's attributes dozens of times a round trip.
    """
    new = cls.__new__(cls)
    for name, value in vars(obj).items():
        setattr(new, name, value)
    return new


def adopt(conn: Any) -> None:
    """Give a pooled connection's protocol the one-turn read and its transport the rare pause."""
    interface = conn.conn
    transport, protocol = interface.conn
    interface.conn = (transport, adopt_protocol(transport, protocol))


def adopt_protocol(transport: Any, protocol: Any) -> Any:
    """The protocol the transport feeds now: a :class:`OneTurnProtocol` with ``protocol``'s state.

    A protocol of another type is kept as it is; its transport still pauses
    only for replies nobody waits for.
    """
    if type(protocol) is PyMongoProtocol and protocol.transport is transport:
        protocol = moved_into(OneTurnProtocol, protocol)
        protocol._scratch = memoryview(bytearray(SCRATCH_SIZE))
        protocol._in_scratch = False
        transport.set_protocol(protocol)
    try:
        transport.pause_reading = PauseWhenUnawaited(protocol, transport.pause_reading)
    except AttributeError:
        pass  # a transport without instance attributes (uvloop's): PyMongo's pauses stay
    return protocol


class OneTurnProtocol(PyMongoProtocol):
    """PyMongo's protocol, reading a waited-for reply's header and body in one socket read."""

    _scratch: memoryview
    _in_scratch: bool

    def get_buffer(self, sizehint: int) -> memoryview:
        if (
            self._expecting_header
            and not self._header_index
            and self._pending_messages
            and not self._connection_lost
        ):
            self._in_scratch = True
            return self._scratch
        return super().get_buffer(sizehint)

    def buffer_updated(self, nbytes: int) -> None:
        if not self._in_scratch:
            return super().buffer_updated(nbytes)
        self._in_scratch = False
        if not nbytes:
            return super().buffer_updated(nbytes)  # PyMongo's "connection closed"
        # Hand the bytes to PyMongo's framing in the pieces it asks for.
        scratch = self._scratch
        take_buffer = super().get_buffer
        framed = super().buffer_updated
        offset = 0
        while offset < nbytes and not self._connection_lost:
            target = take_buffer(-1)
            size = min(len(target), nbytes - offset)
            target[:size] = scratch[offset : offset + size]
            offset += size
            framed(size)


class PauseWhenUnawaited:
    """A transport's ``pause_reading`` that pauses only for a reply nobody waits for.

    PyMongo's protocol pauses reading after every complete message, so that
    replies nobody asked for are not piled up in memory; each read resumes
    it. A reply a reader is waiting for needs no pause.
    """

    __slots__ = ("protocol", "pause")

    def __init__(self, protocol: Any, pause: Any) -> None:
        self.protocol = protocol
        self.pause = pause

    def __call__(self) -> None:
        # buffer_updated pauses before it hands the message to the first waiter.
        if not self.protocol._pending_messages:
            self.pause()
