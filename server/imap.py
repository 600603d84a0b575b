"""IMAP: open a verified connection, log in, and small pure helpers for the protocol.

The connection side (connect, login, check_imap4rev1) raises AccountError with one sentence
for the user (see describe_error). The pure side never touches a socket and is tested with
literal imapclient values:

- text_parts(bodystructure): which parts to fetch (text/plain, else text/html, plus
  text/calendar), by BODYSTRUCTURE, never attachments.
- header_info(raw_header_bytes): the prefilter's HeaderInfo from fetched header fields.
- choose_folders(list_folders_result, gmail): INBOX, the \\Sent folder, \\All or \\Archive.
- build_raw(header, parts): an RFC 822 message for parsers.mime from the pieces fetched.
"""
from __future__ import annotations

import functools
import hashlib
import imaplib
import ipaddress
import os
import re
import socket
import ssl
from dataclasses import dataclass

from .errors import AccountError
from .prefilter import SENDER_CACHE, HeaderInfo
from .presets import preset_for, preset_for_host

CONNECT_TIMEOUT = 15.0   # seconds to open a TCP connection: a reachable server answers in far less
READ_TIMEOUT = 60.0      # seconds for one response; big FETCH batches stream well within this
ENV_CA_FILE = "STANDING_IMAP_CA_FILE"  # extra CA to trust (test servers, Proton Bridge's cert)

# Header fields fetched for every message (the prefilter and the message's identity).
HEADER_FIELDS = ("FROM", "TO", "CC", "SUBJECT", "DATE", "MESSAGE-ID", "IN-REPLY-TO",
                 "REFERENCES", "LIST-ID", "LIST-UNSUBSCRIBE", "PRECEDENCE", "AUTO-SUBMITTED",
                 "CONTENT-TYPE", "CONTENT-TRANSFER-ENCODING", "REPLY-TO", "SENDER")
HEADER_ITEM = "BODY.PEEK[HEADER.FIELDS ({})]".format(" ".join(HEADER_FIELDS))
HEADER_KEY = "BODY[HEADER.FIELDS ({})]".format(" ".join(HEADER_FIELDS)).encode()
MAX_TEXT_PARTS = 4       # plain or html, plus an invite or two; more is junk or an attack
MAX_BODYSTRUCTURE_DEPTH = 20  # nested multiparts deeper than this are not real mail
MAX_PARTS = 200          # parts of one multipart we look at; real mail has a handful

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    host = (host or "").strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    security: str  # tls | starttls | plain

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def resolve_settings(email: str, host=None, port=None, security=None) -> ServerSettings:
    """Fill host/port/security from the provider preset; check them. Raises AccountError."""
    preset = preset_for(email)
    if not host and preset is None:
        raise AccountError(f"No mail server is known for {email.rsplit('@', 1)[-1] or 'this address'}; "
                           "give the IMAP server with --host (and --port if it is not 993).")
    host = (host or preset.host).strip()
    if security is None:
        security = preset.security if preset and host == preset.host else "tls"
    security = security.lower()
    if security not in ("tls", "starttls", "plain"):
        raise AccountError("The security setting must be tls, starttls or plain.")
    if port is None:
        port = preset.port if preset and host == preset.host else (993 if security == "tls" else 143)
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise AccountError("The port must be a number between 1 and 65535.") from None
    if not 0 < port < 65536:
        raise AccountError("The port must be a number between 1 and 65535.")
    if security == "plain" and not is_loopback(host):
        raise AccountError(f"An unencrypted connection to {host} would send your password in clear; "
                           "use tls or starttls (plain is allowed only for a server on this machine).")
    return ServerSettings(host, port, security)


