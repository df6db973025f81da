package decrypt

import "errors"

// SOPS splits the data key with Shamir's secret sharing when a document has
// several key groups: every group's master keys encrypt one share, and any
// shamir_threshold shares recover the key. A share is the secret's bytes,
// each the value of its own random polynomial over GF(2^8) at x, followed by
// x itself (x > 0). The secret is the polynomials' values at 0.

// combineShares recovers a secret from shares by Lagrange interpolation at
// x = 0. Extra shares are harmless: they lie on the same polynomials.
func combineShares(shares [][]byte) ([]byte, error) {
	if len(shares) < 2 {
		return nil, errors.New("fewer than two key group shares")
	}
	n := len(shares[0])
	if n < 2 {
		return nil, errors.New("a key group share is too short")
	}
	xs := make([]byte, len(shares))
	seen := map[byte]bool{}
	for i, s := range shares {
		if len(s) != n {
			return nil, errors.New("key group shares differ in length")
		}
		x := s[n-1]
		if seen[x] {
			return nil, errors.New("two key group shares are the same share")
		}
		seen[x] = true
		xs[i] = x
	}
	// The Lagrange basis at 0 depends on the xs only:
	// l_i(0) = prod_{j != i} x_j / (x_i - x_j), where - is + (xor) here.
	basis := make([]byte, len(xs))
	for i := range xs {
		b := byte(1)
		for j := range xs {
			if i != j {
				b = gfMul(b, gfMul(xs[j], gfInv(xs[i]^xs[j])))
			}
		}
		basis[i] = b
	}
	secret := make([]byte, n-1)
	for k := range secret {
		var v byte
		for i, s := range shares {
			v ^= gfMul(s[k], basis[i])
		}
		secret[k] = v
	}
	return secret, nil
}

// gfMul multiplies in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (AES' field),
// without branches on the operands.
func gfMul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= -(b & 1) & a
		a = (a << 1) ^ (-(a >> 7) & 0x1b)
		b >>= 1
	}
	return p
}

// gfInv is the multiplicative inverse: a^254, since a^255 = 1 (0 maps to 0).
func gfInv(a byte) byte {
	r := byte(1)
	for e := 254; e > 0; e >>= 1 {
		if e&1 == 1 {
			r = gfMul(r, a)
		}
		a = gfMul(a, a)
	}
	return r
}
