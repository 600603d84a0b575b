"""Provider presets by email domain and the checks on hand-given server settings."""
from __future__ import annotations

import pytest

from server import imap
from server.errors import AccountError
from server.presets import preset_for, preset_for_host


@pytest.mark.parametrize("email, host, port, security", [
    ("sam@gmail.com", "imap.gmail.com", 993, "tls"),
    ("sam@googlemail.com", "imap.gmail.com", 993, "tls"),
    ("sam@Outlook.com", "outlook.office365.com", 993, "tls"),
    ("sam@hotmail.co.uk", "outlook.office365.com", 993, "tls"),
    ("sam@live.com", "outlook.office365.com", 993, "tls"),
    ("sam@yahoo.com", "imap.mail.yahoo.com", 993, "tls"),
    ("sam@me.com", "imap.mail.me.com", 993, "tls"),
    ("sam@mac.com", "imap.mail.me.com", 993, "tls"),
    ("sam@icloud.com", "imap.mail.me.com", 993, "tls"),
    ("sam@fastmail.com", "imap.fastmail.com", 993, "tls"),
    ("sam@aol.com", "imap.aol.com", 993, "tls"),
    ("sam@zoho.com", "imap.zoho.com", 993, "tls"),
    ("sam@gmx.de", "imap.gmx.net", 993, "tls"),
    ("sam@proton.me", "127.0.0.1", 1143, "starttls"),
])
def test_presets_by_domain(email, host, port, security):
    preset = preset_for(email)
    assert (preset.host, preset.port, preset.security) == (host, port, security)
    assert preset.help_url.startswith("https://")
    assert preset.to_dict()["provider"] == preset.provider


@pytest.mark.parametrize("email", ["sam@example.org", "not-an-address", "", "sam@"])
def test_unknown_domains_have_no_preset(email):
    assert preset_for(email) is None


def test_preset_for_host():
    assert preset_for_host("IMAP.GMAIL.COM").provider == "Gmail"
    assert preset_for_host("mail.example.org") is None


def test_resolve_settings_fills_from_preset_and_defaults():
    assert imap.resolve_settings("a@gmail.com") == imap.ServerSettings("imap.gmail.com", 993, "tls")
    assert imap.resolve_settings("a@example.org", "mail.example.org") == \
        imap.ServerSettings("mail.example.org", 993, "tls")
    assert imap.resolve_settings("a@example.org", "mail.example.org", security="starttls").port == 143


@pytest.mark.parametrize("host", ["mail.example.org", "10.0.0.5", "imap.gmail.com"])
def test_plain_refused_off_loopback(host):
    with pytest.raises(AccountError, match="clear"):
        imap.resolve_settings("a@example.org", host, 143, "plain")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_plain_allowed_on_loopback(host):
    assert imap.resolve_settings("a@example.org", host, 143, "plain").security == "plain"


@pytest.mark.parametrize("kwargs, words", [
    ({"email": "a@example.org"}, "--host"),
    ({"email": "a@example.org", "host": "h.example", "port": 70000}, "port"),
    ({"email": "a@example.org", "host": "h.example", "port": "x"}, "port"),
    ({"email": "a@example.org", "host": "h.example", "security": "ssl3"}, "security"),
])
def test_bad_settings_are_one_sentence(kwargs, words):
    with pytest.raises(AccountError) as info:
        imap.resolve_settings(**kwargs)
    message = str(info.value)
    assert words in message and message.count("\n") == 0
