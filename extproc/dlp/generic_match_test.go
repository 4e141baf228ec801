package dlp

import (
	"testing"
)

func genericAPIKeyDetector(t testing.TB) *Detector {
	for _, d := range Catalogue() {
		if d.ID == "generic-api-key" {
			if d.Match == nil {
				t.Fatal("generic-api-key has no hand-written matcher")
			}
			return d
		}
	}
	t.Fatal("no generic-api-key detector")
	return nil
}

// regexpMatch is what the pattern (the specification) finds in a window.
func regexpMatch(d *Detector, w []byte) (int, int) {
	m := d.Pattern.FindSubmatchIndex(w)
	if m == nil || m[2*d.Group] < 0 {
		return -1, -1
	}
	return m[2*d.Group], m[2*d.Group+1]
}

func TestGenericMatchEqualsPattern(t *testing.T) {
	d := genericAPIKeyDetector(t)
	for _, w := range []string{
		`access_token":"Zk3qP9xW2mL7vB4nR8tY1cH6","x":1`,
		`api_key = 'Zk3qP9xW2mL7vB4nR8tY1cH6'`,
		`API_KEY: Zk3qP9xW2mL7vB4nR8tY1cH6`,
		`client_secret := "Zk3qP9xW2mL7vB4nR8tY1cH6"`,
		`secret_key ||= "Zk3qP9xW2mL7vB4nR8tY1cH6"`,
		`auth_tokens => "Zk3qP9xW2mL7vB4nR8tY1cH6"`,
		`apiKey", "Zk3qP9xW2mL7vB4nR8tY1cH6"`,
		`access_key>Zk3qP9xW2mL7vB4nR8tY1cH6</access_key>`,
		`secret_key_id":"Zk3qP9xW2mL7vB4nR8tY1cH6"`,
		`access_token":"short"`,
		`access_token" : "Zk3qP9xW2mL7vB4nR8tY1cH6"`,
		`privatekey:::=Zk3qP9xW2mL7vB4nR8tY1cH6`,
		`privatekey::::=Zk3qP9xW2mL7vB4nR8tY1cH6`,
		`access_token_secret_key":"value number 5 with some ordinary words in it"`,
		`credentials='Zk3qP9xW2mL7vB4nR8tY1cH6`,
		`session_token=   Zk3qP9xW2mL7vB4nR8tY1cH6`,
	} {
		wl, wh := regexpMatch(d, []byte(w))
		gl, gh := d.Match([]byte(w))
		if wl != gl || wh != gh {
			t.Errorf("%q: matcher [%d,%d), pattern [%d,%d)", w, gl, gh, wl, wh)
		}
	}
}

func FuzzGenericMatchEqualsPattern(f *testing.F) {
	for _, s := range []string{`access_token":"Zk3qP9xW2mL7vB4nR8tY1cH6"`, `api_key = 'abcdefghijklmnopqrstuvwx'`, `key>0123456789abcdef0`, `token", "0123456789abcdefgh"`} {
		f.Add([]byte(s))
	}
	d := genericAPIKeyDetector(f)
	f.Fuzz(func(t *testing.T, w []byte) {
		wl, wh := regexpMatch(d, w)
		gl, gh := d.Match(w)
		if wl != gl || wh != gh {
			t.Fatalf("%q: matcher [%d,%d), pattern [%d,%d)", w, gl, gh, wl, wh)
		}
	})
}