def ssl_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Certificate-verifying context; `ca_file` (or STANDING_IMAP_CA_FILE) is trusted in addition."""
    ctx = ssl.create_default_context()
    extra = ca_file or os.environ.get(ENV_CA_FILE)
    if extra:
        ctx.load_verify_locations(cafile=extra)
    return ctx


def help_suffix(email: str, host: str) -> str:
    preset = preset_for(email) or (None if is_loopback(host) else preset_for_host(host))
    if preset and preset.help_url:
        return f" {preset.provider} needs an app password for IMAP: see {preset.help_url}"
    return ""


def describe_error(err: BaseException, settings: ServerSettings, *, email: str = "",
                   auth: str = "password") -> str:
    """One sentence for the user about a failed connection or login (never the secret)."""
    from imapclient.exceptions import CapabilityError, LoginError
    import imaplib
    where, host = settings.where, settings.host
    if isinstance(err, AccountError):
        return str(err)
    if isinstance(err, LoginError) or (isinstance(err, imaplib.IMAP4.error)
                                       and "auth" in str(err).lower()):
        if auth == "oauth":
            return (f"{host} refused the access token for {email}; get a fresh OAuth access "
                    "token (they expire after about an hour) and try again.")
        return (f"{host} refused the email address or password for {email}."
                + (help_suffix(email, host) or " Check them and try again."))
    if isinstance(err, imaplib.IMAP4.error) and "not IMAP4 compliant" in str(err):
        return f"The server at {where} does not speak IMAP4rev1, which this program needs."
    if isinstance(err, CapabilityError):
        return f"The server at {where} does not offer what is needed: {err}."
    if isinstance(err, socket.gaierror):
        return f"The mail server {host} could not be found; check the server name."
    if isinstance(err, ssl.SSLCertVerificationError):
        why = getattr(err, "verify_message", "") or "not trusted"
        return (f"The certificate of {host} could not be verified ({why}), so no connection was made; "
                f"if you trust this server, give its CA certificate in {ENV_CA_FILE}.")
    if isinstance(err, ssl.SSLError):
        other = "STARTTLS" if settings.security == "tls" else "TLS on port 993"
        return (f"A secure connection to {where} could not be set up; the server may expect "
                f"{other} or a different port.")
    if isinstance(err, ConnectionRefusedError):
        return f"Nothing answered on {where}; check the server name and port."
    if isinstance(err, (socket.timeout, TimeoutError)):
        return (f"The mail server at {where} did not answer in time; check the port and security "
                "setting, or try again later.")
    if isinstance(err, (ConnectionResetError, BrokenPipeError, EOFError)) or (
            isinstance(err, imaplib.IMAP4.abort)):
        return f"The connection to {where} was closed by the server; check the port and security setting."
    if isinstance(err, OSError):
        return f"Could not connect to {where}: {err.strerror or 'network error'}."
    if isinstance(err, imaplib.IMAP4.error):
        return f"The server at {where} answered with an error: {str(err)[:200]}."
    return f"Could not talk to the mail server at {where}."


def connect(settings: ServerSettings, *, ca_file: str | None = None,
            connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT):
    """An IMAPClient with TLS verified (tls or starttls) or plain on loopback only.

    Raises the underlying socket/ssl/imap error; callers map it with describe_error.
    """
    from imapclient import IMAPClient, SocketTimeout
    timeout = SocketTimeout(connect=connect_timeout, read=read_timeout)
    if settings.security == "plain" and not is_loopback(settings.host):
        raise AccountError("Unencrypted IMAP is allowed only for a server on this machine.")
    if settings.security == "tls":
        return IMAPClient(settings.host, settings.port, ssl=True, ssl_context=ssl_context(ca_file),
                          timeout=timeout)
    client = IMAPClient(settings.host, settings.port, ssl=False, timeout=timeout)
    if settings.security == "starttls":
        try:
            if b"STARTTLS" not in client.capabilities():
                raise AccountError(f"The server at {settings.where} does not offer STARTTLS; "
                                   "use tls (usually port 993).")
            client.starttls(ssl_context(ca_file))
        except BaseException:
            quiet_close(client)
            raise
    return client


def quiet_close(client) -> None:
    """Drop a connection without a word (its socket shut); any error is ignored."""
    try:
        client.shutdown()
    except Exception:  # noqa: BLE001 - already closed
        pass


def log_out(client) -> None:
    """LOGOUT, once every pipelined answer is read; a broken connection is just closed."""
    try:
        pipeline_of(client).drain()
        client.logout()
    except Exception:  # noqa: BLE001 - the connection broke: just close it
        quiet_close(client)


def login(client, user: str, secret: str, auth: str = "password") -> None:
    """Log in with an app password (LOGIN) or an OAuth access token (XOAUTH2).

    LOGIN sends its arguments as ASCII (imaplib cannot send anything else), so a password
    with other letters goes through AUTHENTICATE PLAIN, which carries UTF-8 (RFC 4616).
    """
    if auth == "oauth":
        client.oauth2_login(user, secret)
    elif secret.isascii() and user.isascii():
        client.login(user, secret)
    else:
        client.plain_login(user, secret)


def check_imap4rev1(client, settings: ServerSettings) -> None:
    caps = set(client.capabilities())
    if not caps & {b"IMAP4REV1", b"IMAP4REV2"}:
        raise AccountError(f"The server at {settings.where} does not speak IMAP4rev1, "
                           "which this program needs.")


def open_session(settings: ServerSettings, user: str, secret: str, *, auth="password",
                 email: str = "", ca_file: str | None = None, read_timeout: float = READ_TIMEOUT):
    """Connect, log in and check the server; AccountError with one sentence on any failure."""
    client = None
    try:
        client = connect(settings, ca_file=ca_file, read_timeout=read_timeout,
                         connect_timeout=min(CONNECT_TIMEOUT, read_timeout))
        check_imap4rev1(client, settings)
        login(client, user, secret, auth)
        return client
    except AccountError:
        if client is not None:
            quiet_close(client)
        raise
    except Exception as err:
        if client is not None:
            quiet_close(client)
        raise AccountError(describe_error(err, settings, email=email or user, auth=auth)) from None


# -- pure helpers ------------------------------------------------------------------------

def _s(value) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return "" if value is None else str(value)


@dataclass(frozen=True)
class TextPart:
    section: str        # "TEXT", "1", "1.2", ...: the BODY[section] to fetch
    mime_type: str      # "text/plain"
    charset: str | None
    encoding: str       # Content-Transfer-Encoding, e.g. "base64"
    size: int           # declared encoded size in octets


def _params(value) -> dict:
    out = {}
    if isinstance(value, (list, tuple)):
        for i in range(0, len(value) - 1, 2):
            out[_s(value[i]).lower()] = _s(value[i + 1])
    return out


def _disposition(part) -> str:
    for item in part[7:]:
        if isinstance(item, (list, tuple)) and item and isinstance(item[0], (bytes, str)):
            word = _s(item[0]).lower()
            if word in ("attachment", "inline"):
                return word
    return ""


def _leaves(structure, prefix: str, depth: int, out: list) -> None:
    if depth > MAX_BODYSTRUCTURE_DEPTH or not isinstance(structure, (list, tuple)) or not structure:
        return
    if isinstance(structure[0], list):  # multipart (imapclient BodyData): ([parts], subtype, ...)
        for index, child in enumerate(structure[0][:MAX_PARTS], start=1):
            _leaves(child, f"{prefix}.{index}" if prefix else str(index), depth + 1, out)
        return
    if len(structure) < 7:
        return
    mime_type = f"{_s(structure[0]).lower()}/{_s(structure[1]).lower()}"
    try:
        size = int(structure[6] or 0)
    except (TypeError, ValueError):
        size = 0
    out.append((prefix or "1", mime_type, _params(structure[2]), _s(structure[5]).lower() or "7bit",
                size, _disposition(structure)))


def text_parts(bodystructure) -> list[TextPart]:
    """The parts worth reading: every inline text/plain, else the first text/html, plus
    text/calendar (even as an attachment: invites come that way). Never other attachments.

    >>> text_parts((b'text', b'plain', (b'charset', b'utf-8'), None, None, b'7bit', 12, 1))
    [TextPart(section='1', mime_type='text/plain', charset='utf-8', encoding='7bit', size=12)]
    """
    leaves: list = []
    _leaves(bodystructure, "", 0, leaves)
    plain, html, calendar = [], [], []
    for section, mime_type, params, encoding, size, disposition in leaves:
        part = TextPart(section, mime_type, params.get("charset"), encoding, size)
        if mime_type == "text/calendar":
            calendar.append(part)
        elif disposition == "attachment" or params.get("name"):
            continue
        elif mime_type == "text/plain":
            plain.append(part)
        elif mime_type == "text/html":
            html.append(part)
    chosen = (plain or html[:1]) + calendar
    return chosen[:MAX_TEXT_PARTS]


_FIELD_BREAK = re.compile(rb"\r?\n(?![ \t])")
_MSG_IDS = re.compile(r"<[^<>\s]+>")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def header_fields(raw_header: bytes) -> dict[str, str]:
    """{lowercased name: raw value} of header bytes, first occurrence wins (like email.message).

    Bytes outside ASCII stay surrogate escapes, as the stdlib's compat32 parser keeps them;
    a tenth of the cost of BytesHeaderParser, which matters for 20,000 headers a sync.
    """
    out: dict[str, str] = {}
    for line in _FIELD_BREAK.split(raw_header or b""):
        name, sep, value = line.partition(b":")
        if not sep or not name or name[:1] in b" \t":
            continue
        key = name.strip().lower().decode("ascii", "replace")
        if key not in out:
            out[key] = value.decode("ascii", "surrogateescape").strip()
    return out


# Every field of the header block with its folded continuation lines, in one regex pass;
# header_info decodes only the ones it reads.
_ANY_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)", re.MULTILINE)
_INFO_NAMES = frozenset(("from", "subject", "message-id", "in-reply-to", "references", "list-id",
                         "list-unsubscribe", "precedence", "auto-submitted", "to", "content-type",
                         "content-transfer-encoding"))
_mime = None


def _info_fields(raw_header: bytes) -> dict[str, str]:
    """{lowercased name: raw value} of the fields header_info reads; first occurrence wins,
    like header_fields (whose values these equal)."""
    out: dict[str, str] = {}
    for name, value in _ANY_FIELD.findall(raw_header or b""):
        key = name.lower().decode("ascii")
        if key in _INFO_NAMES and key not in out:
            out[key] = value.decode("ascii", "surrogateescape").strip()
    return out


@functools.lru_cache(maxsize=SENDER_CACHE)
def _sender(raw_from: str | None) -> tuple[str, str]:
    return _mime.parse_address(raw_from)


def header_info(raw_header: bytes) -> HeaderInfo:
    """The prefilter's view of fetched header fields (decoded, addresses lowercased).

    `extra` keeps the raw Content-Type and Content-Transfer-Encoding for single_text_part.
    """
    global _mime
    if _mime is None:
        from parsers import mime as _mime_module
        _mime = _mime_module
    fields = _info_fields(raw_header)
    get = fields.get
    subject = get("subject")
    name, addr = _sender(get("from") or None)
    to = tuple(a.lower() for a in _ADDRESS.findall(get("to", "")))
    refs = tuple(_MSG_IDS.findall(get("references", "")))[-50:] if "references" in fields else ()
    irt = _MSG_IDS.findall(fields["in-reply-to"]) if "in-reply-to" in fields else ()
    mid = _MSG_IDS.findall(get("message-id", ""))
    return HeaderInfo(from_name=name, from_addr=addr, to=to,
                      subject=_mime.decode_header(subject) if subject else "",
                      message_id=mid[0] if mid else None, in_reply_to=irt[0] if irt else None,
                      references=refs, list_id=get("list-id", ""),
                      list_unsubscribe=get("list-unsubscribe", ""),
                      precedence=get("precedence", ""),
                      auto_submitted=get("auto-submitted", ""),
                      extra={"content-type": get("content-type", ""),
                             "content-transfer-encoding": get("content-transfer-encoding", "")})


_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_FETCH_THRID = re.compile(rb"\bX-GM-THRID (\d+)")
_FETCH_START = re.compile(rb"\* \d+ FETCH \(")
_LITERAL_AT_END = re.compile(rb"\{(\d+)\}\r\n$")
MAX_RESPONSE_LINE = 1_000_000  # bytes of one response line (not a literal): imaplib's own limit


def fetch_headers(client, uids: list[int], *, gmail: bool = False) -> dict[int, dict]:
    """{uid: {"header": bytes, "size": int, "thread_id": str | None}} for the header pass.

    Sent on the IMAPClient's own authenticated imaplib connection and read off its socket file
    (Pipeline): 0.22-0.27 s for 19,610 headers on the bench Dovecot, where imaplib's response
    reader took 1.2-1.6 s (bench/RESULTS.md). UIDs missing from the answer (an unusual server
    layout, or expunged meanwhile) are simply absent; the caller may ask imapclient for them.
    """
    return receive_headers(client, send_headers(client, uids, gmail=gmail))


def send_headers(client, uids: list[int], *, gmail: bool = False) -> "_Request":
    """Put the header FETCH of `uids` on the wire now; receive_headers() reads its answer."""
    items = f"({HEADER_ITEM} RFC822.SIZE{' X-GM-THRID' if gmail else ''})"
    return pipeline_of(client).send(uids, items, b"BODY[HEADER")


def receive_headers(client, request: "_Request") -> dict[int, dict]:
    """fetch_headers' answer to a send_headers() request (waits for it)."""
    return {uid: {"header": v["literal"], "size": v["size"], "thread_id": v["thread_id"]}
            for uid, v in pipeline_of(client).wait(request).items()}


