package bitrix_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix"
)

// corpusDir is the REST docs-sample corpus (its README and index.tsv name
// the docs page of every file).
const corpusDir = "../testdata/rest/"

type corpusFile struct{ file, method, page string }

func readCorpusIndex(t *testing.T) []corpusFile {
	t.Helper()
	f, err := os.Open(corpusDir + "index.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusFile
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 3 {
			t.Fatalf("bad index row %q", line)
		}
		out = append(out, corpusFile{c[0], c[1], c[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDocsResponseCorpus answers each call with a docs sample and decodes
// it through the client: success samples give the result, the time block
// and total/next as sent; error samples give an *APIError with the
// sample's code and description.
func TestDocsResponseCorpus(t *testing.T) {
	t.Parallel()
	files := readCorpusIndex(t)
	if len(files) < 130 {
		t.Fatalf("corpus index has %d files", len(files))
	}
	for _, cf := range files {
		t.Run(cf.file, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(corpusDir + cf.file)
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Result           json.RawMessage `json:"result"`
				Error            any             `json:"error"`
				ErrorDescription string          `json:"error_description"`
				Total            *int            `json:"total"`
				Next             *int            `json:"next"`
				Time             *struct {
					Start float64 `json:"start"`
				} `json:"time"`
			}
			if err := json.Unmarshal(body, &want); err != nil {
				t.Fatalf("%s (%s): %v", cf.file, cf.page, err)
			}
			isErr := want.Error != nil
			status := 200
			if isErr {
				status = 400
			}
			c, err := bitrix.New(bitrix.WebhookURL("https://portal.example.com/rest/1/"+testSecret+"/"), bitrix.WithoutRateLimit(),
				bitrix.WithRetryPolicy(bitrix.NoRetries()),
				bitrix.WithTransport(rtFunc(func(r *http.Request) (*http.Response, error) {
					return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
						Body: io.NopCloser(strings.NewReader(string(body))), Request: r}, nil
				})))
			if err != nil {
				t.Fatal(err)
			}
			var got json.RawMessage
			resp, err := c.Call(t.Context(), cf.method, nil, &got)
			if isErr {
				var ae *bitrix.APIError
				if !errors.As(err, &ae) {
					t.Fatalf("%s: error sample gave %v", cf.page, err)
				}
				if code := strings.Trim(string(corpusJSON(t, want.Error)), `"`); ae.Code != code || ae.Description != want.ErrorDescription {
					t.Errorf("%s: APIError %q %q, sample %v %q", cf.page, ae.Code, ae.Description, want.Error, want.ErrorDescription)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", cf.page, err)
			}
			if !jsonEqual(t, got, want.Result) {
				t.Errorf("%s: result %s, sample %s", cf.page, got, want.Result)
			}
			if want.Total != nil && resp.Total != *want.Total {
				t.Errorf("%s: Total %d, sample %d", cf.page, resp.Total, *want.Total)
			}
			if want.Next != nil && resp.Next != *want.Next {
				t.Errorf("%s: Next %d, sample %d", cf.page, resp.Next, *want.Next)
			}
			if want.Time != nil && want.Time.Start > 0 && resp.Time.Start.IsZero() {
				t.Errorf("%s: time.start not decoded", cf.page)
			}
		})
	}
}

func corpusJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return string(corpusJSON(t, x)) == string(corpusJSON(t, y))
}
