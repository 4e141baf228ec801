package openapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// HTTPRequest is a built REST request, independent of any HTTP client.
type HTTPRequest struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// ErrBadArgument marks arguments that cannot be serialised (a wrong type the
// schema did not catch, bad base64). Messages name the argument, never its
// value.
var ErrBadArgument = errors.New("bad argument")

// Build builds the HTTP request for a tool call. baseURL, when non-empty,
// replaces the document's server URL; args are the decoded tool arguments
// (json.Number or float64 numbers both work). Path values are escaped per
// segment; query, header and cookie values follow the parameter's style and
// explode settings.
func (r *Request) Build(baseURL string, args map[string]any) (*HTTPRequest, error) {
	server := r.Server
	if baseURL != "" {
		server = baseURL
	}
	path := r.Path
	query := url.Values{}
	var rawQuery []string
	header := http.Header{}
	var cookies []string
	for _, p := range r.Params {
		v, ok := args[p.Arg]
		if !ok || v == nil {
			if p.Required {
				return nil, fmt.Errorf("%w: missing required %s parameter %q", ErrBadArgument, p.In, p.Arg)
			}
			continue
		}
		switch p.In {
		case "path":
			s, err := pathValue(p, v)
			if err != nil {
				return nil, err
			}
			if s == "." || s == ".." || s == "" {
				return nil, fmt.Errorf("%w: path parameter %q must not be empty, \".\" or \"..\"", ErrBadArgument, p.Arg)
			}
			path = strings.ReplaceAll(path, "{"+p.Name+"}", s)
		case "query":
			if err := queryValue(p, v, query, &rawQuery); err != nil {
				return nil, err
			}
		case "header":
			s, err := joined(p, v, ",", false)
			if err != nil {
				return nil, err
			}
			if strings.ContainsAny(s, "\r\n") {
				return nil, fmt.Errorf("%w: header parameter %q contains a line break", ErrBadArgument, p.Arg)
			}
			header.Set(p.Name, s)
		case "cookie":
			s, err := joined(p, v, ",", false)
			if err != nil {
				return nil, err
			}
			cookies = append(cookies, p.Name+"="+url.QueryEscape(s))
		}
	}
	if len(cookies) > 0 {
		header.Set("Cookie", strings.Join(cookies, "; "))
	}
	u := strings.TrimRight(server, "/") + path
	q := query.Encode()
	if len(rawQuery) > 0 {
		if q != "" {
			q += "&"
		}
		q += strings.Join(rawQuery, "&")
	}
	if q != "" {
		u += "?" + q
	}
	out := &HTTPRequest{Method: r.Method, URL: u, Header: header}
	if r.Body != nil {
		v, ok := args[BodyArg]
		if !ok {
			if r.Body.Required {
				return nil, fmt.Errorf("%w: missing required body", ErrBadArgument)
			}
			return out, nil
		}
		b, ct, err := encodeBody(r.Body, v)
		if err != nil {
			return nil, err
		}
		out.Body = b
		header.Set("Content-Type", ct)
	}
	return out, nil
}

// scalar renders a primitive value; objects and arrays become JSON.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// joined serialises arrays and objects with sep (simple style); objects use
// k=v pairs when explode is set, else k,v.
func joined(p ParamBinding, v any, sep string, escape bool) (string, error) {
	esc := func(s string) string {
		if escape {
			return url.PathEscape(s)
		}
		return s
	}
	if p.Style == StyleJSON {
		b, err := json.Marshal(v)
		return esc(string(b)), err
	}
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = esc(scalar(e))
		}
		return strings.Join(parts, sep), nil
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(x) {
			if p.Explode {
				parts = append(parts, esc(k)+"="+esc(scalar(x[k])))
			} else {
				parts = append(parts, esc(k), esc(scalar(x[k])))
			}
		}
		return strings.Join(parts, sep), nil
	}
	return esc(scalar(v)), nil
}

