package conn

import "github.com/lesismal/llib/std/crypto/tls"

// TLS records are at most maxTLSRecord plaintext bytes (dynamic record
// sizing is off, see TLSConfig); each costs the record header, the AEAD
// tag and, in TLS 1.2 GCM, an explicit nonce.
const maxTLSRecord = 16384

// TLSConfig returns the public listener's TLS configuration for certs: TLS
// 1.2 and up, AEAD suites only and full-size records, so that the backlog
// can count the bytes of each record from its plaintext (tlsRecordOverhead).
func TLSConfig(certs []tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates:                certs,
		MinVersion:                  tls.VersionTLS12,
		CipherSuites:                tlsSuites,
		DynamicRecordSizingDisabled: true,
	}
}

// tlsSuites are the TLS 1.2 cipher suites offered: AEAD only.
var tlsSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// tlsRecordOverhead returns the bytes a TLS record adds to its plaintext for
// the negotiated version and cipher suite; 0 for anything TLSConfig does not
// offer.
func tlsRecordOverhead(st tls.ConnectionState) int32 {
	switch {
	case st.Version == tls.VersionTLS13:
		return 5 + 1 + 16 // header, inner content type, tag
	case st.Version != tls.VersionTLS12:
		return 0
	}
	switch st.CipherSuite {
	case tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return 5 + 8 + 16 // header, explicit nonce, tag
	case tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return 5 + 16
	}
	return 0
}
