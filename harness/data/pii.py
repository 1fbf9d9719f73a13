"""Find and replace personal data: emails, phone numbers, payment cards, IP addresses, IBANs, names.

Precision matters as much as recall here: a cleaner that rewrites version numbers, dates
and order ids damages the training data it is meant to protect. So every candidate is
validated: phone numbers by Google's libphonenumber (`phonenumbers`), cards by their Luhn
check digit and issuer prefix, IBANs by country format and check digits (`python-stdnum`),
IP addresses by `ipaddress` (public addresses only; a version string such as `v1.2.3.4` is
not an address). Reserved example domains and documentation address ranges are not PII.
Names are optional (`names=True`) and found only in telling contexts (`Mr. Smith`,
`my name is Ana Lopez`, a sign-off), since a capitalised word alone says little.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass

PII_KINDS = ("email", "phone", "credit_card", "ip_address", "iban", "person")
PLACEHOLDERS = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "credit_card": "[CREDIT_CARD]",
    "ip_address": "[IP_ADDRESS]",
    "iban": "[IBAN]",
    "person": "[PERSON]",
}

_EMAIL = re.compile(r"(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]*@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})(?![\w-])(?!:[\w~/])")
# RFC 2606 / 6761 names reserved for documentation and tests.
_RESERVED_DOMAIN = re.compile(r"(?:^|\.)(?:example\.(?:com|org|net)|[^.]+\.(?:example|test|invalid|localhost))$", re.I)
_PHONE_HINT = re.compile(r"\d(?:[\s().+-]{0,3}\d){6,}")
# Cheap pre-check for every digit-based detector: 7+ digits close together (phones, cards,
# IBANs) or a dotted quad (IPv4). Most texts have neither and skip those detectors.
_NUMERIC_HINT = re.compile(r"\d(?:[\s().+-]{0,3}\d){6,}|\d\.\d{1,3}\.\d{1,3}\.\d|[A-Z]{2}\d\d")
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|3[0689]|6(?:011|5|4[4-9]|2)|35)")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{3,39}(?![\w:])")
_VERSION_BEFORE = re.compile(r"(?:\bv|\bversion|\bver\.?|\brelease|\bbuild|\brev\.?|\bfirmware|\bupdate)\s*:?\s*$", re.I)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_NAME = r"[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?"
_TITLED = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?\s+{_NAME}(?:\s+{_NAME})?")
_INTRODUCED = re.compile(rf"\b(?:[Mm]y name is|[Nn]ame:|I'm|I am|[Cc]all me)\s+({_NAME}(?:\s+{_NAME}){{0,2}})\b")
_SIGNED = re.compile(rf"\b(?:(?:Best|Kind|Warm) regards|Regards|Best|Thanks|Thank you|Many thanks|Sincerely|Cheers),?[ \t]*\n[ \t]*({_NAME}(?:[ \t]+{_NAME})?)")
# Capitalised words after "I am" / "I'm" that are not names.
_NOT_NAMES = frozenset(
    ["Sorry", "Happy", "Glad", "Not", "Unable", "Able", "Here", "There", "The", "This", "That", "It", "A", "An", "Going", "Looking", "Trying", "Writing", "Calling", "Interested", "Sure", "Afraid", "Aware", "Still", "Just", "Also", "Really", "Very", "So", "Now", "Currently", "Available", "Ready", "Done", "New"]
)


@dataclass(frozen=True, slots=True)
class PiiMatch:
    kind: str
    start: int
    end: int
    text: str

    @property
    def masked(self) -> str:
        """The match with its middle hidden, for reports that must not repeat the data."""
        if len(self.text) <= 4:
            return "*" * len(self.text)
        return f"{self.text[:2]}…{self.text[-2:]}"


def _luhn_ok(digits: str) -> bool:
    from stdnum import luhn

    return bool(luhn.is_valid(digits))


def _global_ip(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return address.is_global and not address.is_multicast


class PiiScanner:
    """Finds PII spans in text; `names` adds the pattern-based person-name detector."""

    def __init__(self, names: bool = False, phone_region: str = "US") -> None:
        self.names = names
        self.phone_region = phone_region.upper()

    def find(self, text: str) -> list[PiiMatch]:
        """Non-overlapping matches in text order."""
        found: list[PiiMatch] = []
        if "@" in text:
            found.extend(self._emails(text))
        if _NUMERIC_HINT.search(text):
            found.extend(self._cards(text))
            found.extend(self._ibans(text))
            found.extend(self._ipv4(text))
            found.extend(self._phones(text))
        if text.count(":") >= 2:
            found.extend(self._ipv6(text))
        if self.names:
            found.extend(self._persons(text))
        return _without_overlaps(found)

    def counts(self, text: str) -> Counter[str]:
        return Counter(m.kind for m in self.find(text))

    def redact(self, text: str) -> tuple[str, list[PiiMatch]]:
        """The text with each match replaced by its placeholder, and the matches."""
        matches = self.find(text)
        if not matches:
            return text, matches
        parts, last = [], 0
        for match in matches:
            parts.append(text[last : match.start])
            parts.append(PLACEHOLDERS[match.kind])
            last = match.end
        parts.append(text[last:])
        return "".join(parts), matches

    # -- detectors ---------------------------------------------------------------------------
    def _emails(self, text: str) -> list[PiiMatch]:
        return [
            PiiMatch("email", m.start(), m.end(), m.group())
            for m in _EMAIL.finditer(text)
            if not _RESERVED_DOMAIN.search(m.group(1))
        ]

    def _cards(self, text: str) -> list[PiiMatch]:
        matches = []
        for m in _CARD.finditer(text):
            raw = m.group()
            separators = {c for c in raw if not c.isdigit()}
            digits = raw.replace(" ", "").replace("-", "")
            if len(separators) > 1 or not 13 <= len(digits) <= 19:
                continue
            if _CARD_PREFIX.match(digits) and _luhn_ok(digits):
                matches.append(PiiMatch("credit_card", m.start(), m.end(), raw))
        return matches

    def _ibans(self, text: str) -> list[PiiMatch]:
        from stdnum import iban

        matches = []
        for m in _IBAN.finditer(text):
            # The pattern may run on into following capitals ("... 00 AND"): try shorter candidates too.
            groups = m.group().split(" ")
            for count in range(len(groups), 0, -1):
                candidate = " ".join(groups[:count])
                if len(candidate.replace(" ", "")) < 15:
                    break
                if iban.is_valid(candidate):
                    matches.append(PiiMatch("iban", m.start(), m.start() + len(candidate), candidate))
                    break
        return matches

    def _ipv4(self, text: str) -> list[PiiMatch]:
        return [
            PiiMatch("ip_address", m.start(), m.end(), m.group())
            for m in _IPV4.finditer(text)
            if _global_ip(m.group()) and not _VERSION_BEFORE.search(text[max(0, m.start() - 16) : m.start()])
        ]

    def _ipv6(self, text: str) -> list[PiiMatch]:
        # At least three groups: `a::b` is more often a C++ or Rust path than an address.
        return [
            PiiMatch("ip_address", m.start(), m.end(), m.group())
            for m in _IPV6.finditer(text)
            if sum(1 for group in m.group().split(":") if group) >= 3 and _global_ip(m.group())
        ]

    def _phones(self, text: str) -> list[PiiMatch]:
        if not _PHONE_HINT.search(text):
            return []
        import phonenumbers

        return [
            PiiMatch("phone", m.start, m.end, m.raw_string)
            for m in phonenumbers.PhoneNumberMatcher(text, self.phone_region)
        ]

    def _persons(self, text: str) -> list[PiiMatch]:
        matches = [PiiMatch("person", m.start(), m.end(), m.group()) for m in _TITLED.finditer(text)]
        for pattern in (_INTRODUCED, _SIGNED):
            for m in pattern.finditer(text):
                name = m.group(1)
                if name.split()[0] in _NOT_NAMES:
                    continue
                matches.append(PiiMatch("person", m.start(1), m.end(1), name))
        return matches


def _without_overlaps(matches: list[PiiMatch]) -> list[PiiMatch]:
    kept: list[PiiMatch] = []
    # Earlier first; at the same start the longer match wins (a card over a phone inside it).
    for match in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        if kept and match.start < kept[-1].end:
            continue
        kept.append(match)
    return kept
