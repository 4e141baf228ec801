package dlp

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// Network and device identifiers.
func networkDetectors() []*Detector {
	n := CategoryNetwork
	const b, a = 48, 96
	return []*Detector{
		{ID: "ipv6-address", Category: n, Tags: gdpr, Check: "parse", Before: 40, After: 64,
			Keywords: ipv6Keywords,
			Pattern:  regexp.MustCompile(`(?:^|[^0-9A-Za-z:.])(` + ipv6Candidate + `)(?:[^0-9A-Za-z:.%]|\.(?:[^0-9A-Za-z]|$)|$)`),
			Group:    1, Validate: validIPv6},
		near("mac-address", n, gdpr, "eui-48", []string{"mac", "hwaddr", "ether", "hardware address", "bssid", "physical address", "device id"}, b, a,
			`[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}`, validate.MACAddress[[]byte]),
		near("imei", n, gdpr, "luhn", []string{"imei", "device serial"}, b, a,
			`\d{2}[ -]?\d{6}[ -]?\d{6}[ -]?\d|\d{15}`, all(validate.IMEI[[]byte], notRepeated)),
		near("iccid", n, gdpr, "luhn", []string{"iccid", "sim card", "sim number", "sim serial", "sim no"}, b, a,
			`89\d{17,18}|89\d{2}(?:[ -]\d{4}){3}[ -]\d{3,4}`, validate.ICCID[[]byte]),
		near("imsi", n, gdpr, "mcc+keyword", []string{"imsi"}, 16, 64, `[2-7]\d{14}|[2-7]\d{13}`, notRepeated),
		{ID: "signed-url", Category: n, Tags: soc2, Check: "signature-parameter", Keywords: []string{"x-amz-signature=", "x-goog-signature=", "signature=", "&sig=", "?sig="}, Before: 1, After: 600,
			Pattern: regexp.MustCompile(`(?i)[?&](?:x-amz-signature|x-goog-signature|signature|sig)=([A-Za-z0-9%+/_\-.~]{16,})`), Group: 1},
		{ID: "geo-coordinates", Category: n, Tags: gdpr, Check: "range+keyword", Context: true, After: 96,
			Keywords: []string{"latitude", "lat\"", "lat'", "lat:", "lat=", "lat ", "latlng", "lat_lng", "lat/lon", "lat,lon", "coordinates", "coords", "gps", "geo:", "geolocation", "location:"},
			Pattern: regexp.MustCompile(`(?i:latitude|lat(?:lng|_lng|/lon|,lon)?|coordinates|coords|gps|geo|geolocation|location)[a-z_]{0,12}["']?\s*[:=]?\s*[\[("'{]?\s*(` +
				`-?\d{1,2}\.\d{3,}°?\s*[NS]?["']?\s*[,;/ ]\s*["']?-?\d{1,3}\.\d{3,}°?\s*[EW]?` +
				`|-?\d{1,2}\.\d{3,}["']?\s*[,;]?\s*["']?(?i:lng|lon|long|longitude)["']?\s*[:=]?\s*["']?-?\d{1,3}\.\d{3,})`), Group: 1,
			Validate: validLatLon},
	}
}

// ipv6Candidate is an IPv6 address as written (RFC 4291 §2.2, RFC 5952):
// up to eight groups of 1–4 hex digits, "::" for a run of zero groups, an
// optional embedded dotted quad (::ffff:192.0.2.1), an optional zone
// (fe80::1%eth0) and an optional prefix length (2001:db8::/32). The loose
// shape is narrowed by validIPv6.
const ipv6Candidate = `(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?:%[0-9A-Za-z_.\-]{1,16})?(?:/\d{1,3})?`

// ipv6Keywords open an ipv6-address window: "::" (every compressed form
// holds it), a colon between two hex digits of which one is a letter
// ("d:1", "8:a", "f:f"; an uncompressed address has 14 bytes next to its
// colons, so all of them are decimal digits in one random address of about
// 700), and context words. Colons between two decimal digits are left out
// on purpose: every timestamp holds them ("12:30:45"), and in a log each
// line would open a window; JSON and YAML keys end in a quote or are
// followed by a space, so they open none.
var ipv6Keywords = func() []string {
	kws := []string{"::", "ipv6", "inet6", "ip address", "ip_address", "ipaddress", "ip addr", "remote_addr", "client_ip", "client ip", "source ip", "src ip", "\"ip\""}
	const hex = "0123456789abcdef"
	for _, a := range hex {
		for _, b := range hex {
			if a >= 'a' || b >= 'a' {
				kws = append(kws, string(a)+":"+string(b))
			}
		}
	}
	return kws
}()

// validIPv6 parses the candidate (netip.ParseAddr, and a prefix length of
// at most 128) and refuses what the loose pattern also matches in code,
// logs and hex dumps:
//   - "::" alone: Haskell and Ruby type annotations ("x :: Int"), C++'s
//     global scope; the unspecified address is reported only with a prefix
//     length ("::/0", the default route);
//   - two groups or fewer, unless the address is the loopback "::1",
//     holds a dotted quad ("::ffff:10.0.0.1") or leads with a routing
//     prefix of 3–4 hex digits with a decimal digit ("fe80::1", "ff02::1",
//     "2001:db8::"): scopes such as "a::b" or "Bad::Add" parse as
//     addresses, and so do "3::" or "8::9" in binary or compressed data;
//   - eight groups of exactly two hex digits: an EUI-64 or a byte dump
//     ("00:12:4b:00:01:ae:93:1c"), not an address;
//   - dotted quads without a "::" or six hex groups are refused by the
//     parser ("1:2:3:4", "12:30:45" also fail there).
func validIPv6(v []byte) bool {
	s := string(v)
	if i := strings.IndexByte(s, '/'); i >= 0 {
		bits, err := strconv.Atoi(s[i+1:])
		if err != nil || bits > 128 {
			return false
		}
		s = s[:i]
	} else if s == "::" {
		return false
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Is6() {
		return false
	}
	if i := strings.IndexByte(s, '%'); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ":")
	groups, twoHex := 0, 0
	for _, part := range parts {
		if part != "" {
			groups++
		}
		if len(part) == 2 {
			twoHex++
		}
	}
	switch {
	case groups == 8 && twoHex == 8:
		return false
	case groups >= 3, s == "::", s == "::1", strings.Contains(s, "."):
		return true
	}
	lead := parts[0]
	return len(lead) >= 3 && strings.ContainsAny(lead, "0123456789")
}

// validLatLon reads the first and last decimal numbers of the candidate and
// requires a latitude within ±90 and a longitude within ±180, not both 0.
func validLatLon(v []byte) bool {
	var nums []float64
	for i := 0; i < len(v); {
		if v[i] == '-' || isDigit(v[i]) {
			j := i + 1
			for j < len(v) && (isDigit(v[j]) || v[j] == '.') {
				j++
			}
			if f, err := strconv.ParseFloat(string(v[i:j]), 64); err == nil {
				nums = append(nums, f)
			}
			i = j
			continue
		}
		i++
	}
	if len(nums) < 2 {
		return false
	}
	lat, lon := nums[0], nums[len(nums)-1]
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && (lat != 0 || lon != 0)
}
