package events

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// failingReader returns its data, then err.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestParseBodyReading covers the pre-sized read of Parse: announced
// lengths that are right, too small, too large or absent, read errors
// (a truncated delivery is an error, not a shorter event) and the limit.
func TestParseBodyReading(t *testing.T) {
	t.Parallel()
	body := "event=ONCRMDEALADD&data[FIELDS][ID]=7&data[FIELDS][TITLE]=" + strings.Repeat("x", 600)
	tests := []struct {
		name    string
		reader  func() io.Reader
		length  int64
		limits  Limits
		wantErr error
	}{
		{"exact length", func() io.Reader { return strings.NewReader(body) }, int64(len(body)), Limits{}, nil},
		{"unknown length", func() io.Reader { return strings.NewReader(body) }, -1, Limits{}, nil},
		{"length too small", func() io.Reader { return strings.NewReader(body) }, 10, Limits{}, nil},
		{"length too large", func() io.Reader { return strings.NewReader(body) }, int64(len(body)) + 100, Limits{}, nil},
		{"truncated", func() io.Reader { return &failingReader{body[:100], io.ErrUnexpectedEOF} }, int64(len(body)), Limits{}, ErrMalformed},
		{"read error", func() io.Reader { return &failingReader{body, errors.New("connection reset")} }, int64(len(body)), Limits{}, ErrMalformed},
		{"over the limit, honest length", func() io.Reader { return strings.NewReader(body) }, int64(len(body)), Limits{MaxBodySize: 100}, ErrBodyTooLarge},
		{"over the limit, lying length", func() io.Reader { return strings.NewReader(body) }, 50, Limits{MaxBodySize: 100}, ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/", tt.reader())
			r.ContentLength = tt.length
			ev, err := tt.limits.Parse(r)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (ev.Data.(*CRMEntity).EntityID() != 7 || ev.body != body) {
				t.Fatalf("body not read whole: %d bytes", len(ev.body))
			}
		})
	}
}