def fetch_literal(client, uids: list[int], items: str, marker: bytes) -> dict[int, dict]:
    """{uid: {"literal", "size", "thread_id"}}: one UID FETCH on the IMAPClient's own
    connection, its answer read straight off the socket's buffered file (see fetch_headers);
    "literal" is the value of the item whose name starts with `marker` (b"" when absent).
    Commands sent ahead on the connection's Pipeline are answered meanwhile."""
    return pipeline_of(client).fetch(uids, items, marker)


def pipeline_of(client) -> "Pipeline":
    """The connection's one Pipeline (every fast fetch on it must go through the same one)."""
    pipe = getattr(client, "_standing_pipeline", None)
    if pipe is None:
        pipe = client._standing_pipeline = Pipeline(client)
    return pipe


@dataclass
class _Request:
    uids: frozenset
    marker: bytes
    out: dict
    done: bool = False


class Pipeline:
    """UID FETCH commands on an IMAPClient's authenticated imaplib connection, sent ahead of
    their turn and read straight off the socket's buffered file (several times faster than
    imaplib's reader for thousands of small answers: bench/RESULTS.md).

    send() puts a command on the wire at once and returns; wait() reads the connection until
    that command is answered, keeping the answers to the commands sent before it as they stream
    by. So the server works on the next commands (the sync's HeaderReader: the next batches'
    headers) while this process works on the last answers. An answer is matched to its command
    by UID (a server may run pipelined commands together), so the UID sets of the commands in
    flight must not overlap. Before any other command on the connection (EXAMINE,
    imapclient's own fetch), drain() reads every answer still due.

    Each answer is {uid: {"literal", "size", "thread_id"}}, "literal" being the value of the
    item whose name starts with the command's `marker` (b"" when absent).

    Read-only like every other fetch here: callers only ask for BODY.PEEK items. Anything
    unexpected (a BYE, a line without CRLF, a tagged NO) raises, and the connection is then
    dropped and retried by the caller, never reused half-read.
    """

    def __init__(self, client):
        self.conn = client._imap
        self._open: dict[bytes, _Request] = {}  # tag -> command in flight
        self._owner: dict[int, _Request] = {}  # uid -> the command in flight asking for it

    def send(self, uids: list[int], items: str, marker: bytes) -> _Request:
        request = _Request(frozenset(uids), marker, {}, done=not uids)
        if not uids:
            return request
        for uid in request.uids:
            if uid in self._owner:
                raise ValueError(f"UID {uid} is already asked for by a FETCH in flight")
        tag = self.conn._new_tag()
        self.conn.tagged_commands.pop(tag, None)  # answered here, not by imaplib's reader
        self.conn.send(b"%s UID FETCH %s %s\r\n" % (tag, uid_set(uids).encode(), items.encode()))
        self._open[tag] = request
        self._owner.update(dict.fromkeys(request.uids, request))
        return request

    def wait(self, request: _Request) -> dict[int, dict]:
        while not request.done:
            self._read_response()
        return request.out

    def fetch(self, uids: list[int], items: str, marker: bytes) -> dict[int, dict]:
        return self.wait(self.send(uids, items, marker))

    def drain(self) -> None:
        while self._open:
            self._read_response()

    def _read_response(self) -> None:
        """Read one response (a command's completion, or an untagged one with its literals).
        Runs once per message of every fetch (20,000 times for a year of mail): kept lean."""
        readline = self.conn.file.readline
        line = readline(MAX_RESPONSE_LINE)
        if not line.endswith(b"\r\n"):
            raise imaplib.IMAP4.abort("the server's answer to FETCH ended early")
        if not line.startswith(b"* "):
            tag = line.split(b" ", 1)[0]
            request = self._open.pop(tag, None)
            if request is None:
                return  # nothing of ours
            for uid in request.uids:
                self._owner.pop(uid, None)
            request.done = True
            if line[len(tag) + 1:len(tag) + 3].upper() != b"OK":
                from imapclient.exceptions import IMAPClientError
                raise IMAPClientError(f"FETCH failed: {line[:300]!r}")
            return
        if line.startswith(b"* BYE"):
            raise imaplib.IMAP4.abort(line[:200].decode("ascii", "replace"))
        metas = [line]
        literals = []  # the literal after each of metas but the last
        while line.endswith(b"}\r\n"):
            m = _LITERAL_AT_END.search(line)
            if m is None:
                break
            literals.append(self.conn.file.read(int(m.group(1))))
            line = readline(MAX_RESPONSE_LINE)
            if not line.endswith(b"\r\n"):
                raise imaplib.IMAP4.abort("the server's answer to FETCH ended early")
            metas.append(line)
        if not _FETCH_START.match(metas[0]):
            return  # EXISTS, EXPUNGE, FLAGS: nothing this read needs
        meta = b"".join(metas) if len(metas) > 1 else metas[0]
        uid = _FETCH_UID.search(meta)
        request = self._owner.get(int(uid.group(1))) if uid is not None else None
        if request is None:
            return  # an unsolicited FETCH (a flag changed elsewhere)
        if len(literals) == 1:  # the usual answer: one item's literal
            literal = literals[0] if request.marker in metas[0].upper() else b""
        else:
            literal = next((data for k, data in enumerate(literals)
                            if request.marker in metas[k].upper()), b"")
        size = _FETCH_SIZE.search(meta)
        thrid = _FETCH_THRID.search(meta) if b"X-GM-THRID" in meta else None
        request.out[int(uid.group(1))] = {"literal": literal, "size": int(size.group(1)) if size else 0,
                                          "thread_id": thrid.group(1).decode() if thrid else None}


