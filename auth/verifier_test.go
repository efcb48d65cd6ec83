package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testSecret = "0123456789abcdef0123456789abcdef" // 32 bytes

// testKeys are generated once per test binary: RSA generation is slow
// under -race.
type testKeys struct {
	rsa, rsa2 *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
	ed        ed25519.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if keys.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keys.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keys.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, keys.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
	return &keys
}

// pemPublic returns the PKIX PEM encoding of pub.
func pemPublic(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("MarshalPKIXPublicKey: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// writeFile writes b to a new file in t's temp dir and returns its path.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sign returns a token of method over claims signed with key.
func sign(t *testing.T, m jwt.SigningMethod, claims jwt.Claims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatalf("SignedString(%s): %v", m.Alg(), err)
	}
	return s
}

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// claimsAt returns claims for sub that expire exp after testNow.
func claimsAt(sub string, exp time.Duration) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Subject:   sub,
		ExpiresAt: jwt.NewNumericDate(testNow.Add(exp)),
		IssuedAt:  jwt.NewNumericDate(testNow.Add(-time.Minute)),
	}
}

// verifier builds a Verifier for c whose clock reads testNow.
func verifier(t *testing.T, c Config) *Verifier {
	t.Helper()
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	v, err := newVerifier(c, func() time.Time { return testNow })
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// allKeysConfig is a Config with the secret and every test public key.
func allKeysConfig(t *testing.T) Config {
	t.Helper()
	k := getKeys(t)
	pems := append(pemPublic(t, &k.rsa.PublicKey), pemPublic(t, &k.ec.PublicKey)...)
	return Config{
		HS256Secret: testSecret,
		PublicKeyFiles: []string{
			writeFile(t, "keys.pem", pems),
			writeFile(t, "ed.pem", pemPublic(t, k.ed.Public())),
		},
	}
}

func TestVerifyAlgorithms(t *testing.T) {
	k := getKeys(t)
	v := verifier(t, allKeysConfig(t))
	f := func(m jwt.SigningMethod, key any) {
		t.Helper()
		tok := sign(t, m, claimsAt("42", time.Hour), key)
		id, err := v.Verify(tok)
		if err != nil {
			t.Fatalf("Verify(%s): %v", m.Alg(), err)
		}
		if id.Subject != "42" || id.Anonymous || !id.Expires.Equal(testNow.Add(time.Hour)) {
			t.Fatalf("Verify(%s) = %+v", m.Alg(), id)
		}
	}
	f(jwt.SigningMethodHS256, []byte(testSecret))
	f(jwt.SigningMethodRS256, k.rsa)
	f(jwt.SigningMethodES256, k.ec)
	f(jwt.SigningMethodEdDSA, k.ed)
}

func TestVerifyRejects(t *testing.T) {
	k := getKeys(t)
	rsaPEM := pemPublic(t, &k.rsa.PublicKey)
	rsaOnly := verifier(t, Config{PublicKeyFiles: []string{writeFile(t, "rsa.pem", rsaPEM)}})
	all := verifier(t, allKeysConfig(t))
	f := func(v *Verifier, tok string, want error) {
		t.Helper()
		id, err := v.Verify(tok)
		if !errors.Is(err, want) {
			t.Fatalf("Verify(%.40q...) = %+v, %v; want %v", tok, id, err, want)
		}
		if id != (Identity{}) {
			t.Fatalf("Verify returned identity %+v with error %v", id, err)
		}
	}
	good := claimsAt("42", time.Hour)

	f(all, sign(t, jwt.SigningMethodHS256, claimsAt("42", -time.Hour), []byte(testSecret)), ErrExpired)
	f(all, sign(t, jwt.SigningMethodRS256, claimsAt("42", -time.Minute), k.rsa), ErrExpired)

	// Wrong signature: another key of the same type, another secret.
	f(all, sign(t, jwt.SigningMethodRS256, good, k.rsa2), ErrInvalidToken)
	f(all, sign(t, jwt.SigningMethodHS256, good, []byte(strings.Repeat("x", 32))), ErrInvalidToken)
	// A tampered payload.
	tok := sign(t, jwt.SigningMethodHS256, good, []byte(testSecret))
	parts := strings.Split(tok, ".")
	parts[1] = sign(t, jwt.SigningMethodHS256, claimsAt("43", time.Hour), []byte(testSecret))[len(parts[0])+1:]
	parts[1] = parts[1][:strings.IndexByte(parts[1], '.')]
	f(all, strings.Join(parts, "."), ErrInvalidToken)

	// alg none, with and without a signature.
	none := sign(t, jwt.SigningMethodNone, good, jwt.UnsafeAllowNoneSignatureType)
	f(all, none, ErrInvalidToken)
	f(rsaOnly, none, ErrInvalidToken)
	f(all, none+"c2ln", ErrInvalidToken)

	// Alg confusion: HS256 signed with the RSA public key's bytes as the
	// secret must not verify against the RSA key, with or without a
	// configured secret.
	f(rsaOnly, sign(t, jwt.SigningMethodHS256, good, rsaPEM), ErrInvalidToken)
	f(all, sign(t, jwt.SigningMethodHS256, good, rsaPEM), ErrInvalidToken)
	der, _ := x509.MarshalPKIXPublicKey(&k.rsa.PublicKey)
	f(rsaOnly, sign(t, jwt.SigningMethodHS256, good, der), ErrInvalidToken)
	// An algorithm whose key type is not configured.
	f(rsaOnly, sign(t, jwt.SigningMethodES256, good, k.ec), ErrInvalidToken)
	f(rsaOnly, sign(t, jwt.SigningMethodEdDSA, good, k.ed), ErrInvalidToken)
	// RS384 and PS256 use the RSA key but are not allowed.
	f(rsaOnly, sign(t, jwt.SigningMethodRS384, good, k.rsa), ErrInvalidToken)
	f(rsaOnly, sign(t, jwt.SigningMethodPS256, good, k.rsa), ErrInvalidToken)

	// Missing exp, missing sub, nbf and iat in the future.
	f(all, sign(t, jwt.SigningMethodHS256, jwt.RegisteredClaims{Subject: "42"}, []byte(testSecret)), ErrInvalidToken)
	f(all, sign(t, jwt.SigningMethodHS256, claimsAt("", time.Hour), []byte(testSecret)), ErrInvalidToken)
	c := good
	c.NotBefore = jwt.NewNumericDate(testNow.Add(time.Minute))
	f(all, sign(t, jwt.SigningMethodHS256, c, []byte(testSecret)), ErrInvalidToken)
	c = good
	c.IssuedAt = jwt.NewNumericDate(testNow.Add(time.Minute))
	f(all, sign(t, jwt.SigningMethodHS256, c, []byte(testSecret)), ErrInvalidToken)

	// Garbage and oversize input.
	f(all, "", ErrInvalidToken)
	f(all, "a.b.c", ErrInvalidToken)
	f(all, "not a token", ErrInvalidToken)
	f(all, strings.Repeat("a", MaxTokenLen+1), ErrInvalidToken)

	// A disabled verifier accepts no token.
	f(verifier(t, Config{}), sign(t, jwt.SigningMethodHS256, good, []byte(testSecret)), ErrInvalidToken)
}

func TestVerifyAudienceIssuer(t *testing.T) {
	v := verifier(t, Config{HS256Secret: testSecret, Audience: "wsfan", Issuer: "https://id.example.com"})
	f := func(aud []string, iss string, want error) {
		t.Helper()
		c := claimsAt("42", time.Hour)
		c.Audience, c.Issuer = aud, iss
		_, err := v.Verify(sign(t, jwt.SigningMethodHS256, c, []byte(testSecret)))
		if !errors.Is(err, want) || (want == nil && err != nil) {
			t.Fatalf("aud %q iss %q: err %v; want %v", aud, iss, err, want)
		}
	}
	f([]string{"wsfan"}, "https://id.example.com", nil)
	f([]string{"other", "wsfan"}, "https://id.example.com", nil)
	f([]string{"other"}, "https://id.example.com", ErrInvalidToken)
	f(nil, "https://id.example.com", ErrInvalidToken)
	f([]string{"wsfan"}, "https://evil.example.com", ErrInvalidToken)
	f([]string{"wsfan"}, "", ErrInvalidToken)
}

func TestVerifyLeeway(t *testing.T) {
	f := func(leeway time.Duration, exp, nbf time.Duration, want error) {
		t.Helper()
		v := verifier(t, Config{HS256Secret: testSecret, Leeway: leeway})
		c := claimsAt("42", exp)
		c.NotBefore = jwt.NewNumericDate(testNow.Add(nbf))
		_, err := v.Verify(sign(t, jwt.SigningMethodHS256, c, []byte(testSecret)))
		if !errors.Is(err, want) || (want == nil && err != nil) {
			t.Fatalf("leeway %v exp %v nbf %v: err %v; want %v", leeway, exp, nbf, err, want)
		}
	}
	// Default leeway 5s.
	f(0, -3*time.Second, 0, nil)
	f(0, -6*time.Second, 0, ErrExpired)
	f(0, time.Hour, 3*time.Second, nil)
	f(0, time.Hour, 6*time.Second, ErrInvalidToken)
	f(time.Minute, -50*time.Second, 50*time.Second, nil)
	f(time.Minute, -61*time.Second, 0, ErrExpired)
	f(time.Second, -3*time.Second, 0, ErrExpired)
}

func TestVerifyKeyRotation(t *testing.T) {
	k := getKeys(t)
	v := verifier(t, Config{PublicKeyFiles: []string{
		writeFile(t, "old.pem", pemPublic(t, &k.rsa.PublicKey)),
		writeFile(t, "new.pem", pemPublic(t, &k.rsa2.PublicKey)),
	}})
	for _, key := range []*rsa.PrivateKey{k.rsa, k.rsa2} {
		if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, claimsAt("42", time.Hour), key)); err != nil {
			t.Fatalf("Verify with a listed key: %v", err)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	k := getKeys(t)
	f := func(content []byte, wantErr string) {
		t.Helper()
		path := writeFile(t, "key.pem", content)
		_, err := NewVerifier(Config{PublicKeyFiles: []string{path}})
		if wantErr == "" {
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			return
		}
		if err == nil || !strings.Contains(err.Error(), "auth.public_key_files[0]") || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("NewVerifier = %v; want an error naming auth.public_key_files[0] and %q", err, wantErr)
		}
	}
	// PKCS#1 RSA public key and a certificate are accepted.
	f(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}), "")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"},
		NotBefore: testNow, NotAfter: testNow.Add(time.Hour)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.ec.PublicKey, k.ec)
	if err != nil {
		t.Fatal(err)
	}
	f(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), "")

	priv, _ := x509.MarshalPKCS8PrivateKey(k.ec)
	f(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}), "private key")
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	f(pemPublic(t, &small.PublicKey), "1024 bits")
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	f(pemPublic(t, &p384.PublicKey), "P-384")
	f([]byte("not pem"), "no PEM block")
	f(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")}), "cannot parse")

	_, err = NewVerifier(Config{PublicKeyFiles: []string{filepath.Join(t.TempDir(), "missing.pem")}})
	if err == nil || !strings.Contains(err.Error(), "auth.public_key_files[0]") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	tok := sign(t, jwt.SigningMethodHS256, claimsAt("42", time.Hour), []byte(testSecret))
	f := func(v *Verifier, target string, wantSub string, wantAnon bool, wantErr error) {
		t.Helper()
		id, err := v.Authenticate(httptest.NewRequest("GET", target, nil))
		if !errors.Is(err, wantErr) || (wantErr == nil && err != nil) {
			t.Fatalf("Authenticate(%s): err %v; want %v", target, err, wantErr)
		}
		if id.Subject != wantSub || id.Anonymous != wantAnon {
			t.Fatalf("Authenticate(%s) = %+v; want sub %q anonymous %v", target, id, wantSub, wantAnon)
		}
	}
	off := verifier(t, Config{})
	f(off, "/ws", "", true, nil)
	f(off, "/ws?token=garbage", "", true, nil) // auth off: tokens are ignored
	strict := verifier(t, Config{HS256Secret: testSecret})
	f(strict, "/ws", "", false, ErrMissingToken)
	f(strict, "/ws?token="+tok, "42", false, nil)
	f(strict, "/ws?token=garbage", "", false, ErrInvalidToken)
	anon := verifier(t, Config{HS256Secret: testSecret, AllowAnonymous: true})
	f(anon, "/ws", "", true, nil)
	f(anon, "/ws?token="+tok, "42", false, nil)
	f(anon, "/ws?token=garbage", "", false, ErrInvalidToken) // never downgraded
}

