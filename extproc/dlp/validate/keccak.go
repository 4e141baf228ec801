package validate

import (
	"encoding/binary"
	"math/bits"
)

// Keccak-f[1600] round constants (FIPS 202, section 3.2.5).
var keccakRC = [24]uint64{
	0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
	0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
	0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
	0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
	0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
	0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
}

// keccakRot and keccakPi drive the combined ρ and π steps: lane keccakPi[i]
// receives the previous lane rotated left by keccakRot[i].
var keccakRot = [24]uint8{1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44}
var keccakPi = [24]uint8{10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1}

// keccakF1600 applies the 24-round Keccak-f[1600] permutation to st.
func keccakF1600(st *[25]uint64) {
	var bc [5]uint64
	for round := 0; round < 24; round++ {
		// θ
		for i := 0; i < 5; i++ {
			bc[i] = st[i] ^ st[i+5] ^ st[i+10] ^ st[i+15] ^ st[i+20]
		}
		for i := 0; i < 5; i++ {
			t := bc[(i+4)%5] ^ bits.RotateLeft64(bc[(i+1)%5], 1)
			for j := 0; j < 25; j += 5 {
				st[j+i] ^= t
			}
		}
		// ρ and π
		t := st[1]
		for i := 0; i < 24; i++ {
			j := keccakPi[i]
			next := st[j]
			st[j] = bits.RotateLeft64(t, int(keccakRot[i]))
			t = next
		}
		// χ
		for j := 0; j < 25; j += 5 {
			for i := 0; i < 5; i++ {
				bc[i] = st[j+i]
			}
			for i := 0; i < 5; i++ {
				st[j+i] ^= ^bc[(i+1)%5] & bc[(i+2)%5]
			}
		}
		// ι
		st[0] ^= keccakRC[round]
	}
}

// keccak256Rate is the sponge rate in bytes for a 256-bit output.
const keccak256Rate = 136

// keccak256 computes the original Keccak-256 digest (pad10*1 with domain byte
// 0x01, as used by Ethereum; not FIPS 202 SHA3-256, which uses 0x06).
func keccak256(msg []byte) [32]byte { return keccakSum256(msg, 0x01) }

// keccakSum256 runs the 1088-bit-rate sponge with the given domain-separation
// byte: 0x01 for Keccak-256, 0x06 for SHA3-256.
func keccakSum256(msg []byte, domain byte) [32]byte {
	var st [25]uint64
	for len(msg) >= keccak256Rate {
		keccakAbsorb(&st, msg[:keccak256Rate])
		keccakF1600(&st)
		msg = msg[keccak256Rate:]
	}
	var last [keccak256Rate]byte
	copy(last[:], msg)
	last[len(msg)] ^= domain
	last[keccak256Rate-1] ^= 0x80
	keccakAbsorb(&st, last[:])
	keccakF1600(&st)
	var out [32]byte
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(out[8*i:], st[i])
	}
	return out
}

func keccakAbsorb(st *[25]uint64, block []byte) {
	for i := 0; i < keccak256Rate/8; i++ {
		st[i] ^= binary.LittleEndian.Uint64(block[8*i:])
	}
}