def uid_set(uids) -> str:
    """A compact IMAP sequence set: [1, 2, 3, 7] -> "1:3,7" (short commands for long runs)."""
    ordered = sorted(set(uids))
    parts = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


_CT = re.compile(r"^\s*([\w.+-]+)\s*/\s*([\w.+-]+)", re.ASCII)
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:+-]+)", re.IGNORECASE | re.ASCII)


def single_text_part(raw_header: "bytes | HeaderInfo", size: int) -> "TextPart | None":
    """The message's only part when its header says it is a single text/plain or text/html
    part (then BODY[TEXT] is its body and no BODYSTRUCTURE is needed); None otherwise.
    TEXT, not section 1 (the same bytes for a single part): Dovecot answers it without parsing
    the message's MIME structure, in half the time (bench/RESULTS.md).
    Takes the header bytes, or the HeaderInfo header_info made of them (no second parse)."""
    fields = raw_header.extra if isinstance(raw_header, HeaderInfo) else header_fields(raw_header)
    ctype = fields.get("content-type", "")
    m = _CT.match(ctype) if ctype else None
    mime_type = f"{m.group(1)}/{m.group(2)}".lower() if m else ("text/plain" if not ctype else "")
    if mime_type not in ("text/plain", "text/html") or re.search(r"\bname\s*=", ctype, re.I):
        return None
    charset = _CHARSET.search(ctype)
    encoding = fields.get("content-transfer-encoding", "").strip().lower() or "7bit"
    return TextPart("TEXT", mime_type, charset.group(1).lower() if charset else None, encoding, size)


