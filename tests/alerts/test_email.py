"""Email intake through a real SMTP conversation: an in-process aiosmtpd server with Warroom's handler on
127.0.0.1, mail sent with smtplib as a monitoring host's MTA would, then an engine cycle."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import sqlite3
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.alerts.conftest import cycle, make_integration
from tests.conftest import World
from tests.smoke.test_serve import WARROOM, _free_port
from warroom.alerts import email as email_intake
from warroom.alerts.models import Alert, AlertStatus, EventStatus, IntakeEvent, Integration
from warroom.incidents.states import State

DOMAIN = "alerts.example.com"
SENDER = "nagios@monitor.example.com"

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def smtp_port(settings: Any) -> Iterator[int]:
    """A real SMTP server with Warroom's email handler; its threads touch the database, hence transactional
    tests."""
    settings.WARROOM_EMAIL_DOMAIN = DOMAIN
    handler = email_intake.EmailHandler()
    port = _free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, server_hostname=DOMAIN, **email_intake.smtp_options()
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
        handler.close()


def address(integration: Integration, *, domain: str = DOMAIN, tag: str = "") -> str:
    local = integration.email_address or ""
    return f"{local}{'+' + tag if tag else ''}@{domain}"


def mail(subject: str, body: str = "Details follow.", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Nagios <{SENDER}>"
    message["To"] = "oncall@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{time.monotonic_ns()}@monitor.example.com>"
    message["Date"] = "Mon, 02 Mar 2026 09:00:00 +0000"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(port: int, to: str | list[str], message: EmailMessage | bytes) -> None:
    recipients = [to] if isinstance(to, str) else to
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        if isinstance(message, bytes):
            refused = smtp.sendmail(SENDER, recipients, message)
        else:
            refused = smtp.send_message(message, from_addr=SENDER, to_addrs=recipients)
    assert refused == {}


def email_integration(world: World, **options: Any) -> Integration:
    return make_integration(world, "email", **options).integration


@transactional
def test_a_mail_opens_an_alert_and_an_incident(world: World, smtp_port: int) -> None:
    integration = email_integration(world)
    assert integration.email_address and integration.email_address.startswith("checkout-")
    send(smtp_port, address(integration), mail("Disk   full on \t db1", "Only 1% left on /var.\n"))

    event = IntakeEvent.objects.get()  # committed before the 250
    assert (event.integration_id, event.key_id, event.status) == (integration.pk, None, EventStatus.PENDING)
    assert (event.action, event.dedup_key) == ("trigger", "disk full on db1")
    assert dict(event.payload["headers"])["Subject"] == "Disk   full on \t db1"
    assert event.payload["envelope"]["mail_from"] == SENDER
    cycle()
    alert = Alert.objects.get()
    assert (alert.summary, alert.severity, alert.source) == ("Disk full on db1", "warning", SENDER)
    assert alert.details["body"] == "Only 1% left on /var."
    assert alert.details["from"] == f"Nagios <{SENDER}>"
    assert alert.details["message_id"].endswith("@monitor.example.com>")
    assert alert.details["date"] == "Mon, 02 Mar 2026 09:00:00 +0000"
    assert alert.incident is not None and alert.incident.title == "Disk full on db1"
    assert alert.incident.state == State.NEW


@transactional
def test_mail_to_an_address_literal_domain_is_taken(world: World, smtp_port: int, settings: Any) -> None:
    """Without a domain name (WARROOM_BASE_URL on an IP address) the addresses are ``x@[127.0.0.1]``."""
    settings.WARROOM_EMAIL_DOMAIN = "[127.0.0.1]"
    integration = email_integration(world)
    send(smtp_port, address(integration, domain="[127.0.0.1]"), mail("Disk full on db1"))
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(smtp_port, address(integration, domain="127.0.0.1"), mail("Disk full on db1"))
    cycle()
    assert Alert.objects.get().summary == "Disk full on db1"


@transactional
def test_the_same_subject_again_adds_to_the_open_alert(world: World, smtp_port: int) -> None:
    integration = email_integration(world)
    send(smtp_port, address(integration), mail("Disk full on db1"))
    send(smtp_port, address(integration), mail("disk full  on DB1"))
    send(smtp_port, address(integration), mail("Disk full on db2"))
    cycle()
    assert Alert.objects.get(dedup_key="disk full on db1").count == 2
    assert Alert.objects.get(dedup_key="disk full on db2").count == 1


@transactional
def test_the_resolve_pattern_resolves_the_alert_and_its_incident(world: World, smtp_port: int) -> None:
    integration = email_integration(world, email_resolve_pattern=r"^RESOLVED:\s*")
    send(smtp_port, address(integration), mail("Disk full on db1"))
    cycle()
    send(smtp_port, address(integration), mail("RESOLVED: Disk full on db1"))
    assert IntakeEvent.objects.filter(action="resolve", dedup_key="disk full on db1").exists()
    cycle()
    alert = Alert.objects.get()
    assert alert.status == AlertStatus.RESOLVED
    assert alert.incident is not None and alert.incident.state == State.RESOLVED


@transactional
def test_the_dedup_pattern_makes_the_key(world: World, smtp_port: int) -> None:
    integration = email_integration(
        world, email_dedup_pattern=r"Host (\S+) is DOWN", email_resolve_pattern=r"Host (\S+) is UP"
    )
    to = address(integration)
    send(smtp_port, to, mail("PROBLEM: Host web1 is DOWN"))
    send(smtp_port, to, mail("PROBLEM: Host web1 is DOWN (still)"))
    send(smtp_port, to, mail("PROBLEM: Host web2 is DOWN"))
    cycle()
    assert {a.dedup_key: a.count for a in Alert.objects.all()} == {"web1": 2, "web2": 1}
    send(smtp_port, to, mail("RECOVERY: Host web1 is UP"))
    cycle()
    assert Alert.objects.get(dedup_key="web1").status == AlertStatus.RESOLVED
    assert Alert.objects.get(dedup_key="web2").status == AlertStatus.TRIGGERED


@transactional
def test_an_unknown_recipient_is_refused_at_rcpt(world: World, smtp_port: int) -> None:
    integration = email_integration(world)
    unknown = f"checkout-0000000000000000@{DOMAIN}"
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_port, unknown, mail("Disk full"))
    code, text = refused.value.recipients[unknown]
    assert (code, text.decode()) == (550, email_intake.REFUSED.removeprefix("550 "))
    # One known and one unknown recipient: the known one gets the mail, the unknown one is refused.
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        partly = smtp.send_message(
            mail("Disk full"), from_addr=SENDER, to_addrs=[unknown, address(integration)]
        )
    assert list(partly) == [unknown]
    assert IntakeEvent.objects.get().integration_id == integration.pk


@transactional
def test_a_wrong_domain_gets_the_same_refusal(world: World, smtp_port: int) -> None:
    integration = email_integration(world)
    wrong = address(integration, domain="example.org")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_port, wrong, mail("Disk full"))
    assert refused.value.recipients[wrong] == (550, email_intake.REFUSED.removeprefix("550 ").encode())
    assert not IntakeEvent.objects.exists()


@transactional
def test_case_and_a_plus_tag_do_not_matter(world: World, smtp_port: int) -> None:
    integration = email_integration(world)
    to = address(integration, domain=DOMAIN.upper(), tag="nagios").upper()
    message = mail("Disk full on db1", f"Sent to {to}.")
    message.replace_header("To", to)
    send(smtp_port, to, message)
    event = IntakeEvent.objects.get()
    assert event.integration_id == integration.pk
    assert event.fields["details"]["tag"] == "NAGIOS"
    # The address is the integration's credential: it is not kept in full in the event.
    secret = integration.email_address or ""
    stored = json.dumps([event.fields, event.payload], ensure_ascii=False).lower()
    assert secret not in stored and secret[:-12] + "…" in stored


@transactional
def test_an_oversize_message_is_refused(world: World, smtp_port: int) -> None:
    integration = email_integration(world)
    huge = mail("Disk full", ("x" * 76 + "\n") * (email_intake.MAX_MESSAGE // 77 + 10))
    # smtplib declares SIZE (the server advertises its limit): refused at MAIL FROM.
    with pytest.raises(smtplib.SMTPSenderRefused) as declared:
        send(smtp_port, address(integration), huge)
    assert declared.value.smtp_code == 552
    # A client that does not declare it is refused after DATA.
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.mail(SENDER)[0] == 250
        assert smtp.rcpt(address(integration))[0] == 250
        code, _ = smtp.data(huge.as_string())
    assert code == 552
    assert not IntakeEvent.objects.exists()


@transactional
def test_html_only_multipart_becomes_text(world: World, smtp_port: int) -> None:
    integration = email_integration(world)
    message = mail("Backup failed")
    message.set_content(
        "<html><head><title>t</title><style>p {color: red}</style></head><body>"
        "<h1>Backup   failed</h1><p>Job <b>nightly</b> exited with 2 &amp; left no archive.</p>"
        "<script>alert(1)</script><table><tr><td>host</td><td>db1</td></tr></table></body></html>",
        subtype="html",
    )
    message.add_attachment(b"\x00\x01log", maintype="application", subtype="octet-stream", filename="log.bin")
    assert message.get_content_type() == "multipart/mixed"
    send(smtp_port, address(integration), message)
    body = IntakeEvent.objects.get().fields["details"]["body"]
    assert body == "Backup failed\n\nJob nightly exited with 2 & left no archive.\n\nhost db1"


@transactional
def test_an_encoded_word_subject_and_a_severity_tag(world: World, smtp_port: int) -> None:
    integration = email_integration(world)
    raw = (
        f"From: {SENDER}\r\nSubject: [CRITICAL] =?utf-8?q?Disque_plein_sur_=C3=A9t=C3=A9?=\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Plus de place sur été.\r\n"
    ).encode()
    send(smtp_port, address(integration), raw)
    send(smtp_port, address(integration), mail("=?utf-8?b?w6l0w6kgaXMgc2xvdw==?=", X_Warroom_Severity="info"))
    cycle()
    critical = Alert.objects.get(severity="critical")
    assert (critical.summary, critical.dedup_key) == ("Disque plein sur été", "disque plein sur été")
    assert critical.details["body"] == "Plus de place sur été."
    assert Alert.objects.get(severity="info").summary == "été is slow"


@transactional
def test_a_message_that_cannot_be_read_is_refused_and_logged(world: World, smtp_port: int) -> None:
    integration = email_integration(world)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(smtp_port, address(integration), b"\x00\x01 this is not a mail\r\n\r\nat all")
    assert refused.value.smtp_code == 554
    assert b"no header fields" in refused.value.smtp_error
    event = IntakeEvent.objects.get()
    assert (event.integration_id, event.status) == (integration.pk, EventStatus.REJECTED)
    assert event.reason.startswith("SMTP 554 5.6.0: the message has no header fields")


@transactional
def test_one_mail_to_two_integrations_makes_an_event_each(world: World, smtp_port: int) -> None:
    first = email_integration(world)
    second = email_integration(world, service=world.service_b, name="cron")
    send(smtp_port, [address(first), address(second), address(first, tag="again")], mail("Cron failed"))
    assert sorted(IntakeEvent.objects.values_list("integration_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )


# ---------------------------------------------------------------------------------------------------------------
# the rules without a server


def test_local_part() -> None:
    assert email_intake.local_part("Checkout-AB+x@Alerts.Example.com.", DOMAIN) == "checkout-ab"
    assert email_intake.local_part("<checkout-ab@alerts.example.com>", DOMAIN) == "checkout-ab"
    assert email_intake.local_part("checkout-ab@example.com", DOMAIN) is None
    assert email_intake.local_part("+tag@alerts.example.com", DOMAIN) is None
    assert email_intake.local_part("no-domain", DOMAIN) is None


def test_long_keys_are_hashed_and_patterns_fall_back() -> None:
    integration = Integration(email_dedup_pattern=r"job (\w+) failed", email_resolve_pattern=r"^OK\b")
    assert email_intake.classify("Job backup FAILED", integration) == ("trigger", "job backup failed")
    assert email_intake.classify("job backup failed", integration) == ("trigger", "backup")
    assert email_intake.classify("OK Job backup", integration) == ("resolve", "job backup")
    action, key = email_intake.classify("x" * 300, Integration())
    assert action == "trigger" and key.startswith("sha256:") and len(key) == 71


@pytest.mark.parametrize(
    ("dedup", "resolve", "subject", "expected"),
    [
        ("", r"^RESOLVED:\s*", "Disk full on db1", ("trigger", "disk full on db1")),
        ("", r"^RESOLVED:\s*", "RESOLVED: Disk full on db1", ("resolve", "disk full on db1")),
        (r"Host (\S+) is DOWN", r"Host (\S+) is UP", "Host web1 is DOWN", ("trigger", "web1")),
        (r"Host (\S+) is DOWN", r"Host (\S+) is UP", "Host web1 is UP", ("resolve", "web1")),
        *[
            (
                r"(?:Host|Service) Alert: (.+) is \S+ \*\*$",
                r"^\*\* RECOVERY ",
                f"** {kind} Service Alert: web1/HTTP is {state} **",
                (action, "web1/HTTP"),
            )
            for kind, state, action in (("PROBLEM", "CRITICAL", "trigger"), ("RECOVERY", "OK", "resolve"))
        ],
        (
            r"^\[(?:FIRING|RESOLVED)\] (.+)$",
            r"^\[RESOLVED\]",
            "[FIRING] HighLoad web1",
            ("trigger", "HighLoad web1"),
        ),
        (
            r"^\[(?:FIRING|RESOLVED)\] (.+)$",
            r"^\[RESOLVED\]",
            "[RESOLVED] HighLoad web1",
            ("resolve", "HighLoad web1"),
        ),
    ],
)
def test_the_documented_patterns(dedup: str, resolve: str, subject: str, expected: tuple[str, str]) -> None:
    """The examples of docs/integrations/email.md."""
    integration = Integration(email_dedup_pattern=dedup, email_resolve_pattern=resolve)
    assert email_intake.classify(subject, integration) == expected


# ---------------------------------------------------------------------------------------------------------------
# `warroom smtpd` as a user runs it

SETUP = (
    "from warroom.accounts import services as accounts; from warroom.catalog import services as catalog; "
    "from warroom.alerts import services; "
    "team = accounts.create_team(name='Ops', actor=None, source='cli'); "
    "service = catalog.create_service(team=team, name='Cron', tier=3, actor=None, source='cli'); "
    "i = services.create_integration(service=service, kind='email', name='cron', actor=None, source='cli'); "
    "print('ADDRESS=' + i.email_address)"
)


def _wait_listening(port: int, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"warroom smtpd exited early with {proc.returncode}")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
                smtp.noop()
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("warroom smtpd did not answer")


def _email_integration(data_dir: Path) -> tuple[dict[str, str], str]:
    """The environment of a live Warroom on ``data_dir`` and the address of an email integration made in it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
    env.update(WARROOM_DATA_DIR=str(data_dir), WARROOM_EMAIL_DOMAIN=DOMAIN)
    made = subprocess.run(
        [str(WARROOM), "manage", "shell", "-c", SETUP],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return env, next(line[8:] for line in made.stdout.splitlines() if line.startswith("ADDRESS="))


def test_warroom_smtpd_accepts_a_mail(migrated_data_dir: Path) -> None:
    env, local = _email_integration(migrated_data_dir)
    port = _free_port()
    proc = subprocess.Popen(
        [str(WARROOM), "smtpd", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_listening(port, proc)
        send(port, f"{local}@{DOMAIN}", mail("Cron <root@db1> /usr/local/bin/backup"))
        with sqlite3.connect(migrated_data_dir / "warroom.sqlite3") as db:
            rows = db.execute("SELECT action, dedup_key, status FROM alerts_intakeevent").fetchall()
        assert rows == [("trigger", "cron <root@db1> /usr/local/bin/backup", "pending")]
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert f"listening on 127.0.0.1:{port}" in output


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for ``name`` signed by its own key (PEM files), as an operator's test setup would have."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_warroom_smtpd_with_required_starttls_takes_mail_only_over_tls(
    migrated_data_dir: Path, tmp_path: Path
) -> None:
    env, local = _email_integration(migrated_data_dir)
    cert, key = _self_signed(tmp_path, "mx.example.com")
    port = _free_port()
    command = [str(WARROOM), "smtpd", "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)]
    proc = subprocess.Popen(
        [*command, "--require-tls"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    message = mail("Cron <root@db1> /usr/local/bin/backup")
    trusting = ssl.create_default_context(cafile=str(cert))
    try:
        _wait_listening(port, proc)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.ehlo("monitor.example.com")
            assert smtp.has_extn("starttls")
            code, reply = smtp.mail(SENDER)  # in the clear: refused, nothing goes further
            assert code == 530 and b"STARTTLS" in reply
            smtp.starttls(context=trusting)  # verified: the certificate names 127.0.0.1
            smtp.ehlo("monitor.example.com")
            assert smtp.send_message(message, from_addr=SENDER, to_addrs=[f"{local}@{DOMAIN}"]) == {}
        with sqlite3.connect(migrated_data_dir / "warroom.sqlite3") as db:
            rows = db.execute("SELECT dedup_key, status FROM alerts_intakeevent").fetchall()
        assert rows == [("cron <root@db1> /usr/local/bin/backup", "pending")]

        # A renewed certificate in the same files is taken up on SIGHUP, without a restart.
        renewed, _ = _self_signed(tmp_path, "mx.example.com")
        proc.send_signal(signal.SIGHUP)
        trusting_renewed = ssl.create_default_context(cafile=str(renewed))
        deadline = time.monotonic() + 20
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
                    smtp.starttls(context=trusting_renewed)
                    assert smtp.noop()[0] == 250
                break
            except ssl.SSLError:  # still the old certificate
                assert time.monotonic() < deadline, "the renewed certificate was not taken up"
                time.sleep(0.2)

        # A renewal that left a new certificate but a broken key behind changes nothing: the pair in use stays.
        third, _ = _self_signed(tmp_path, "third.example.com")
        cert.write_bytes(third.read_bytes())
        key.write_text("not a key")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.starttls(context=trusting_renewed)
            smtp.ehlo("monitor.example.com")
            assert smtp.send_message(message, from_addr=SENDER, to_addrs=[f"{local}@{DOMAIN}"]) == {}
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "(STARTTLS required)" in output
    assert "certificate reloaded" in output
    assert "the certificate was not reloaded, the previous one stays in use" in output

    # A certificate that cannot be read is refused at start, naming the file.
    broken = subprocess.run(
        [*command[:-4], "--tls-cert", str(tmp_path / "missing.crt")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert broken.returncode != 0 and "missing.crt" in broken.stderr + broken.stdout
