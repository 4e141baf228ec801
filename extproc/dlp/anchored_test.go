package dlp

import "testing"

// An anchored pattern matches at each of its keywords, not only the first of
// a run of nearby ones.
func TestAnchoredPatternEveryHit(t *testing.T) {
	e, _ := NewEngine(nil)
	body := []byte(`{"access_token":"Zk3qP9xW2mL7vB4nR8tY1cH6","refresh_token":"Qw8eR4tY7uI2oP5aS9dF3gH1"}`)
	n := 0
	for _, f := range e.Scan(body, nil) {
		if f.Type == "generic-api-key" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d generic-api-key findings, want 2: %v", n, e.Scan(body, nil))
	}
}
