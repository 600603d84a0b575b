"""IMAP settings of common mail providers, chosen by the email address's domain.

    >>> preset_for("sam@gmail.com").host
    'imap.gmail.com'

Every preset is TLS on 993 except Proton Mail Bridge, which runs on the user's own machine
(127.0.0.1:1143, STARTTLS with the Bridge's own certificate). The help link is where the
provider explains app passwords: a normal password is refused by most of them over IMAP.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

SECURITY_CHOICES = ("tls", "starttls", "plain")


@dataclass(frozen=True)
class Preset:
    provider: str
    host: str
    port: int
    security: str  # "tls" | "starttls" | "plain"
    help_url: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


GMAIL = Preset("Gmail", "imap.gmail.com", 993, "tls",
               "https://support.google.com/accounts/answer/185833")
OUTLOOK = Preset("Outlook", "outlook.office365.com", 993, "tls",
                 "https://support.microsoft.com/account-billing/"
                 "5896ed9b-4263-e681-128a-a6f2979a7944")
YAHOO = Preset("Yahoo Mail", "imap.mail.yahoo.com", 993, "tls",
               "https://help.yahoo.com/kb/SLN15241.html")
ICLOUD = Preset("iCloud Mail", "imap.mail.me.com", 993, "tls",
                "https://support.apple.com/102654")
FASTMAIL = Preset("Fastmail", "imap.fastmail.com", 993, "tls",
                  "https://www.fastmail.help/hc/en-us/articles/360058752854")
AOL = Preset("AOL Mail", "imap.aol.com", 993, "tls",
             "https://help.aol.com/articles/Create-and-manage-app-password")
ZOHO = Preset("Zoho Mail", "imap.zoho.com", 993, "tls",
              "https://www.zoho.com/mail/help/adminconsole/two-factor-authentication.html")
GMX = Preset("GMX", "imap.gmx.com", 993, "tls",
             "https://support.gmx.com/pop-imap/toggle.html")
GMX_NET = Preset("GMX", "imap.gmx.net", 993, "tls",
                 "https://hilfe.gmx.net/pop-imap/einschalten.html")
PROTON = Preset("Proton Mail Bridge", "127.0.0.1", 1143, "starttls",
                "https://proton.me/support/protonmail-bridge-clients")

DOMAINS: dict[str, Preset] = {
    "gmail.com": GMAIL, "googlemail.com": GMAIL,
    "outlook.com": OUTLOOK, "hotmail.com": OUTLOOK, "hotmail.co.uk": OUTLOOK,
    "live.com": OUTLOOK, "live.co.uk": OUTLOOK, "msn.com": OUTLOOK, "office365.com": OUTLOOK,
    "outlook.co.uk": OUTLOOK,
    "yahoo.com": YAHOO, "yahoo.co.uk": YAHOO, "ymail.com": YAHOO, "rocketmail.com": YAHOO,
    "icloud.com": ICLOUD, "me.com": ICLOUD, "mac.com": ICLOUD,
    "fastmail.com": FASTMAIL, "fastmail.fm": FASTMAIL,
    "aol.com": AOL,
    "zoho.com": ZOHO, "zohomail.com": ZOHO,
    "gmx.com": GMX, "gmx.us": GMX, "gmx.co.uk": GMX,
    "gmx.net": GMX_NET, "gmx.de": GMX_NET, "gmx.at": GMX_NET, "gmx.ch": GMX_NET,
    "proton.me": PROTON, "protonmail.com": PROTON, "pm.me": PROTON, "protonmail.ch": PROTON,
}

# Providers whose help link is worth showing when a login fails, by IMAP host.
HOSTS: dict[str, Preset] = {p.host: p for p in DOMAINS.values()}


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower().rstrip(".") if "@" in (email or "") else ""


def preset_for(email: str) -> Preset | None:
    """The provider's IMAP settings for this address, or None for an unknown domain."""
    return DOMAINS.get(domain_of(email))


def preset_for_host(host: str | None) -> Preset | None:
    """The provider behind an IMAP host name (for the help link), or None."""
    return HOSTS.get((host or "").strip().lower())


__all__ = ["Preset", "preset_for", "preset_for_host", "domain_of", "SECURITY_CHOICES"]
