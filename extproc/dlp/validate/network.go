package validate

// IMEI reports whether s is a valid International Mobile Equipment Identity:
// 15 digits (8-digit TAC, 6-digit serial, Luhn check digit; 3GPP TS 23.003
// §6.2.1 and Annex B), optionally grouped by spaces, dashes or dots, not all
// zero. The 16-digit IMEISV has no check digit and is not accepted.
func IMEI[T Text](s T) bool {
	var d [15]byte
	n, ok := digits(s, d[:], defaultSeps)
	return ok && n == 15 && !allSame(d[:]) && luhnOK(d[:])
}

// ICCID reports whether s is a valid SIM Integrated Circuit Card Identifier
// (ITU-T E.118): 19 or 20 digits, starting with the telecom industry
// identifier 89, whose last digit is a Luhn check digit over all preceding
// digits. Spaces and dashes are allowed as separators.
func ICCID[T Text](s T) bool {
	var d [20]byte
	n, ok := digits(s, d[:], " -")
	return ok && (n == 19 || n == 20) && d[0] == 8 && d[1] == 9 && luhnOK(d[:n])
}

// ParseIPv4 parses a dotted-quad IPv4 address: exactly four decimal octets
// 0–255 separated by '.', without leading zeros (which some parsers read as
// octal) or surrounding text.
func ParseIPv4[T Text](s T) (ip [4]byte, ok bool) {
	part, v, nd := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if nd == 0 || part > 3 {
				return ip, false
			}
			ip[part] = byte(v)
			part++
			v, nd = 0, 0
			continue
		}
		c := s[i]
		if !isDigit(c) || (nd == 1 && v == 0) || nd == 3 {
			return ip, false
		}
		v = v*10 + int(c-'0')
		if v > 255 {
			return ip, false
		}
		nd++
	}
	return ip, part == 4
}

// IPv4Class classifies an IPv4 address by the IANA IPv4 Special-Purpose
// Address Registry (RFC 6890 and successors).
type IPv4Class uint8

// IPv4 classes, most specific first.
const (
	IPv4Public         IPv4Class = iota // globally routable unicast
	IPv4ThisNetwork                     // 0.0.0.0/8, RFC 791 / RFC 1122
	IPv4Private                         // 10/8, 172.16/12, 192.168/16, RFC 1918
	IPv4SharedCGNAT                     // 100.64/10, RFC 6598
	IPv4Loopback                        // 127/8, RFC 1122
	IPv4LinkLocal                       // 169.254/16, RFC 3927
	IPv4ProtocolAssign                  // 192.0.0/24, RFC 6890
	IPv4Documentation                   // 192.0.2/24, 198.51.100/24, 203.0.113/24, RFC 5737
	IPv4Benchmarking                    // 198.18/15, RFC 2544
	IPv4Multicast                       // 224/4, RFC 5771
	IPv4Reserved                        // 240/4, RFC 1112 (except broadcast)
	IPv4Broadcast                       // 255.255.255.255, RFC 919
)

// ClassifyIPv4 returns the special-purpose class of ip, or IPv4Public.
func ClassifyIPv4(ip [4]byte) IPv4Class {
	a, b, c := ip[0], ip[1], ip[2]
	switch {
	case a == 0:
		return IPv4ThisNetwork
	case a == 10, a == 172 && b&0xf0 == 16, a == 192 && b == 168:
		return IPv4Private
	case a == 100 && b&0xc0 == 64:
		return IPv4SharedCGNAT
	case a == 127:
		return IPv4Loopback
	case a == 169 && b == 254:
		return IPv4LinkLocal
	case a == 192 && b == 0 && c == 0:
		return IPv4ProtocolAssign
	case a == 192 && b == 0 && c == 2, a == 198 && b == 51 && c == 100, a == 203 && b == 0 && c == 113:
		return IPv4Documentation
	case a == 198 && b&0xfe == 18:
		return IPv4Benchmarking
	case a&0xf0 == 224:
		return IPv4Multicast
	case ip == [4]byte{255, 255, 255, 255}:
		return IPv4Broadcast
	case a&0xf0 == 240:
		return IPv4Reserved
	}
	return IPv4Public
}

// PublicIPv4 reports whether s parses as an IPv4 address (see [ParseIPv4])
// outside every special-purpose range of [ClassifyIPv4].
func PublicIPv4[T Text](s T) bool {
	ip, ok := ParseIPv4(s)
	return ok && ClassifyIPv4(ip) == IPv4Public
}

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// MACAddress parses a 48-bit IEEE 802 MAC address (EUI-48) written as six
// hex pairs separated consistently by ':' or '-' (IEEE 802 / RFC 7042
// notation) or as three dot-separated groups of four hex digits (Cisco
// notation). It rejects mixed separators, the all-zero address and the
// broadcast address ff:ff:ff:ff:ff:ff, which identify no device.
func MACAddress[T Text](s T) bool {
	var mac [6]byte
	switch len(s) {
	case 17:
		sep := s[2]
		if sep != ':' && sep != '-' {
			return false
		}
		for i := 0; i < 6; i++ {
			if i > 0 && s[3*i-1] != sep {
				return false
			}
			hi, lo := hexVal(s[3*i]), hexVal(s[3*i+1])
			if hi < 0 || lo < 0 {
				return false
			}
			mac[i] = byte(hi<<4 | lo)
		}
	case 14:
		if s[4] != '.' || s[9] != '.' {
			return false
		}
		for k, i := range [6]int{0, 2, 5, 7, 10, 12} {
			hi, lo := hexVal(s[i]), hexVal(s[i+1])
			if hi < 0 || lo < 0 {
				return false
			}
			mac[k] = byte(hi<<4 | lo)
		}
	default:
		return false
	}
	return mac != [6]byte{} && mac != [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
}
