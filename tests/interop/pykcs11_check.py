#!/usr/bin/python3
"""Group 5 body: PyKCS11 (python3-pykcs11) drives FerroHSM; openssl checks the results.

usage: pykcs11_check.py <module.so> <token label> <work dir>
The user PIN comes from $USER_PIN. Prints one PASS/FAIL line per check; exit 1 on any FAIL.
"""
import hashlib
import os
import subprocess
import sys
import traceback

import PyKCS11
from PyKCS11 import LowLevel as LL

module, token_label, work = sys.argv[1], sys.argv[2], sys.argv[3]
results = []


def check(label):
    def wrap(fn):
        try:
            fn()
            results.append(True)
            print(f"PASS: {label}", flush=True)
        except Exception:  # noqa: BLE001 - every failure is reported, none is fatal
            results.append(False)
            print(f"FAIL: {label}", flush=True)
            for line in traceback.format_exc().splitlines()[-6:]:
                print(f"  | {line}", flush=True)
        return fn
    return wrap


def openssl(*args, data=None):
    r = subprocess.run(["openssl", *args], input=data, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {r.stderr.decode(errors='replace')}")
    return r.stdout


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return der(0x02, b)


def write(name, data):
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


pkcs11 = PyKCS11.PyKCS11Lib()
pkcs11.load(module)
state = {}


@check("PyKCS11 loads the module; C_GetInfo names FerroHSM; the token is found by label")
def _():
    info = pkcs11.getInfo()
    assert "FerroHSM" in info.manufacturerID, info.manufacturerID
    slots = [s for s in pkcs11.getSlotList(tokenPresent=True)
             if pkcs11.getTokenInfo(s).label.strip() == token_label]
    assert len(slots) == 1, f"token {token_label} found in {len(slots)} slots"
    state["slot"] = slots[0]


@check("open a R/W session and log in as user")
def _():
    s = pkcs11.openSession(state["slot"], PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
    s.login(os.environ["USER_PIN"])
    state["s"] = s


@check("a wrong PIN is refused with CKR_PIN_INCORRECT")
def _():
    s2 = pkcs11.openSession(state["slot"], PyKCS11.CKF_SERIAL_SESSION)
    state["s"].logout()
    try:
        s2.login("wrong-" + os.environ["USER_PIN"])
        raise AssertionError("login with a wrong PIN succeeded")
    except PyKCS11.PyKCS11Error as e:
        assert e.value == PyKCS11.CKR_PIN_INCORRECT, e
    finally:
        s2.closeSession()
    state["s"].login(os.environ["USER_PIN"])


@check("generate a P-256 key pair (CKM_EC_KEY_PAIR_GEN)")
def _():
    p256 = bytes.fromhex("06082a8648ce3d030107")
    pub_t = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY), (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_EC),
             (PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_VERIFY, True), (PyKCS11.CKA_EC_PARAMS, p256),
             (PyKCS11.CKA_LABEL, "py-ec"), (PyKCS11.CKA_ID, (0x51,))]
    prv_t = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_EC),
             (PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_SIGN, True), (PyKCS11.CKA_PRIVATE, True),
             (PyKCS11.CKA_SENSITIVE, True), (PyKCS11.CKA_LABEL, "py-ec"), (PyKCS11.CKA_ID, (0x51,))]
    state["ec_pub"], state["ec_prv"] = state["s"].generateKeyPair(
        pub_t, prv_t, mecha=PyKCS11.Mechanism(PyKCS11.CKM_EC_KEY_PAIR_GEN, None))
    point = bytes(state["s"].getAttributeValue(state["ec_pub"], [PyKCS11.CKA_EC_POINT])[0])
    assert point[:2] == b"\x04\x41" and point[2] == 4 and len(point) == 67, point.hex()
    spki = der(0x30, der(0x30, bytes.fromhex("06072a8648ce3d0201") + p256) + der(0x03, b"\0" + point[2:]))
    state["ec_pem"] = openssl("pkey", "-pubin", "-inform", "DER", data=spki)
    write("py-ec.pub.pem", state["ec_pem"])