func pathValue(p ParamBinding, v any) (string, error) {
	switch p.Style {
	case "label":
		sep := ","
		if p.Explode {
			sep = "."
		}
		s, err := joined(p, v, sep, true)
		return "." + s, err
	case "matrix":
		if arr, ok := v.([]any); ok && p.Explode {
			var parts []string
			for _, e := range arr {
				parts = append(parts, ";"+url.PathEscape(p.Name)+"="+url.PathEscape(scalar(e)))
			}
			return strings.Join(parts, ""), nil
		}
		if m, ok := v.(map[string]any); ok && p.Explode {
			var parts []string
			for _, k := range sortedKeys(m) {
				parts = append(parts, ";"+url.PathEscape(k)+"="+url.PathEscape(scalar(m[k])))
			}
			return strings.Join(parts, ""), nil
		}
		s, err := joined(p, v, ",", true)
		return ";" + url.PathEscape(p.Name) + "=" + s, err
	}
	return joined(p, v, ",", true)
}

func queryValue(p ParamBinding, v any, q url.Values, raw *[]string) error {
	if p.Style == StyleJSON {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%w: query parameter %q: %w", ErrBadArgument, p.Arg, err)
		}
		q.Add(p.Name, string(b))
		return nil
	}
	switch x := v.(type) {
	case []any:
		if p.Explode && p.Style == "form" {
			for _, e := range x {
				q.Add(p.Name, scalar(e))
			}
			return nil
		}
		sep := ","
		switch p.Style {
		case "spaceDelimited":
			sep = " "
		case "pipeDelimited":
			sep = "|"
		case "tabDelimited":
			sep = "\t"
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = scalar(e)
		}
		q.Add(p.Name, strings.Join(parts, sep))
	case map[string]any:
		switch {
		case p.Style == "deepObject":
			for _, k := range sortedKeys(x) {
				q.Add(p.Name+"["+k+"]", scalar(x[k]))
			}
		case p.Explode:
			for _, k := range sortedKeys(x) {
				q.Add(k, scalar(x[k]))
			}
		default:
			var parts []string
			for _, k := range sortedKeys(x) {
				parts = append(parts, url.QueryEscape(k), url.QueryEscape(scalar(x[k])))
			}
			*raw = append(*raw, url.QueryEscape(p.Name)+"="+strings.Join(parts, ","))
		}
	default:
		q.Add(p.Name, scalar(v))
	}
	return nil
}

func encodeBody(b *BodyBinding, v any) ([]byte, string, error) {
	ct := b.ContentType
	switch contentRank(ct) {
	case 3:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("%w: form body must be an object", ErrBadArgument)
		}
		form := url.Values{}
		for _, k := range sortedKeys(m) {
			if arr, ok := m[k].([]any); ok {
				for _, e := range arr {
					form.Add(k, scalar(e))
				}
				continue
			}
			form.Add(k, scalar(m[k]))
		}
		return []byte(form.Encode()), ct, nil
	case 4:
		return encodeMultipart(b, v)
	case 5, 6:
		return []byte(scalar(v)), ct, nil
	case 7:
		s, _ := v.(string)
		data, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, "", fmt.Errorf("%w: body is not valid base64", ErrBadArgument)
		}
		return data, ct, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, "", fmt.Errorf("%w: body: %w", ErrBadArgument, err)
	}
	return data, ct, nil
}

func encodeMultipart(b *BodyBinding, v any) ([]byte, string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("%w: multipart body must be an object", ErrBadArgument)
	}
	binary := map[string]bool{}
	for _, n := range b.Binary {
		binary[n] = true
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	writeFile := func(name, b64 string) error {
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return fmt.Errorf("%w: multipart field %q is not valid base64", ErrBadArgument, name)
		}
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, name))
		h.Set("Content-Type", "application/octet-stream")
		part, err := w.CreatePart(h)
		if err != nil {
			return err
		}
		_, err = part.Write(data)
		return err
	}
	for _, k := range sortedKeys(m) {
		val := m[k]
		values := []any{val}
		if arr, ok := val.([]any); ok {
			values = arr
		}
		for _, e := range values {
			var err error
			if binary[k] {
				s, _ := e.(string)
				err = writeFile(k, s)
			} else {
				err = w.WriteField(k, scalar(e))
			}
			if err != nil {
				return nil, "", err
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}
