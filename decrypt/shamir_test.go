package decrypt

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"math/bits"
	"testing"

	"github.com/getsops/sops/v3/shamir"
)

// TestCombineShares recovers secrets split by sops' Shamir implementation
// from every subset of shares: at least threshold shares give the secret,
// fewer give something else.
func TestCombineShares(t *testing.T) {
	for parts := 2; parts <= 5; parts++ {
		for threshold := 2; threshold <= parts; threshold++ {
			t.Run(fmt.Sprintf("%d of %d", threshold, parts), func(t *testing.T) {
				secret := make([]byte, 32)
				if _, err := rand.Read(secret); err != nil {
					t.Fatal(err)
				}
				shares, err := shamir.Split(secret, parts, threshold)
				if err != nil {
					t.Fatal(err)
				}
				for set := 1; set < 1<<parts; set++ {
					var subset [][]byte
					for i := range parts {
						if set&(1<<i) != 0 {
							subset = append(subset, shares[i])
						}
					}
					got, err := combineShares(subset)
					enough := bits.OnesCount(uint(set)) >= threshold
					switch {
					case len(subset) < 2 && err == nil:
						t.Errorf("subset %b: one share combined", set)
					case enough && (err != nil || !bytes.Equal(got, secret)):
						t.Errorf("subset %b: %x, %v", set, got, err)
					case !enough && bytes.Equal(got, secret):
						t.Errorf("subset %b: below the threshold, the secret came out", set)
					}
				}
			})
		}
	}
	for name, shares := range map[string][][]byte{
		"duplicate":   {{1, 2, 1}, {3, 4, 1}},
		"lengths":     {{1, 2, 1}, {3, 2}},
		"too short":   {{1}, {2}},
		"one share":   {{1, 2, 3}},
		"zero shares": nil,
	} {
		if _, err := combineShares(shares); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestGF256 checks the field arithmetic: every nonzero element's inverse.
func TestGF256(t *testing.T) {
	for a := 1; a < 256; a++ {
		if p := gfMul(byte(a), gfInv(byte(a))); p != 1 {
			t.Fatalf("%d * inv(%d) = %d", a, a, p)
		}
	}
	if gfMul(0x57, 0x83) != 0xc1 { // FIPS-197 section 4.2
		t.Fatal("0x57 * 0x83 != 0xc1")
	}
}
