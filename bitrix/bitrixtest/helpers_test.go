package bitrixtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type resp struct {
	Status int
	Body   map[string]any
	Raw    string
	Header http.Header
}

// do sends a request and decodes the JSON answer.
func do(t testing.TB, method, u, contentType, body string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, redactURL(u), err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{Status: res.StatusCode, Raw: string(raw), Header: res.Header}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		d := json.NewDecoder(strings.NewReader(string(raw)))
		d.UseNumber()
		if err := d.Decode(&r.Body); err != nil {
			t.Fatalf("decode %q: %v", raw, err)
		}
	}
	return r
}

func redactURL(u string) string {
	if i := strings.Index(u, "/rest/"); i >= 0 {
		return u[:i] + "/rest/..."
	}
	return u
}

// callHook posts a JSON body to the webhook.
func callHook(t testing.TB, s *Server, method string, params any) resp {
	t.Helper()
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, "POST", s.WebhookURL()+method, "application/json", string(b))
}

// callForm posts a form body to the webhook.
func callForm(t testing.TB, s *Server, method, form string) resp {
	t.Helper()
	return do(t, "POST", s.WebhookURL()+method, "application/x-www-form-urlencoded", form)
}

func callToken(t testing.TB, s *Server, method, token string, params map[string]any) resp {
	t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	params["auth"] = token
	b, _ := json.Marshal(params)
	return do(t, "POST", s.URL()+"/rest/"+method, "application/json", string(b))
}

func mustOK(t testing.TB, r resp) any {
	t.Helper()
	if r.Status != 200 || r.Body["error"] != nil {
		t.Fatalf("status %d body %s", r.Status, r.Raw)
	}
	return r.Body["result"]
}

func get(v any, path ...string) any {
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func num(v any) int {
	switch x := v.(type) {
	case json.Number:
		n, _ := x.Int64()
		if n == 0 {
			f, _ := x.Float64()
			return int(f)
		}
		return int(n)
	case string:
		n := 0
		for _, c := range x {
			n = n*10 + int(c-'0')
		}
		return n
	}
	return -1
}

func keysOf(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func q(v url.Values) string { return v.Encode() }
