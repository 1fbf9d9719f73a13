from __future__ import annotations

import pytest

from harness.data.pii import PiiScanner

# Strings that look numeric or structured but are not personal data.
NOT_PII = [
    "Upgrade to version 1.2.3.4 before Friday.",
    "Firmware v10.0.0.1 fixes the pairing bug.",
    "Build 2.10.4.255 is the current release.",
    "The meeting is on 2024-01-15 at 14:30:45.",
    "Dates like 15/01/2024 and 01.02.2024 are fine.",
    "Your order 2024-0012-3345 ships tomorrow.",
    "Order #123-456-7890 was cancelled.",
    "Order id 4815162342 is confirmed.",
    "Tracking number 1Z999AA10123456784.",
    "ISBN 978-3-16-148410-0 is the second edition.",
    "ISBN-10 0-306-40615-2 is out of print.",
    "Reference 20240115123045 in our system.",
    "The total was $1,234,567.89 last quarter.",
    "Set the timeout to 30000 ms and retry 3 times.",
    "Serial AB12-CD34-EF56 is registered.",
    "The router's default gateway is 192.168.1.1.",
    "Localhost is 127.0.0.1 and the mask is 255.255.255.0.",
    "Use the documentation address 203.0.113.7 in examples.",
    "Contact jane@example.com for the sample account.",
    "npm install lodash@4.17.21 first.",
    "Clone git@github.com:acme/tools.git to start.",
    "The card ending in 4242 was charged.",
    "Random 16 digits 1234 5678 9012 3456 fail the Luhn check.",
    "std::vector<int> and a::b are C++ names.",
    "Meet at 10:30:00 tomorrow.",
    "The model gpt-4o-mini-2024-07-18 is our base.",
    "Price code DE12 is not an account.",
    "Call extension 4521 internally.",
]

# Real-format PII, each with the kind and text that must be found.
PII = [
    ("Write to jane.doe@gmail.com today.", "email", "jane.doe@gmail.com"),
    ("Mail: peter.oneil+billing@acme-corp.co.uk", "email", "peter.oneil+billing@acme-corp.co.uk"),
    ("Call me at (415) 555-2671 after six.", "phone", "(415) 555-2671"),
    ("My cell is 415.555.2671.", "phone", "415.555.2671"),
    ("Ring +44 20 7946 0958 in London.", "phone", "+44 20 7946 0958"),
    ("Mobile +33 6 12 34 56 78 please.", "phone", "+33 6 12 34 56 78"),
    ("Reach me on +1-202-555-0173.", "phone", "+1-202-555-0173"),
    ("Visa 4111 1111 1111 1111 exp 12/27", "credit_card", "4111 1111 1111 1111"),
    ("Card number 5500-0000-0000-0004.", "credit_card", "5500-0000-0000-0004"),
    ("Amex 378282246310005 on file.", "credit_card", "378282246310005"),
    ("Pay with 6011111111111117 please", "credit_card", "6011111111111117"),
    ("Server IP 8.8.8.8 is down.", "ip_address", "8.8.8.8"),
    ("Logged in from 81.2.69.142 yesterday.", "ip_address", "81.2.69.142"),
    ("IPv6 2001:4860:4860::8888 responded.", "ip_address", "2001:4860:4860::8888"),
    ("IBAN DE89 3704 0044 0532 0130 00 for the refund.", "iban", "DE89 3704 0044 0532 0130 00"),
    ("Transfer to GB82WEST12345698765432 now.", "iban", "GB82WEST12345698765432"),
    ("Account FR14 2004 1010 0505 0001 3M02 606 please.", "iban", "FR14 2004 1010 0505 0001 3M02 606"),
]

NAMES = [
    ("Hello, my name is Ana Lopez and I need help.", "Ana Lopez"),
    ("Please ask Dr. Watson about it.", "Dr. Watson"),
    ("Mrs. Carter called twice.", "Mrs. Carter"),
    ("Best regards,\nJohn Smith", "John Smith"),
    ("Hi, I'm Priya, my order is late.", "Priya"),
]
NOT_NAMES = ["I am Sorry for the delay.", "This is Important.", "The Settings page lists Account and Security."]


@pytest.mark.parametrize("text", NOT_PII)
def test_no_false_positives_on_tricky_strings(text: str) -> None:
    assert PiiScanner(names=True).find(text) == []


@pytest.mark.parametrize(("text", "kind", "value"), PII)
def test_real_format_pii_is_found(text: str, kind: str, value: str) -> None:
    found = [(m.kind, m.text) for m in PiiScanner().find(text)]
    assert found == [(kind, value)]


def test_recall_and_precision_over_the_lists() -> None:
    scanner = PiiScanner()
    recalled = sum(1 for text, kind, _ in PII if [m.kind for m in scanner.find(text)] == [kind])
    false_positives = sum(1 for text in NOT_PII if scanner.find(text))
    assert recalled == len(PII)
    assert false_positives == 0


@pytest.mark.parametrize(("text", "name"), NAMES)
def test_names_only_when_asked(text: str, name: str) -> None:
    assert PiiScanner().find(text) == []
    assert [m.text for m in PiiScanner(names=True).find(text)] == [name]


@pytest.mark.parametrize("text", NOT_NAMES)
def test_capitalised_words_are_not_names(text: str) -> None:
    assert PiiScanner(names=True).find(text) == []


def test_redaction_uses_placeholders_and_keeps_the_rest() -> None:
    text = "I'm Ana Lopez, email ana.lopez@gmail.com, card 4111-1111-1111-1111, IP 8.8.8.8, phone (415) 555-2671."
    redacted, matches = PiiScanner(names=True).redact(text)
    assert redacted == "I'm [PERSON], email [EMAIL], card [CREDIT_CARD], IP [IP_ADDRESS], phone [PHONE]."
    assert [m.kind for m in matches] == ["person", "email", "credit_card", "ip_address", "phone"]


def test_masked_values_do_not_repeat_the_data() -> None:
    (match,) = PiiScanner().find("jane.doe@gmail.com")
    assert match.masked == "ja…om"


def test_phone_region_decides_national_formats() -> None:
    assert PiiScanner(phone_region="US").find("Appelez le 06 12 34 56 78.") == []
    assert [m.kind for m in PiiScanner(phone_region="FR").find("Appelez le 06 12 34 56 78.")] == ["phone"]


def test_the_problem_summary_names_each_kind_once_with_quoted_samples() -> None:
    from harness.data.scan import pii_summary

    text = "Mail jane@acmecorp.com or joe@mailbox.org, call (415) 555-2671, or jim@contoso.net."
    matches = PiiScanner().find(text)
    assert pii_summary(matches) == 'email x3 ("ja…om", "jo…rg", ...), phone x1 ("(4…71")'
