package openapi

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func importOne(t testing.TB, file string, opts Options) *Document {
	t.Helper()
	res, err := Import(context.Background(), []string{filepath.Join(corpusDir, file)}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res.Documents[0]
}

func toolByName(t testing.TB, d *Document, name string) Tool {
	t.Helper()
	for _, tl := range d.Tools {
		if tl.Name == name {
			return tl
		}
	}
	t.Fatalf("no tool %q", name)
	return Tool{}
}

func TestSchemaValidation(t *testing.T) {
	pet := importOne(t, "oai__v3.0_petstore-expanded.json", Options{})
	poly := importOne(t, "readme__3.0_polymorphism.yaml", Options{})
	sw2 := importOne(t, "oai__v2.0_petstore.json", Options{})
	cases := []struct {
		doc   *Document
		tool  string
		args  map[string]any
		valid bool
	}{
		{pet, "find_pet_by_id", map[string]any{"id": 7.0}, true},
		{pet, "find_pet_by_id", map[string]any{}, false},                         // path param required
		{pet, "find_pet_by_id", map[string]any{"id": "seven"}, false},            // wrong type
		{pet, "find_pet_by_id", map[string]any{"id": 7.0, "extra": true}, false}, // unknown argument
		{pet, "addPet", map[string]any{"body": map[string]any{"name": "Rex"}}, true},
		{pet, "addPet", map[string]any{"body": map[string]any{"tag": "x"}}, false}, // allOf required name
		{pet, "addPet", map[string]any{}, false},                                   // body required
		{pet, "findPets", map[string]any{"tags": []any{"a", "b"}, "limit": 3.0}, true},
		{pet, "findPets", map[string]any{"tags": "a"}, false},
		{sw2, "listPets", map[string]any{"limit": 5.0}, true},
		{sw2, "listPets", map[string]any{"limit": 5.5}, false}, // integer
	}
	for _, tl := range poly.Tools {
		if b, ok := tl.InputSchema["properties"].(map[string]any)["body"]; ok && strings.Contains(toJSON(b), "anyOf") {
			cases = append(cases, struct {
				doc   *Document
				tool  string
				args  map[string]any
				valid bool
			}{poly, tl.Name, map[string]any{"body": 42.0}, false})
			break
		}
	}
	for i, c := range cases {
		v, err := NewValidator(toolByName(t, c.doc, c.tool).InputSchema)
		if err != nil {
			t.Fatal(err)
		}
		err = v.Validate(c.args)
		if (err == nil) != c.valid {
			t.Errorf("case %d %s %v: valid=%v, err=%v", i, c.tool, c.args, c.valid, err)
		}
	}
}

func TestEnumsFormatsAndReadOnly(t *testing.T) {
	d := importOne(t, "swagger-petstore__openapi.yaml", Options{})
	s := toJSON(toolByName(t, d, "findPetsByStatus").InputSchema)
	for _, want := range []string{`"enum":["available","pending","sold"]`, `"default":"available"`} {
		if !strings.Contains(s, want) {
			t.Errorf("findPetsByStatus schema lacks %s: %s", want, s)
		}
	}
	tt := importOne(t, "readme__3.1_train-travel.json", Options{})
	for _, tl := range tt.Tools {
		if tl.Request.Method == "POST" && tl.Request.Body != nil && strings.Contains(toJSON(tl.InputSchema), `"readOnly":true`) {
			t.Errorf("%s: readOnly property offered as input", tl.Name)
		}
	}
}

func TestNames(t *testing.T) {
	n := newNamer("")
	long := strings.Repeat("veryLongOperationName", 5)
	got := []string{
		n.name(&operation{ID: "list pets!"}),
		n.name(&operation{ID: "list_pets"}),
		n.name(&operation{Method: "GET", Path: "/users/{userId}/api-keys"}),
		n.name(&operation{ID: long}),
		n.name(&operation{ID: long + "X"}),
		n.name(&operation{ID: long}),
		n.name(&operation{ID: "日本語"}),
	}
	want0 := []string{"list_pets", "list_pets_2", "get_users_userId_api-keys"}
	for i, w := range want0 {
		if got[i] != w {
			t.Errorf("name %d = %q, want %q", i, got[i], w)
		}
	}
	seen := map[string]bool{}
	for _, g := range got {
		if !ToolNamePattern.MatchString(g) || seen[g] {
			t.Errorf("bad or duplicate name %q in %v", g, got)
		}
		seen[g] = true
	}
	if got[3] == got[4] || len(got[3]) != 64 {
		t.Errorf("long names not distinct/truncated: %q %q", got[3], got[4])
	}
	// Determinism: the same document gives the same names.
	a, b := importOne(t, "netlify__swagger.yml", Options{NamePrefix: "netlify."}), importOne(t, "netlify__swagger.yml", Options{NamePrefix: "netlify."})
	for i := range a.Tools {
		if a.Tools[i].Name != b.Tools[i].Name || !strings.HasPrefix(a.Tools[i].Name, "netlify_") {
			t.Fatalf("names differ or lack prefix: %q %q", a.Tools[i].Name, b.Tools[i].Name)
		}
	}
	checkTools(t, a.Tools)
}

func TestRisk(t *testing.T) {
	cases := []struct {
		method, path, id string
		params           []string
		level            string
	}{
		{"GET", "/pets", "listPets", nil, RiskLow},
		{"POST", "/pets", "addPet", nil, RiskMedium},
		{"DELETE", "/pets/{id}", "deletePet", nil, RiskHigh},
		{"POST", "/payments/transfers", "createTransfer", nil, RiskHigh},
		{"DELETE", "/admin/users/{id}", "deleteUser", []string{"force"}, RiskCritical},
		{"GET", "/exports/all", "exportAll", nil, RiskMedium},
		{"POST", "/auth/tokens", "createApiKey", []string{"password"}, RiskHigh},
		{"POST", "/users/batch", "bulkCreateUsers", nil, RiskHigh},
	}
	for _, c := range cases {
		r := Score(c.method, c.path, c.id, nil, c.params)
		if r.Level != c.level || r.Score < 0 || r.Score > 100 {
			t.Errorf("%s %s: %+v, want %s", c.method, c.path, r, c.level)
		}
	}
	if a, b := Score("GET", "/x", "", nil, nil), Score("DELETE", "/x", "", nil, nil); a.Score >= b.Score {
		t.Errorf("GET %d should score below DELETE %d", a.Score, b.Score)
	}
}

func TestRateLimitsAndSelection(t *testing.T) {
	d := importOne(t, "oai__v3.0_petstore-expanded.json", Options{})
	want := map[string]int{"findPets": 1000, "addPet": 100, "find_pet_by_id": 1000, "deletePet": 10}
	for _, tl := range d.Tools {
		if tl.RateLimitPerHour != want[tl.Name] {
			t.Errorf("%s: %d/h, want %d", tl.Name, tl.RateLimitPerHour, want[tl.Name])
		}
	}
	d = importOne(t, "oai__v3.0_petstore-expanded.json", Options{
		Include:        []string{"GET /pets/*", "addPet"},
		RateLimits:     map[string]int{"GET": 50},
		ToolRateLimits: map[string]int{"addPet": 7},
	})
	if d.Summary.Operations != 4 || d.Summary.Selected != 2 || len(d.Tools) != 2 {
		t.Fatalf("summary %+v", d.Summary)
	}
	if toolByName(t, d, "find_pet_by_id").RateLimitPerHour != 50 || toolByName(t, d, "addPet").RateLimitPerHour != 7 {
		t.Error("rate limit overrides not applied")
	}
	d = importOne(t, "swagger-petstore__openapi.yaml", Options{Include: []string{"tag:store"}, Exclude: []string{"DELETE /**"}})
	for _, tl := range d.Tools {
		if !strings.Contains(strings.Join(tl.Tags, ","), "store") || tl.Request.Method == "DELETE" {
			t.Errorf("selected %s %v", tl.Name, tl.Tags)
		}
	}
	if len(d.Tools) != 3 {
		t.Errorf("tag:store minus DELETE gave %d tools", len(d.Tools))
	}
}

func TestRequestBuild(t *testing.T) {
	r := Request{Method: "POST", Server: "https://api.example.com/v1", Path: "/items/{id}/{parts}",
		Params: []ParamBinding{
			{Arg: "id", Name: "id", In: "path", Style: "simple", Required: true},
			{Arg: "parts", Name: "parts", In: "path", Style: "label", Explode: false, Required: true},
			{Arg: "tags", Name: "tags", In: "query", Style: "form", Explode: true},
			{Arg: "ids", Name: "ids", In: "query", Style: "pipeDelimited"},
			{Arg: "filter", Name: "filter", In: "query", Style: "deepObject", Explode: true},
			{Arg: "trace", Name: "X-Trace", In: "header", Style: "simple"},
			{Arg: "session", Name: "session", In: "cookie", Style: "form"},
		},
		Body: &BodyBinding{ContentType: "application/x-www-form-urlencoded"},
	}
	got, err := r.Build("", map[string]any{
		"id": "a/b c", "parts": []any{"x", "y"}, "tags": []any{"t1", "t2"}, "ids": []any{1.0, 2.0},
		"filter": map[string]any{"color": "red"}, "trace": "abc", "session": "s1",
		"body": map[string]any{"name": "n", "list": []any{"p", "q"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantURL := "https://api.example.com/v1/items/a%2Fb%20c/.x,y?filter%5Bcolor%5D=red&ids=1%7C2&tags=t1&tags=t2"
	if got.URL != wantURL {
		t.Errorf("URL\n got %s\nwant %s", got.URL, wantURL)
	}
	if got.Header.Get("X-Trace") != "abc" || got.Header.Get("Cookie") != "session=s1" {
		t.Errorf("headers %v", got.Header)
	}
	if string(got.Body) != "list=p&list=q&name=n" || got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("body %q %v", got.Body, got.Header)
	}
	for _, bad := range []map[string]any{{"parts": []any{"x"}}, {"id": "..", "parts": []any{"x"}}, {"id": "1", "parts": []any{"x"}, "trace": "a\r\nX-Evil: 1"}} {
		if _, err := r.Build("", bad); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%v: err = %v", bad, err)
		}
	}
	mp := Request{Method: "POST", Path: "/upload", Body: &BodyBinding{ContentType: "multipart/form-data", Binary: []string{"file"}}}
	got, err = mp.Build("http://h", map[string]any{"body": map[string]any{"file": "aGVsbG8=", "note": "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got.Body), "hello") || !strings.Contains(string(got.Body), `filename="file"`) || !strings.HasPrefix(got.Header.Get("Content-Type"), "multipart/form-data; boundary=") {
		t.Errorf("multipart body %q", got.Body)
	}
}

func TestDirectoryImportAndErrors(t *testing.T) {
	res, err := Import(context.Background(), []string{filepath.Join(corpusDir, "oai-learn__petstore-separate")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Documents) != 1 || len(res.Ignored) != 4 || res.Totals.Tools != 4 {
		t.Errorf("documents %d ignored %v totals %+v", len(res.Documents), res.Ignored, res.Totals)
	}
	if _, err := Import(context.Background(), []string{filepath.Join(corpusDir, "oai-learn__petstore-separate/spec/Pet.yaml")}, Options{}); err == nil {
		t.Error("a schema fragment imported as a document")
	}
	var calls int
	if _, err := Import(context.Background(), []string{filepath.Join(corpusDir, "readme__3.0_star-trek.yaml")}, Options{Progress: func(Progress) { calls++ }}); err != nil || calls != 120 {
		t.Errorf("progress calls = %d, err %v", calls, err)
	}
}

func toJSON(v any) string {
	b, _ := jsonMarshal(v)
	return string(b)
}