def text_prefix(part: "TextPart", data: bytes, *, truncated: bool = True) -> str:
    """Readable text from the first bytes of a (transfer-encoded) text part; never raises."""
    import base64
    import quopri
    try:
        data = _trim_encoded(data or b"", part.encoding, truncated)
        if part.encoding == "base64":
            data = base64.b64decode(_B64_JUNK.sub(b"", data), validate=False)
        elif part.encoding == "quoted-printable":
            data = quopri.decodestring(data)
        try:
            text = data.decode(part.charset or "utf-8", "replace")
        except LookupError:
            text = data.decode("utf-8", "replace")
        if part.mime_type == "text/html":
            text = re.sub(r"(?s)<(style|script)\b.*?(</\1>|$)|<[^>]*>?", " ", text)
        return text
    except Exception:  # a prefix we cannot decode says nothing
        return ""


MAX_PREFIX_DEPTH = 4     # multiparts nested deeper than this in a prefix: ask BODYSTRUCTURE instead


def _header_param(value: str, name: str) -> str | None:
    from email.message import Message
    msg = Message()
    msg["Content-Type"] = re.sub(r"\r?\n[ \t]", " ", value)
    got = msg.get_param(name)
    return got if isinstance(got, str) else None


def _mime_parts(body: bytes, boundary: str):
    """(part bytes, complete) of a multipart body, in order, from as much of it as is there;
    a part the data ends inside comes last with complete=False (RFC 2046 delimiters)."""
    delimiter = b"\n--" + boundary.encode("ascii", "replace")
    data = b"\n" + body  # a delimiter on the body's first line is found too
    at = data.find(delimiter)
    while at != -1:
        after = at + len(delimiter)
        if data.startswith(b"--", after):
            return  # the close delimiter
        start = data.find(b"\n", after)
        if start == -1:
            return  # the data ends inside the delimiter line
        end = data.find(delimiter, start)
        if end == -1:
            yield data[start + 1:], False
            return
        yield data[start + 1:end].removesuffix(b"\r"), True
        at = end


