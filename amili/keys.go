package amili

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// parsePrivateKey reads the first private key in a PEM file, skipping other blocks such as the
// "EC PARAMETERS" that openssl ecparam -genkey writes first.
func parsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	rest := pemBytes
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PEM private key found")
		}
		var (
			k   any
			err error
		)
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted private keys are not supported; store it unencrypted with restricted permissions")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", strings.ToLower(b.Type), err)
		}
		switch k := k.(type) {
		case *ecdsa.PrivateKey:
			return k, nil
		case *rsa.PrivateKey:
			return k, nil
		default:
			return nil, fmt.Errorf("unsupported key type %T (want ECDSA or RSA)", k)
		}
	}
}

// signingMethod picks or checks the JWT algorithm for key.
func signingMethod(alg string, key crypto.Signer) (jwt.SigningMethod, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		want := map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[k.Curve.Params().Name]
		if want == "" {
			return nil, fmt.Errorf("unsupported curve %s", k.Curve.Params().Name)
		}
		if alg == "" {
			alg = want
		}
		if alg != want {
			return nil, fmt.Errorf("algorithm %s needs a %s key, got %s", alg, curveFor(alg), k.Curve.Params().Name)
		}
	case *rsa.PrivateKey:
		if alg == "" {
			alg = "RS256"
		}
		if !slices.Contains([]string{"RS256", "RS384", "RS512"}, alg) {
			return nil, fmt.Errorf("algorithm %s does not fit an RSA key (want RS256, RS384 or RS512)", alg)
		}
	}
	m := jwt.GetSigningMethod(alg)
	if m == nil {
		return nil, fmt.Errorf("unknown algorithm %s", alg)
	}
	return m, nil
}

func curveFor(alg string) string {
	switch alg {
	case "ES256":
		return elliptic.P256().Params().Name
	case "ES384":
		return elliptic.P384().Params().Name
	case "ES512":
		return elliptic.P521().Params().Name
	}
	return "RSA"
}