@check("the private key is sensitive: CKA_VALUE is not readable")
def _():
    try:
        v = state["s"].getAttributeValue(state["ec_prv"], [PyKCS11.CKA_VALUE])
        assert v[0] is None, "CKA_VALUE of a sensitive key was returned"
    except PyKCS11.PyKCS11Error as e:
        assert e.value == PyKCS11.CKR_ATTRIBUTE_SENSITIVE, e


data = b"signed by FerroHSM through PyKCS11\n" * 10


@check("ECDSA-SHA256 sign; the token and openssl both verify, a changed message fails")
def _():
    sig = bytes(state["s"].sign(state["ec_prv"], data, PyKCS11.Mechanism(PyKCS11.CKM_ECDSA_SHA256, None)))
    assert len(sig) == 64
    assert state["s"].verify(state["ec_pub"], data, sig, PyKCS11.Mechanism(PyKCS11.CKM_ECDSA_SHA256, None))
    r, s = sig[:32], sig[32:]
    sig_der = write("py-ec.sig", der(0x30, der_int(r) + der_int(s)))
    msg = write("py-data", data)
    out = openssl("dgst", "-sha256", "-verify", os.path.join(work, "py-ec.pub.pem"), "-signature", sig_der, msg)
    assert b"Verified OK" in out
    bad = write("py-data-bad", data + b"x")
    try:
        openssl("dgst", "-sha256", "-verify", os.path.join(work, "py-ec.pub.pem"), "-signature", sig_der, bad)
        raise AssertionError("openssl verified a signature over other data")
    except RuntimeError:
        pass


@check("generate RSA-2048; SHA256-RSA-PKCS sign verified by openssl")
def _():
    pub_t = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY), (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_RSA),
             (PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_VERIFY, True), (PyKCS11.CKA_ENCRYPT, True),
             (PyKCS11.CKA_MODULUS_BITS, 2048), (PyKCS11.CKA_PUBLIC_EXPONENT, (1, 0, 1)),
             (PyKCS11.CKA_LABEL, "py-rsa"), (PyKCS11.CKA_ID, (0x52,))]
    prv_t = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PRIVATE_KEY), (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_RSA),
             (PyKCS11.CKA_TOKEN, True), (PyKCS11.CKA_SIGN, True), (PyKCS11.CKA_DECRYPT, True),
             (PyKCS11.CKA_PRIVATE, True), (PyKCS11.CKA_SENSITIVE, True),
             (PyKCS11.CKA_LABEL, "py-rsa"), (PyKCS11.CKA_ID, (0x52,))]
    state["rsa_pub"], state["rsa_prv"] = state["s"].generateKeyPair(pub_t, prv_t)
    n, e = state["s"].getAttributeValue(state["rsa_pub"], [PyKCS11.CKA_MODULUS, PyKCS11.CKA_PUBLIC_EXPONENT])
    rsa_pub = der(0x30, der_int(bytes(n)) + der_int(bytes(e)))
    pem = openssl("pkey", "-pubin", "-inform", "DER", "-in", write("py-rsa.pub.der", rsa_pub))  # PKCS#1 form
    state["rsa_pem"] = write("py-rsa.pub.pem", pem)
    assert len(bytes(n)) == 256
    sig = bytes(state["s"].sign(state["rsa_prv"], data, PyKCS11.Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS, None)))
    out = openssl("dgst", "-sha256", "-verify", state["rsa_pem"], "-signature", write("py-rsa.sig", sig),
                  write("py-data", data))
    assert b"Verified OK" in out


@check("RSA-OAEP: openssl encrypts to the token's public key, the token decrypts")
def _():
    secret = os.urandom(32)
    ct = openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", state["rsa_pem"], "-pkeyopt", "rsa_padding_mode:oaep",
                 "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256", data=secret)
    mech = PyKCS11.RSAOAEPMechanism(PyKCS11.CKM_SHA256, PyKCS11.CKG_MGF1_SHA256)
    pt = bytes(state["s"].decrypt(state["rsa_prv"], ct, mech))
    assert pt == secret