def text_in_prefix(content_type: str, body: bytes, cap: int, *, depth: int = 0
                   ) -> "tuple[TextPart, bytes, bool] | None":
    r"""The first inline text part of a multipart message, found in the first bytes of its body
    (BODY[TEXT]<0.N>): (the part, at most `cap` bytes of its encoded text, truncated). None
    when the prefix does not reach one, or says nothing clear: the caller then asks for the
    BODYSTRUCTURE. A prefix of the body costs the server no MIME parse, unlike BODYSTRUCTURE,
    which reads the whole message (attachments included) to find the parts.

    >>> text_in_prefix('multipart/mixed; boundary="b"',
    ...                b'--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b\r\nContent-Type: image/png', 2048)
    (TextPart(section='TEXT', mime_type='text/plain', charset=None, encoding='7bit', size=5), b'Hello', False)
    """
    from email.parser import BytesHeaderParser
    m = _CT.match(content_type or "")
    boundary = _header_param(content_type, "boundary") if m and m.group(1).lower() == "multipart" else None
    if not boundary or depth > MAX_PREFIX_DEPTH:
        return None
    for part, complete in _mime_parts(body, boundary):
        if part.startswith((b"\r\n", b"\n")):
            head, text = b"", part[2 if part.startswith(b"\r\n") else 1:]
        else:
            cut = min((i for i in (part.find(b"\r\n\r\n"), part.find(b"\n\n")) if i != -1), default=-1)
            if cut == -1:
                return None  # the data ends inside the part's header
            head = part[:cut]
            text = part[cut + (4 if part.startswith(b"\r\n\r\n", cut) else 2):]
        fields = BytesHeaderParser().parsebytes(head)
        mime_type = fields.get_content_type()
        if mime_type.startswith("multipart/"):
            found = text_in_prefix(str(fields.get("content-type", "")), text, cap, depth=depth + 1)
            if found is not None or not complete:
                return found
        elif (mime_type in ("text/plain", "text/html") and fields.get_content_disposition() != "attachment"
              and not fields.get_param("name") and not fields.get_filename()):
            charset = fields.get_content_charset()
            encoding = str(fields.get("content-transfer-encoding", "")).strip().lower() or "7bit"
            return (TextPart("TEXT", mime_type, charset, encoding, len(text)), text[:cap],
                    not complete or len(text) > cap)
        if not complete:
            return None
    return None


