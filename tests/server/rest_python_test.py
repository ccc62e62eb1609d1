#!/usr/bin/env python3
"""The REST API driven by Python's standard library alone (http.client + ssl), as a
service that cannot load a C library would call it, against a real ferrohsm-server of
this build on a loopback port: signatures and ciphertexts are checked with `openssl`,
and bad input gets its documented status and problem type with the server still serving.

usage: rest_python_test.py BUILD_DIR
"""
import base64
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/release"
CLI = os.path.join(BUILD, "tools/ferrohsm/ferrohsm")
SERVER = os.path.join(BUILD, "tools/ferrohsm-server/ferrohsm-server")
PIN, SO_PIN = "py-user-pin", "py-so-pin-1"
PROBLEM = "application/problem+json"


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """ferrohsm-server with two tokens (r1, r2) made by the CLI beforehand, its REST
    listener on a free port, stopped by pid."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ferrohsm-rest-py-")
        self.port = free_port()
        self.tls = os.path.join(self.dir, "tls")
        subprocess.run([CLI, "tls", "init", self.tls], check=True, stdout=subprocess.DEVNULL)
        store = os.path.join(self.dir, "ferrohsm.db")
        with open(os.path.join(self.dir, "cli.toml"), "w") as f:
            f.write('[store]\npath = "%s"\n[log]\nlevel = "error"\n' % store)
        env = dict(os.environ, FERROHSM_CONF=os.path.join(self.dir, "cli.toml"), FERROHSM_PIN=PIN,
                   FERROHSM_SO_PIN=SO_PIN)
        for label in ("r1", "r2"):
            subprocess.run([CLI, "token", "init", "--label", label], check=True, env=env, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.dir, "server.toml"), "w") as f:
            f.write("""[server]