@check("RSA-OAEP: the token encrypts, the token decrypts, the ciphertext differs each time")
def _():
    secret = os.urandom(24)
    mech = PyKCS11.RSAOAEPMechanism(PyKCS11.CKM_SHA256, PyKCS11.CKG_MGF1_SHA256)
    c1 = bytes(state["s"].encrypt(state["rsa_pub"], secret, mech))
    c2 = bytes(state["s"].encrypt(state["rsa_pub"], secret, mech))
    assert c1 != c2 and len(c1) == 256
    assert bytes(state["s"].decrypt(state["rsa_prv"], c1, mech)) == secret


@check("AES-256 key created from a known value; CBC-PAD encrypt matches openssl enc, both ways")
def _():
    key, iv = os.urandom(32), os.urandom(16)
    t = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY), (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_AES),
         (PyKCS11.CKA_TOKEN, False), (PyKCS11.CKA_ENCRYPT, True), (PyKCS11.CKA_DECRYPT, True),
         (PyKCS11.CKA_VALUE, key), (PyKCS11.CKA_LABEL, "py-aes")]
    h = state["s"].createObject(t)
    plain = os.urandom(100)
    mech = PyKCS11.Mechanism(PyKCS11.CKM_AES_CBC_PAD, iv)
    ct = bytes(state["s"].encrypt(h, plain, mech))
    ref = openssl("enc", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex(), data=plain)
    assert ct == ref, "token and openssl ciphertexts differ"
    assert openssl("enc", "-d", "-aes-256-cbc", "-K", key.hex(), "-iv", iv.hex(), data=ct) == plain
    assert bytes(state["s"].decrypt(h, ref, mech)) == plain
    state["s"].destroyObject(h)


@check("AES-128 generated on the token: GCM encrypt/decrypt round trip, tampering detected")
def _():
    t = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY), (PyKCS11.CKA_TOKEN, False),
         (PyKCS11.CKA_ENCRYPT, True), (PyKCS11.CKA_DECRYPT, True), (PyKCS11.CKA_VALUE_LEN, 16)]
    h = state["s"].generateKey(t, PyKCS11.Mechanism(PyKCS11.CKM_AES_KEY_GEN, None))
    iv = os.urandom(12)
    mech = PyKCS11.AES_GCM_Mechanism(iv, b"aad", 128)
    plain = os.urandom(64)
    ct = bytes(state["s"].encrypt(h, plain, mech))
    assert len(ct) == 64 + 16
    assert bytes(state["s"].decrypt(h, ct, PyKCS11.AES_GCM_Mechanism(iv, b"aad", 128))) == plain
    bad = bytearray(ct)
    bad[0] ^= 1
    try:
        state["s"].decrypt(h, bytes(bad), PyKCS11.AES_GCM_Mechanism(iv, b"aad", 128))
        raise AssertionError("a tampered GCM ciphertext decrypted")
    except PyKCS11.PyKCS11Error as e:
        assert e.value in (PyKCS11.CKR_ENCRYPTED_DATA_INVALID, PyKCS11.CKR_ENCRYPTED_DATA_LEN_RANGE), e


@check("SHA-256 digest equals hashlib's")
def _():
    assert bytes(state["s"].digest(data, PyKCS11.Mechanism(PyKCS11.CKM_SHA256, None))) == hashlib.sha256(data).digest()


@check("findObjects by label finds both halves; destroy removes them")
def _():
    s = state["s"]
    found = s.findObjects([(PyKCS11.CKA_LABEL, "py-ec")])
    assert len(found) == 2, len(found)
    for o in found:
        s.destroyObject(o)
    assert len(s.findObjects([(PyKCS11.CKA_LABEL, "py-ec")])) == 0


@check("logout and close the session")
def _():
    state["s"].logout()
    state["s"].closeSession()

print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
sys.exit(0 if all(results) else 1)