def choose_folders(folders, *, gmail: bool = False) -> list[tuple[str, str]]:
    """(name, role) to sync from LIST/XLIST output: Sent first (the user's own mail must be
    known before replies to it), then INBOX, then \\All or else \\Archive.

    >>> choose_folders([((b'\\\\HasNoChildren',), b'/', 'INBOX'),
    ...                 ((b'\\\\Sent',), b'/', 'Sent')])
    [('Sent', 'sent'), ('INBOX', 'inbox')]
    """
    by_flag: dict[str, str] = {}
    inbox = "INBOX"
    for flags, _delim, name in folders:
        flagset = {_s(f).lower() for f in flags}
        if "\\noselect" in flagset or "\\nonexistent" in flagset:
            continue
        if _s(name).upper() == "INBOX" or "\\inbox" in flagset:
            inbox = name if _s(name).upper() != "INBOX" else "INBOX"
        for flag in ("\\sent", "\\all", "\\archive", "\\allmail"):
            if flag in flagset and flag not in by_flag:
                by_flag[flag] = name
    chosen = []
    if "\\sent" in by_flag:
        chosen.append((by_flag["\\sent"], "sent"))
    chosen.append((inbox, "inbox"))
    everything = by_flag.get("\\all") or by_flag.get("\\allmail")
    if everything:
        chosen.append((everything, "all"))
    elif "\\archive" in by_flag:
        chosen.append((by_flag["\\archive"], "archive"))
    return chosen


