"""INTERPOL I-24/7 connector (osbp/agencies/immigration/interpol.py) against a real HTTP server on 127.0.0.1.

Never a silent pass: every failure is ``unavailable`` with its reason. No wall-clock thresholds: the slow gateway is
asserted by its status and reason only.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import logging
import socket
import ssl
import threading
from dataclasses import FrozenInstanceError
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from osbp.agencies.immigration import interpol
from osbp.agencies.immigration.interpol import AlertQuery, CheckResult, Hit, adapter_for
from osbp.config import Config, ConfigError

CREDENTIALS = "osbp-rusizi:s3cr3t-Value"
BASE = Config(database_url="sqlite://")  # the rest as defaults
QUERY = AlertQuery(
    document_number="PA1234567",
    issuing_state="RWA",
    document_type="passport",
    surname="MUKAMANA",
    given_names="Aline Grace",
    birth_date=datetime.date(1990, 4, 12),
    nationality="RWA",
)
SLTD_HIT = {"source": "SLTD", "reference": "SLTD-2026-0001", "kind": "stolen_document", "matched_on": ["document_number", "issuing_state"]}  # fmt: skip
NOMINAL_HIT = {"source": "nominal", "reference": "N-77", "kind": "wanted_person", "matched_on": ["surname", "given_names", "birth_date"]}  # fmt: skip


class Gateway:
    """A scripted gateway: ``answers`` is what each request gets, in turn (the last one repeats)."""

    def __init__(self, scheme="http", tls=None):
        self.answers = [(200, {"hits": []})]
        self.requests = []
        self.release = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", 0))
                gateway.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(self.rfile.read(length))}
                )
                status, answer = gateway.answers[min(len(gateway.requests), len(gateway.answers)) - 1]
                if status == "slow":
                    gateway.release.wait(10)  # past any budget of the tests; released at teardown
                    status, answer = 200, {"hits": []}
                if status == "drip":  # a header line now and then: each read is quick, the whole answer is not
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for n in range(50):
                        if gateway.release.wait(0.1):
                            return
                        self.wfile.write(b"X-Drip-%d: 1\r\n" % n)
                        self.wfile.flush()
                    status, answer = 200, {"hits": []}
                raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/ncb/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    server = Gateway()
    yield server
    server.close()


def _config(gateway_url, **changes) -> Config:
    values = {"interpol_rw_url": gateway_url, "interpol_rw_credentials": CREDENTIALS} | changes
    config = BASE.replace(**values)
    config.validate()
    return config


def _check(gateway, **changes) -> CheckResult:
    return adapter_for("RW", _config(gateway.url, **changes)).check(QUERY)


def test_no_hit_sends_the_query_and_the_credentials(gateway):
    result = _check(gateway)
    assert (result.status, result.hits, result.reason) == ("no_hit", (), None)
    assert result.duration_ms >= 0
    [request] = gateway.requests
    assert request["path"] == "/ncb/v1/checks"
    assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(CREDENTIALS.encode()).decode()
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["X-Request-ID"] == result.request_id
    assert request["body"] == {
        "document_number": "PA1234567",
        "issuing_state": "RWA",
        "document_type": "passport",
        "surname": "MUKAMANA",
        "given_names": "Aline Grace",
        "birth_date": "1990-04-12",
        "nationality": "RWA",
    }


def test_an_unknown_birth_date_is_sent_as_null(gateway):
    adapter_for("RW", _config(gateway.url)).check(AlertQuery(**{**QUERY.__dict__, "birth_date": None}))
    assert gateway.requests[0]["body"]["birth_date"] is None


def test_a_stolen_document_and_a_wanted_person_are_hits(gateway):
    gateway.answers = [(200, {"hits": [SLTD_HIT, NOMINAL_HIT]})]
    result = _check(gateway)
    assert (result.status, result.reason) == ("hit", None)
    assert result.hits == (
        Hit("SLTD", "SLTD-2026-0001", "stolen_document", ("document_number", "issuing_state")),
        Hit("nominal", "N-77", "wanted_person", ("surname", "given_names", "birth_date")),
    )
    with pytest.raises(FrozenInstanceError):
        result.status = "no_hit"


def test_a_slow_gateway_is_unavailable_timeout_and_not_asked_again(gateway):
    gateway.answers = [("slow", None)]
    result = _check(gateway, interpol_timeout_seconds=0.3, interpol_retries=3)
    assert (result.status, result.reason, result.hits) == ("unavailable", "timeout", ())
    assert len(gateway.requests) == 1  # the budget was spent: no retry


def test_a_dripping_gateway_is_cut_at_the_budget(gateway):
    """Every read gets bytes before the socket timeout: only the budget of the whole check ends it."""
    gateway.answers = [("drip", None)]
    result = _check(gateway, interpol_timeout_seconds=0.5, interpol_retries=0)
    assert (result.status, result.reason) == ("unavailable", "timeout")


def test_a_gateway_that_never_answers_the_tls_handshake_is_a_timeout():
    with socket.socket() as listener:  # the kernel accepts the connection; nobody ever speaks TLS on it
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        result = adapter_for("RW", _config(f"https://127.0.0.1:{listener.getsockname()[1]}")).check(QUERY)
    assert (result.status, result.reason) == ("unavailable", "timeout")


def test_a_server_error_is_tried_once_more_then_unavailable(gateway):
    gateway.answers = [(500, {"error": "down"})]
    result = _check(gateway)
    assert (result.status, result.reason) == ("unavailable", "http_error")
    assert len(gateway.requests) == 2  # the first attempt and one retry (interpol_retries=1)


def test_a_server_error_then_an_answer_is_the_answer(gateway):
    gateway.answers = [(503, b"busy"), (200, {"hits": [SLTD_HIT]})]
    result = _check(gateway)
    assert (result.status, len(result.hits), len(gateway.requests)) == ("hit", 1, 2)


def test_without_retries_a_server_error_is_asked_once(gateway):
    gateway.answers = [(502, b"bad gateway")]
    assert _check(gateway, interpol_retries=0).reason == "http_error"
    assert len(gateway.requests) == 1


@pytest.mark.parametrize("status", [401, 403, 404, 302])
def test_a_client_error_or_redirect_is_unavailable_and_not_retried(gateway, status):
    gateway.answers = [(status, {"hits": []})]
    result = _check(gateway)
    assert (result.status, result.reason, len(gateway.requests)) == ("unavailable", "http_error", 1)


@pytest.mark.parametrize(
    "answer",
    [
        b"<html>gateway maintenance</html>",
        b"",
        b"\xff\xfe not utf-8",
        b"[]",
        b'{"matches": []}',
        b'{"hits": {}}',
        b'{"hits": ["SLTD"]}',
        json.dumps({"hits": [{**SLTD_HIT, "source": "Europol"}]}).encode(),
        json.dumps({"hits": [{**SLTD_HIT, "kind": "suspicious"}]}).encode(),
        json.dumps({"hits": [{**SLTD_HIT, "reference": ""}]}).encode(),
        json.dumps({"hits": [{**SLTD_HIT, "matched_on": []}]}).encode(),
        json.dumps({"hits": [{**SLTD_HIT, "matched_on": ["eye_colour"]}]}).encode(),
        json.dumps({"hits": [{k: v for k, v in SLTD_HIT.items() if k != "matched_on"}]}).encode(),
        json.dumps({"hits": [NOMINAL_HIT] * (interpol.MAX_HITS + 1)}).encode(),
        b'{"hits": []}' + b" " * interpol.MAX_ANSWER_BYTES,
    ],
)
def test_an_answer_outside_the_contract_is_unavailable_bad_answer(gateway, answer):
    gateway.answers = [(200, answer)]
    result = _check(gateway)
    assert (result.status, result.reason, result.hits) == ("unavailable", "bad_answer", ())
    assert len(gateway.requests) == 1


def test_a_refused_connection_is_unavailable_connection():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = adapter_for("RW", _config(f"http://127.0.0.1:{port}")).check(QUERY)
    assert (result.status, result.reason) == ("unavailable", "connection")


def test_an_unexpected_client_failure_is_unavailable_not_raised(gateway, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("surprise")

    monkeypatch.setattr(interpol.socket, "create_connection", broken)
    result = _check(gateway)
    assert (result.status, result.reason) == ("unavailable", "connection")


@pytest.mark.parametrize("country", ["RW", "CD"])
def test_a_country_without_a_gateway_is_unavailable_not_configured(country):
    adapter = adapter_for(country, BASE)
    assert isinstance(adapter, interpol.NotConfigured)
    result = adapter.check(QUERY)
    assert (result.status, result.reason, result.hits) == ("unavailable", "not_configured", ())


def test_each_country_has_its_own_gateway(gateway):
    config = BASE.replace(interpol_cd_url=gateway.url, interpol_cd_credentials="osbp-ruzizi:autre")
    config.validate()
    assert adapter_for("RW", config).check(QUERY).reason == "not_configured"
    assert adapter_for("CD", config).check(QUERY).status == "no_hit"
    assert gateway.requests[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"osbp-ruzizi:autre").decode()
    with pytest.raises(ValueError, match="country"):
        adapter_for("UG", config)


def test_the_log_carries_no_personal_data_and_no_credentials(gateway, caplog):
    gateway.answers = [(200, {"hits": [SLTD_HIT]})]
    with caplog.at_level(logging.INFO, logger=interpol.__name__):
        result = _check(gateway)
        adapter_for("CD", BASE).check(QUERY)
    text = caplog.text
    assert "status=hit" in text and result.request_id in text and "reason=not_configured" in text
    for secret in ("PA1234567", "MUKAMANA", "Aline", "1990", "s3cr3t", base64.b64encode(CREDENTIALS.encode()).decode()):
        assert secret not in text
    config = _config(gateway.url)
    assert "s3cr3t" not in repr(config) and "s3cr3t" not in repr(adapter_for("RW", config))


def test_a_result_is_consistent():
    with pytest.raises(ValueError):
        CheckResult("unavailable")  # no reason
    with pytest.raises(ValueError):
        CheckResult("no_hit", reason="timeout")
    with pytest.raises(ValueError):
        CheckResult("hit")  # no hits
    with pytest.raises(ValueError):
        CheckResult("unavailable", reason="gateway said maybe")


# TLS: verified against the system's CAs or the configured bundle.


@pytest.fixture
def tls_gateway(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Gateway(scheme="https", tls=context)
    yield server, cert
    server.close()


def test_an_unknown_certificate_is_refused(tls_gateway):
    server, _ = tls_gateway
    result = _check(server)
    assert (result.status, result.reason) == ("unavailable", "connection")
    assert server.requests == []


def test_the_ca_bundle_is_trusted(tls_gateway):
    server, cert = tls_gateway
    assert _check(server, interpol_rw_ca_bundle=str(cert)).status == "no_hit"
    assert server.requests[0]["headers"]["Authorization"].startswith("Basic ")


def self_signed_certificate(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ncb-gateway.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "gateway.pem", tmp_path / "gateway.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


# Configuration (osbp/config.py, validated at start-up).


@pytest.mark.parametrize(
    "url",
    ["https://ncb.example.rw/i247", "https://10.0.0.5:8443", "http://127.0.0.1:8080/gw", "http://localhost/gw"],
)
def test_gateway_urls_that_are_accepted(url):
    _config(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://ncb.example.rw/i247",
        "http://10.0.0.5/gw",
        "ftp://ncb.example.rw",
        "ncb.example.rw",
        "https://",
        "https://user:pw@ncb.example.rw",
        "https://ncb.example.rw:99999",
        "https://ncb.example.rw/?token=x",
    ],
)
def test_gateway_urls_that_are_refused(url):
    with pytest.raises(ConfigError, match="OSBP_INTERPOL_RW_URL"):
        _config(url)


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"interpol_rw_credentials": ""}, "OSBP_INTERPOL_RW_URL and OSBP_INTERPOL_RW_CREDENTIALS"),
        ({"interpol_rw_url": ""}, "OSBP_INTERPOL_RW_URL and OSBP_INTERPOL_RW_CREDENTIALS"),
        ({"interpol_rw_credentials": "no-colon"}, "OSBP_INTERPOL_RW_CREDENTIALS"),
        ({"interpol_rw_credentials": ":secret-only"}, "OSBP_INTERPOL_RW_CREDENTIALS"),
        ({"interpol_rw_credentials": "id-only:"}, "OSBP_INTERPOL_RW_CREDENTIALS"),
        ({"interpol_rw_ca_bundle": "/nonexistent/ca.pem"}, "OSBP_INTERPOL_RW_CA_BUNDLE"),
        ({"interpol_timeout_seconds": 0.05}, "OSBP_INTERPOL_TIMEOUT_SECONDS"),
        ({"interpol_timeout_seconds": 10.5}, "OSBP_INTERPOL_TIMEOUT_SECONDS"),
        ({"interpol_retries": -1}, "OSBP_INTERPOL_RETRIES"),
    ],
)
def test_settings_that_are_refused(changes, variable):
    with pytest.raises(ConfigError, match=variable):
        _config("https://ncb.example.rw", **changes)


def test_a_ca_bundle_without_certificates_is_refused(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nnot one\n")
    with pytest.raises(ConfigError, match="OSBP_INTERPOL_RW_CA_BUNDLE"):
        _config("https://ncb.example.rw", interpol_rw_ca_bundle=str(bundle))


def test_a_ca_bundle_gone_bad_after_start_up_makes_checks_unavailable(tls_gateway, tmp_path):
    server, cert = tls_gateway
    config = _config(server.url, interpol_rw_ca_bundle=str(cert))
    cert.write_text("gone bad")
    result = adapter_for("RW", config).check(QUERY)
    assert (result.status, result.reason, server.requests) == ("unavailable", "connection", [])


def test_settings_at_their_limits_are_accepted():
    _config("https://ncb.example.rw", interpol_timeout_seconds=0.1, interpol_retries=0)
    _config("https://ncb.example.rw", interpol_timeout_seconds=10)
    BASE.validate()  # nothing configured: the checks are unavailable, the app still starts


def test_the_settings_are_read_from_the_environment(tmp_path):
    bundle, _ = self_signed_certificate(tmp_path)
    config = Config.from_env(
        str(tmp_path),
        {
            "OSBP_INTERPOL_CD_URL": "https://ncb.example.cd/i247",
            "OSBP_INTERPOL_CD_CREDENTIALS": "osbp:secret",
            "OSBP_INTERPOL_CD_CA_BUNDLE": str(bundle),
            "OSBP_INTERPOL_TIMEOUT_SECONDS": "1.5",
            "OSBP_INTERPOL_RETRIES": "2",
            "OSBP_INTERPOL_CLEAR_WHEN_UNAVAILABLE": "yes",
        },
    )
    config.validate()
    assert (config.interpol_cd_url, config.interpol_cd_credentials) == ("https://ncb.example.cd/i247", "osbp:secret")
    assert (config.interpol_timeout_seconds, config.interpol_retries) == (1.5, 2)
    assert config.interpol_clear_when_unavailable is True
    assert Config().interpol_clear_when_unavailable is False
    adapter = adapter_for("CD", config)
    assert isinstance(adapter, interpol.HttpAlertCheck) and (adapter.timeout, adapter.retries) == (1.5, 2)