func TestTokenFromRequest(t *testing.T) {
	f := func(target, authz, want string) {
		t.Helper()
		r := httptest.NewRequest("GET", target, nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if got := TokenFromRequest(r); got != want {
			t.Fatalf("TokenFromRequest(%q, %q) = %q; want %q", target, authz, got, want)
		}
	}
	// No Authorization header: the query's first token, unescaped.
	query := func(target, want string) {
		t.Helper()
		f(target, "", want)
	}
	query("/ws", "")
	query("/ws?token=abc.def.ghi", "abc.def.ghi")
	query("/ws?x=1&token=abc&token=def", "abc")
	query("/ws?token=a%2Eb", "a.b")
	query("/ws?token=%zz", "")
	query("/ws?tokens=abc", "")
	query("/ws?token=", "")
	// A Bearer header with a token wins over the query; another scheme, or
	// none, leaves the query.
	f("/ws", "Bearer abc.def.ghi", "abc.def.ghi")
	f("/ws", "bearer  abc ", "abc")
	f("/ws?token=q", "Bearer h", "h")
	f("/ws?token=q", "Basic dXNlcjpwYXNz", "q")
	f("/ws?token=q", "Bearer ", "q")
	f("/ws", "Bearer", "")
}

func TestPublicMessage(t *testing.T) {
	f := func(err error, want string) {
		t.Helper()
		if got := PublicMessage(err); got != want {
			t.Fatalf("PublicMessage(%v) = %q; want %q", err, got, want)
		}
	}
	f(nil, "")
	f(ErrMissingToken, "missing token")
	f(errors.Join(ErrExpired, errors.New("detail")), "token expired")
	f(errors.Join(ErrInvalidToken, errors.New("secret detail")), "invalid token")
	f(errors.New("anything else"), "invalid token")
}

func BenchmarkVerify(b *testing.B) {
	k := getKeys(b)
	dir := b.TempDir()
	var pems []byte
	pems = append(pems, pemPublic(b, &k.rsa.PublicKey)...)
	pems = append(pems, pemPublic(b, &k.ec.PublicKey)...)
	pems = append(pems, pemPublic(b, k.ed.Public())...)
	path := filepath.Join(dir, "keys.pem")
	if err := os.WriteFile(path, pems, 0o600); err != nil {
		b.Fatal(err)
	}
	v, err := newVerifier(Config{HS256Secret: testSecret, PublicKeyFiles: []string{path}}, func() time.Time { return testNow })
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		m   jwt.SigningMethod
		key any
	}{
		{jwt.SigningMethodHS256, []byte(testSecret)},
		{jwt.SigningMethodRS256, k.rsa},
		{jwt.SigningMethodES256, k.ec},
		{jwt.SigningMethodEdDSA, k.ed},
	} {
		tok, err := jwt.NewWithClaims(c.m, claimsAt("42", time.Hour)).SignedString(c.key)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("alg="+c.m.Alg(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