listen = ["unix:%(d)s/s.sock"]
tls_cert = "tls/server.pem"
tls_key = "tls/server.key"
client_ca = "tls/ca.pem"
[rest]
listen = "127.0.0.1:%(port)d"
max_body = 4096
[[access]]
peer = "cert:CN=ferrohsm-dev-client"
tokens = ["*"]
[store]
path = "%(store)s"
[log]
level = "info"
""" % {"d": self.dir, "port": self.port, "store": store})
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.proc = subprocess.Popen([SERVER, "--config", os.path.join(self.dir, "server.toml")], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ferrohsm-server exited: " + open(self.log.name).read())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("ferrohsm-server did not listen within 20 s")

    def context(self, cert="client", ca=None):
        ctx = ssl.create_default_context(cafile=ca or os.path.join(self.tls, "ca.pem"))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        if cert:
            ctx.load_cert_chain(os.path.join(self.tls, cert + ".pem"), os.path.join(self.tls, cert + ".key"))
        return ctx

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


SRV = None


def setUpModule():
    global SRV
    SRV = Server()


def tearDownModule():
    SRV.stop()


class Client:
    """One keep-alive HTTPS connection with the client certificate."""

    def __init__(self, ctx=None):
        self.conn = http.client.HTTPSConnection("127.0.0.1", SRV.port, context=ctx or SRV.context(), timeout=30)
        self.bearer = None

    def call(self, method, path, body=None, raw=None):
        headers = {}
        if self.bearer:
            headers["Authorization"] = "Bearer " + self.bearer
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read()

    def ok(self, method, path, body=None, want=200):
        status, ctype, data = self.call(method, path, body)
        if status != want:
            raise AssertionError("%s %s: %d %s" % (method, path, status, data[:300]))
        return json.loads(data) if ctype.startswith("application/json") else data

    def login(self, token="r1"):
        self.bearer = self.ok("POST", "/v1/tokens/%s/login" % token, {"pin": PIN})["session"]
        return self


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)


class RestFromPython(unittest.TestCase):
    def setUp(self):
        self.c = Client().login()
        self.keys = "/v1/tokens/r1/keys"

    def tearDown(self):
        self.c.conn.close()

    def public_pem(self, key, folder):
        pem = self.c.ok("GET", "%s/%s/public?format=pem" % (self.keys, key))
        path = os.path.join(folder, key + ".pem")
        with open(path, "wb") as f:
            f.write(pem)
        return path

    def test_an_rsa_signature_verifies_with_openssl(self):
        key = self.c.ok("POST", self.keys, {"type": "rsa", "bits": 2048, "label": "py-sign"}, 201)["id"]
        data = os.urandom(300)
        sig = self.c.ok("POST", "%s/%s/sign" % (self.keys, key), {"mechanism": "SHA256_RSA_PKCS", "data": b64u(data)})
        with tempfile.TemporaryDirectory() as d:
            for name, content in (("data", data), ("sig", unb64u(sig["signature"]))):
                with open(os.path.join(d, name), "wb") as f:
                    f.write(content)
            pem = self.public_pem(key, d)
            good = openssl("dgst", "-sha256", "-verify", pem, "-signature", os.path.join(d, "sig"), os.path.join(d, "data"))
            self.assertEqual(good.returncode, 0, good.stderr)
            self.assertIn(b"Verified OK", good.stdout)
            with open(os.path.join(d, "data"), "ab") as f:
                f.write(b"!")
            bad = openssl("dgst", "-sha256", "-verify", pem, "-signature", os.path.join(d, "sig"), os.path.join(d, "data"))
            self.assertNotEqual(bad.returncode, 0)
        # The server's own verify agrees both ways.
        path = "%s/%s/verify" % (self.keys, key)
        self.assertTrue(self.c.ok("POST", path, {"mechanism": "SHA256_RSA_PKCS", "data": b64u(data),
                                                 "signature": sig["signature"]})["valid"])
        self.assertFalse(self.c.ok("POST", path, {"mechanism": "SHA256_RSA_PKCS", "data": b64u(data + b"!"),
                                                  "signature": sig["signature"]})["valid"])

    def test_an_openssl_oaep_ciphertext_decrypts_and_aes_gcm_round_trips(self):
        rsa = self.c.ok("POST", self.keys, {"type": "rsa", "bits": 2048, "usages": ["encrypt", "decrypt"]}, 201)["id"]
        secret = os.urandom(32)
        with tempfile.TemporaryDirectory() as d:
            pem = self.public_pem(rsa, d)
            enc = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", pem, "-pkeyopt", "rsa_padding_mode:oaep",
                          "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256", data=secret)
            self.assertEqual(enc.returncode, 0, enc.stderr)
        out = self.c.ok("POST", "%s/%s/decrypt" % (self.keys, rsa),
                        {"mechanism": "RSA_PKCS_OAEP", "ciphertext": b64u(enc.stdout), "parameters": {"hash": "SHA256"}})
        self.assertEqual(unb64u(out["plaintext"]), secret)

        aes = self.c.ok("POST", self.keys, {"type": "aes", "bits": 256}, 201)["id"]
        msg, aad = os.urandom(2048), b"header"  # the body stays under max_body (4096)
        sealed = self.c.ok("POST", "%s/%s/encrypt" % (self.keys, aes),
                           {"mechanism": "AES_GCM", "plaintext": b64u(msg), "parameters": {"aad": b64u(aad)}})
        params = {"iv": sealed["iv"], "aad": b64u(aad)}  # the IV the server chose
        self.assertEqual(len(unb64u(sealed["ciphertext"])), len(msg) + 16)  # and a 128-bit tag
        opened = self.c.ok("POST", "%s/%s/decrypt" % (self.keys, aes),
                           {"mechanism": "AES_GCM", "ciphertext": sealed["ciphertext"], "parameters": params})
        self.assertEqual(unb64u(opened["plaintext"]), msg)
        tampered = bytearray(unb64u(sealed["ciphertext"]))
        tampered[0] ^= 1
        status, ctype, body = self.c.call("POST", "%s/%s/decrypt" % (self.keys, aes),
                                          {"mechanism": "AES_GCM", "ciphertext": b64u(bytes(tampered)),
                                           "parameters": params})
        self.assertEqual((status, ctype), (400, PROBLEM), body)

    def problem(self, status, title, method, path, body=None, raw=None, client=None):
        got, ctype, data = (client or self.c).call(method, path, body, raw)
        self.assertEqual((got, ctype), (status, PROBLEM), data[:300])
        p = json.loads(data)
        self.assertEqual(p["title"], title)
        self.assertEqual(p["type"], "https://ferrohsm.dev/problems/" + title)
        self.assertEqual(p["status"], status)
        self.assertNotIn(PIN, data.decode())
        return p

    def test_bad_input_gets_its_documented_problem_and_the_server_serves_on(self):
        key = self.c.ok("POST", self.keys, {"type": "ec", "curve": "P-256"}, 201)["id"]
        sign = "%s/%s/sign" % (self.keys, key)
        self.problem(400, "CKR_ARGUMENTS_BAD", "POST", sign, raw=b'{"mechanism": "ECDSA", "data": ')
        self.problem(400, "CKR_ARGUMENTS_BAD", "POST", sign, {"mechanism": "ECDSA", "data": "not*base64url"})
        self.problem(400, "CKR_MECHANISM_INVALID", "POST", sign, {"mechanism": "NO_SUCH_MECHANISM", "data": b64u(b"x")})
        big = self.problem(413, "CKR_DATA_LEN_RANGE", "POST", sign, {"mechanism": "ECDSA", "data": b64u(os.urandom(8192))})
        self.assertIn("max_body", big["detail"])
        self.problem(401, "CKR_PIN_INCORRECT", "POST", "/v1/tokens/r1/login", {"pin": PIN + "-wrong"}, client=Client())
        self.problem(401, "CKR_USER_NOT_LOGGED_IN", "POST", sign, {"mechanism": "ECDSA", "data": b64u(b"x")},
                     client=Client())
        # A key of another token, named through this token's path with this token's bearer.
        other = Client().login("r2")
        theirs = other.ok("POST", "/v1/tokens/r2/keys", {"type": "ec"}, 201)["id"]
        self.problem(404, "CKR_KEY_HANDLE_INVALID", "POST", "%s/%s/sign" % (self.keys, theirs),
                     {"mechanism": "ECDSA", "data": b64u(os.urandom(32))})
        # r1's bearer does not open r2.
        self.problem(401, "CKR_SESSION_HANDLE_INVALID", "GET", "/v1/tokens/r2/keys")
        self.problem(404, "CKR_FUNCTION_NOT_SUPPORTED", "GET", "/v1/no/such/route")
        # Still serving, on this very connection.
        sig = self.c.ok("POST", sign, {"mechanism": "ECDSA", "data": b64u(os.urandom(32))})
        self.assertEqual(len(unb64u(sig["signature"])), 64)

    def test_no_or_a_foreign_client_certificate_is_refused(self):
        # No certificate: the TLS 1.3 server refuses it (after the handshake, on first read).
        with self.assertRaises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
            Client(SRV.context(cert=None)).call("GET", "/v1/tokens")
        # A certificate from another CA (self-signed here).
        with tempfile.TemporaryDirectory() as d:
            key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
            made = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                           "-subj", "/CN=ferrohsm-dev-client", "-days", "1", "-keyout", key, "-out", crt)
            self.assertEqual(made.returncode, 0, made.stderr)
            ctx = SRV.context(cert=None)
            ctx.load_cert_chain(crt, key)
            with self.assertRaises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
                Client(ctx).call("GET", "/v1/tokens")
        # The server serves the next caller.
        self.assertEqual(Client().ok("GET", "/livez"), {"live": True})


if __name__ == "__main__":
    unittest.main(verbosity=2)
