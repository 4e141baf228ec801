package dlp

import (
	"bytes"
	"net/netip"
	"regexp"
	"strconv"

	"github.com/portcullis/portcullis/extproc/dlp/validate"
)

// Network and device identifiers.
func networkDetectors() []*Detector {
	n := CategoryNetwork
	const b, a = 48, 96
	return []*Detector{
		{ID: "ipv6-address", Category: n, Tags: gdpr, Check: "parse", Before: 40, After: 64,
			Keywords: []string{"::", "ipv6", "inet6", "ip address", "ip_address", "ipaddress", "ip addr", "remote_addr", "client_ip", "client ip", "source ip", "src ip", "\"ip\""},
			Pattern:  regexp.MustCompile(`(?:^|[^0-9A-Za-z:.])((?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){2,7}(?::?\d{1,3}(?:\.\d{1,3}){3})?(?:%[0-9A-Za-z]{1,16})?)(?:[^0-9A-Za-z:.%]|\.(?:[^0-9A-Za-z]|$)|$)`),
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

// validIPv6 parses the candidate and refuses what the loose pattern also
// matches in code and logs: "::" alone, C++/Ruby scopes ("d::"), and
// addresses with fewer than three groups of hex digits.
func validIPv6(v []byte) bool {
	s := string(v)
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Is6() {
		return false
	}
	groups := 0
	for _, part := range bytes.Split(v, []byte(":")) {
		if len(part) > 0 {
			groups++
		}
	}
	return groups >= 3 || (bytes.Contains(v, []byte(".")) && groups >= 2)
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
