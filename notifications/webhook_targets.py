"""Where a webhook may post: never into the company's own network (server-side request forgery).

A target is checked when the subscription is created and again before every send, after resolving
its name, and the request then goes to exactly the address that was checked (no second lookup a
rebinding DNS server could answer differently). Only http(s), no user name or password in the URL,
no redirects. An operator allow-lists an internal host (a CRM on the intranet) by name in
NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from .error_codes import NotificationErrorCode

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL breaks one of the target rules; `code` names the rule."""

    def __init__(self, message: str, *, code: NotificationErrorCode):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (without brackets); the Host header and the TLS server name
    port: int
    path: str  # path and query, what the request line asks for


def allowed_hosts() -> set[str]:
    return {h.strip().lower().strip("[]") for h in getattr(settings, "NOTIFICATIONS_WEBHOOK_ALLOWED_HOSTS", []) if h}


def target_parse(url: str) -> Target:
    """The scheme and userinfo rules, and the parts the request is made of."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(_("A webhook needs an http(s) URL."), code=NotificationErrorCode.INVALID_URL) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(_("A webhook needs an http(s) URL."), code=NotificationErrorCode.INVALID_URL)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise TargetRefused(_("A webhook URL may not contain a user name or password: send the secret in "
                              "the signature instead."), code=NotificationErrorCode.URL_USERINFO)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=parts.hostname.lower(), port=port or (443 if scheme == "https" else 80),
                  path=path)


def _internal_kind(address: IPAddress) -> str | None:
    """Which kind of internal address this is (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, internal in (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
                           ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                           ("private", address.is_private), ("reserved", address.is_reserved)):
        if internal:
            return kind
    if not address.is_global:
        return "reserved"  # shared address space, 6to4 and Teredo relays, documentation ranges, …
    return None


def address_check(target: Target, address: IPAddress) -> None:
    kind = _internal_kind(address)
    if kind and target.host not in allowed_hosts():
        raise TargetRefused(
            _("Webhook target %(host)s is refused: %(address)s is a %(kind)s address, and webhooks may not "
              "post into internal networks (an operator can allow-list an internal host).")
            % {"host": target.host, "address": address, "kind": kind},
            code=NotificationErrorCode.INTERNAL_TARGET)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def target_resolve(target: Target) -> list[IPAddress]:
    """Every address the name resolves to, each checked: one internal answer refuses the target.
    OSError when the name does not resolve (now)."""
    literal = _literal(target.host)
    if literal is not None:
        addresses = [literal]
    else:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    for address in addresses:
        address_check(target, address)
    return addresses


def target_check_new(url: str) -> None:
    """At creation: the URL's rules, and its addresses if the name resolves now. A name that does not
    resolve yet is accepted; it is checked again before every send."""
    target = target_parse(url)
    try:
        target_resolve(target)
    except OSError:
        pass


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; the Host header still names the URL's host."""

    def __init__(self, target: Target, address: IPAddress, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = str(address)

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address; the certificate is verified for the URL's host (SNI)."""

    def __init__(self, target: Target, address: IPAddress, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = str(address)

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST to the checked address of a checked URL; the answer's status (redirects are not followed,
    the body is not read beyond what the connection needs). Raises TargetRefused or OSError."""
    target = target_parse(url)
    address = target_resolve(target)[0]
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()