_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/=]")


def _trim_encoded(data: bytes, encoding: str, truncated: bool) -> bytes:
    """A capped prefix must still decode: cut base64 to whole quanta, QP before a split escape."""
    if not truncated:
        return data
    if encoding == "base64":
        clean = _B64_JUNK.sub(b"", data)
        clean = clean[: len(clean) - len(clean) % 4]
        return b"\r\n".join(clean[i:i + 76] for i in range(0, len(clean), 76))
    if encoding == "quoted-printable":
        tail = data[-3:]
        cut = tail.rfind(b"=")
        if cut >= 0:
            return data[: len(data) - 3 + cut]
    return data


_DROP_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}


def build_raw(header: bytes, parts: list[tuple[TextPart, bytes, bool]]) -> bytes:
    """An RFC 822 message from fetched header fields and text parts (still transfer-encoded).

    parts: (part, data, truncated). One part becomes a single-part message; several become
    multipart/mixed. The original Content-Type is replaced by the parts' own.
    """
    lines = []
    for line in re.split(rb"\r?\n(?![ \t])", header.strip()):
        name = line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        if line.strip() and name not in _DROP_HEADERS:
            lines.append(line.rstrip(b"\r\n"))
    head = b"\r\n".join(lines)

    def part_head(part: TextPart) -> bytes:
        ctype = part.mime_type
        if part.charset:
            ctype += f'; charset="{part.charset}"'
        return (f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: {part.encoding}\r\n"
                .encode("ascii", "replace"))

    if not parts:
        return head + b"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n\r\n"
    if len(parts) == 1:
        part, data, truncated = parts[0]
        return (head + b"\r\nMIME-Version: 1.0\r\n" + part_head(part) + b"\r\n"
                + _trim_encoded(data, part.encoding, truncated))
    boundary = b"=_standing_" + hashlib.sha1(header).hexdigest()[:16].encode()  # stable: same raw on refetch
    out = [head, b"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"",
           boundary, b"\"\r\n\r\n"]
    for part, data, truncated in parts:
        out += [b"--", boundary, b"\r\n", part_head(part), b"\r\n",
                _trim_encoded(data, part.encoding, truncated), b"\r\n"]
    out += [b"--", boundary, b"--\r\n"]
    return b"".join(out)
