// Group 6 body: Debian's miekg/pkcs11 and ThalesIgnite/crypto11 drive FerroHSM; Go's
// own crypto verifies. Built offline in GOPATH mode from /usr/share/gocode.
// usage: interop-go <module.so> <token label>   (user PIN in $USER_PIN)
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"

	"github.com/ThalesIgnite/crypto11"
	"github.com/miekg/pkcs11"
)

var passed, failed int

func check(label string, fn func() error) {
	if err := fn(); err != nil {
		failed++
		fmt.Printf("FAIL: %s\n  | %v\n", label, err)
		return
	}
	passed++
	fmt.Printf("PASS: %s\n", label)
}

func main() {
	module, label := os.Args[1], os.Args[2]
	pin := os.Getenv("USER_PIN")
	msg := []byte("signed by FerroHSM through crypto11\n")
	digest := sha256.Sum256(msg)

	check("miekg/pkcs11: C_GetInfo, the token is found by label with its flags", func() error {
		p := pkcs11.New(module)
		if p == nil {
			return fmt.Errorf("cannot load %s", module)
		}
		defer p.Destroy()
		if err := p.Initialize(); err != nil {
			return fmt.Errorf("C_Initialize: %w", err)
		}
		defer p.Finalize()
		info, err := p.GetInfo()
		if err != nil {
			return err
		}
		if !strings.Contains(info.ManufacturerID, "FerroHSM") {
			return fmt.Errorf("manufacturer %q", info.ManufacturerID)
		}
		slots, err := p.GetSlotList(true)
		if err != nil {
			return err
		}
		for _, s := range slots {
			ti, err := p.GetTokenInfo(s)
			if err != nil {
				return err
			}
			if ti.Label == label {
				if ti.Flags&pkcs11.CKF_USER_PIN_INITIALIZED == 0 || ti.Flags&pkcs11.CKF_LOGIN_REQUIRED == 0 {
					return fmt.Errorf("token flags 0x%x", ti.Flags)
				}
				return nil
			}
		}
		return fmt.Errorf("no token %q among %d slots", label, len(slots))
	})

	ctx, err := crypto11.Configure(&crypto11.Config{Path: module, TokenLabel: label, Pin: pin})
	check("crypto11.Configure logs in to the token", func() error { return err })
	if err != nil {
		finish()
	}
	defer ctx.Close()

	var ec crypto11.Signer
	check("crypto11 generates a P-256 key pair", func() error {
		var e error
		ec, e = ctx.GenerateECDSAKeyPairWithLabel([]byte{0x61}, []byte("go-ec"), elliptic.P256())
		return e
	})
	check("ECDSA P-256 signature verifies with Go's crypto/ecdsa; a changed digest does not", func() error {
		if ec == nil {
			return fmt.Errorf("no key")
		}
		sig, err := ec.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return err
		}
		pub, ok := ec.Public().(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			return fmt.Errorf("public key %T", ec.Public())
		}
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			return fmt.Errorf("signature does not verify")
		}
		other := sha256.Sum256([]byte("other"))
		if ecdsa.VerifyASN1(pub, other[:], sig) {
			return fmt.Errorf("signature verifies over another digest")
		}
		return nil
	})
	check("the key pair is found again by id and label", func() error {
		k, err := ctx.FindKeyPair([]byte{0x61}, []byte("go-ec"))
		if err != nil || k == nil {
			return fmt.Errorf("FindKeyPair: %v (%v)", k, err)
		}
		a := k.Public().(*ecdsa.PublicKey)
		b := ec.Public().(*ecdsa.PublicKey)
		if a.X.Cmp(b.X) != 0 || a.Y.Cmp(b.Y) != 0 {
			return fmt.Errorf("a different public key came back")
		}
		return nil
	})

	var rk crypto11.SignerDecrypter
	check("crypto11 generates an RSA-2048 key pair", func() error {
		var e error
		rk, e = ctx.GenerateRSAKeyPairWithLabel([]byte{0x62}, []byte("go-rsa"), 2048)
		return e
	})
	check("RSA PKCS#1 v1.5 and PSS signatures verify with Go's crypto/rsa", func() error {
		if rk == nil {
			return fmt.Errorf("no key")
		}
		pub := rk.Public().(*rsa.PublicKey)
		sig, err := rk.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return fmt.Errorf("PKCS#1 sign: %w", err)
		}
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			return fmt.Errorf("PKCS#1 verify: %w", err)
		}
		opts := &rsa.PSSOptions{SaltLength: 32, Hash: crypto.SHA256}
		pss, err := rk.Sign(rand.Reader, digest[:], opts)
		if err != nil {
			return fmt.Errorf("PSS sign: %w", err)
		}
		return rsa.VerifyPSS(pub, crypto.SHA256, digest[:], pss, opts)
	})
	check("RSA-OAEP: Go encrypts to the public key, the token decrypts", func() error {
		if rk == nil {
			return fmt.Errorf("no key")
		}
		secret := []byte("thirty-two bytes of secret data!")
		ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, rk.Public().(*rsa.PublicKey), secret, nil)
		if err != nil {
			return err
		}
		pt, err := rk.Decrypt(rand.Reader, ct, &rsa.OAEPOptions{Hash: crypto.SHA256})
		if err != nil {
			return err
		}
		if string(pt) != string(secret) {
			return fmt.Errorf("decrypted %x", pt)
		}
		return nil
	})
	check("crypto11 deletes both key pairs", func() error {
		for _, k := range []interface{ Delete() error }{ec.(interface{ Delete() error }), rk.(interface{ Delete() error })} {
			if err := k.Delete(); err != nil {
				return err
			}
		}
		k, err := ctx.FindKeyPair([]byte{0x61}, nil)
		if err != nil || k != nil {
			return fmt.Errorf("still found: %v (%v)", k, err)
		}
		return nil
	})
	finish()
}

func finish() {
	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
	os.Exit(0)
}
