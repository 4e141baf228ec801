// Package dlptest holds inputs shared by the dlp benchmarks and the
// comparison with gitleaks (module dlpbench), so both measure the same bytes.
package dlptest

import (
	"bytes"
	"fmt"
)

// JSONBody builds a JSON body of about size bytes: items with an id, an
// owner e-mail address and a free-text field. With keywords, the field name
// carries token/key/secret/access (the input that makes regex scanners such
// as gitleaks expensive) and one value in 50 is a real-format GitHub token.
func JSONBody(size int, keywords bool) []byte {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		name := "description"
		if keywords {
			name = "access_token_secret_key"
		}
		value := fmt.Sprintf("value number %d with some ordinary words in it", i)
		if keywords && i%50 == 0 {
			value = "ghp_kw4mm23obdi90ax0u3jz5erfomi2kwm7pqiq"
		}
		fmt.Fprintf(&b, `{"id":%d,"%s":"%s","owner":"user%d@example.org"}`, i, name, value, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}
