package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// minRSABits is the smallest RSA modulus accepted for RS256.
const minRSABits = 2048

// maxKeyFileBytes bounds a public_key_files entry; a PEM public key or
// certificate is a few KiB.
const maxKeyFileBytes = 1 << 20

// keySet holds the verification keys by type.
type keySet struct {
	rsa []*rsa.PublicKey
	ec  []*ecdsa.PublicKey
	ed  []ed25519.PublicKey
}

// loadKeyFile adds every key of the PEM file at path to ks.
func (ks *keySet) loadKeyFile(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot read key file: %w", err)
	}
	if st.Size() > maxKeyFileBytes {
		return fmt.Errorf("%s is %d bytes; a PEM key file is at most %d", path, st.Size(), maxKeyFileBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read key file: %w", err)
	}
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		n++
		if err := ks.addBlock(blk); err != nil {
			return fmt.Errorf("%s: PEM block %d (%s): %w", path, n, blk.Type, err)
		}
	}
	if n == 0 {
		return fmt.Errorf("%s holds no PEM block", path)
	}
	return nil
}

// addBlock parses one PEM block into ks.
func (ks *keySet) addBlock(blk *pem.Block) error {
	var pub any
	switch blk.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return fmt.Errorf("cannot parse public key: %w", err)
		}
		pub = k
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(blk.Bytes)
		if err != nil {
			return fmt.Errorf("cannot parse RSA public key: %w", err)
		}
		pub = k
	case "CERTIFICATE":
		// Only the key is used: the certificate's validity and chain are
		// not checked, as a JWKS would not be either.
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return fmt.Errorf("cannot parse certificate: %w", err)
		}
		pub = c.PublicKey
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return fmt.Errorf("a private key: give the server the public key only")
	default:
		return fmt.Errorf("unsupported PEM block type; want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE")
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < minRSABits {
			return fmt.Errorf("RSA key of %d bits; want at least %d", bits, minRSABits)
		}
		ks.rsa = append(ks.rsa, k)
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("ECDSA key on %s; only P-256 (ES256) is supported", k.Curve.Params().Name)
		}
		ks.ec = append(ks.ec, k)
	case ed25519.PublicKey:
		ks.ed = append(ks.ed, k)
	default:
		return fmt.Errorf("unsupported key type %T; want RSA, ECDSA P-256 or Ed25519", pub)
	}
	return nil
}
