package bitrix

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
)

// sentinelNames names every code sentinel for the table tests.
var sentinelNames = map[string]error{
	"ErrQueryLimitExceeded": ErrQueryLimitExceeded, "ErrOperationTimeLimit": ErrOperationTimeLimit,
	"ErrOverloadLimit": ErrOverloadLimit, "ErrExpiredToken": ErrExpiredToken, "ErrInvalidToken": ErrInvalidToken,
	"ErrNoAuthFound": ErrNoAuthFound, "ErrInvalidCredentials": ErrInvalidCredentials,
	"ErrInsufficientScope": ErrInsufficientScope, "ErrAccessDenied": ErrAccessDenied, "ErrWrongAuthType": ErrWrongAuthType,
	"ErrAuthorization": ErrAuthorization, "ErrMethodConfirmWaiting": ErrMethodConfirmWaiting,
	"ErrWrongLicense": ErrWrongLicense, "ErrPaymentRequired": ErrPaymentRequired, "ErrPortalDeleted": ErrPortalDeleted,
	"ErrMethodNotFound": ErrMethodNotFound, "ErrNotFound": ErrNotFound, "ErrInvalidArgument": ErrInvalidArgument,
	"ErrAlreadyExists": ErrAlreadyExists, "ErrLimitReached": ErrLimitReached, "ErrWithoutChanges": ErrWithoutChanges,
	"ErrBatchLengthExceeded": ErrBatchLengthExceeded, "ErrBatchMethodNotAllowed": ErrBatchMethodNotAllowed,
	"ErrInternal": ErrInternal, "ErrInvalidGrant": ErrInvalidGrant, "ErrInvalidClient": ErrInvalidClient,
}

// matchesOnly checks that e matches want (nil: no sentinel) and no other.
func matchesOnly(t *testing.T, label string, e *APIError, want error) {
	t.Helper()
	for name, s := range sentinelNames {
		if got := errors.Is(e, s); got != (s == want) {
			t.Errorf("%s: errors.Is(code %q desc %q, %s) = %v", label, e.Code, e.Description, name, got)
		}
	}
}

// TestCodeClassesTable walks the classification table: each code (in its
// documented case, upper case and lower case) matches its sentinel and
// nothing else.
func TestCodeClassesTable(t *testing.T) {
	t.Parallel()
	seen := map[error]bool{}
	for _, c := range codeClasses {
		seen[c.err] = true
		for _, code := range c.codes {
			for _, v := range []string{code, strings.ToUpper(code), strings.ToLower(code)} {
				matchesOnly(t, "table", &APIError{Code: v, Description: "not found; is invalid"}, c.err)
			}
		}
	}
	for name, s := range sentinelNames {
		if !seen[s] {
			t.Errorf("%s has no row in codeClasses", name)
		}
	}
}

// TestDocumentedErrorCodes walks every documented error-table row of the
// methods b24go wraps (testdata/documented_error_codes.tsv, extracted from
// the b24restdocs pages named in it): the code must be listed in
// codeClasses (so no documented code falls to the suffix rules by
// accident) and match the expected sentinel only.
func TestDocumentedErrorCodes(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/documented_error_codes.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("bad row %q", line)
		}
		page, code, desc, wantName := cols[0], cols[1], cols[2], cols[3]
		var want error
		if wantName != "-" {
			var ok bool
			if want, ok = sentinelNames[wantName]; !ok {
				t.Fatalf("%s: unknown sentinel %q", page, wantName)
			}
		}
		if code != "" {
			if _, listed := codeIndex[strings.ToUpper(code)]; !listed {
				t.Errorf("%s: documented code %s is not in codeClasses", page, code)
			}
		}
		matchesOnly(t, page, &APIError{StatusCode: 400, Code: code, Description: desc}, want)
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 250 {
		t.Fatalf("only %d documented rows read", n)
	}
}

// TestEventCommandAddCode: the documented code of a command without a
// handler is EVENT_COMMAND_ADD_ERROR (imbot-command-register.md), not the
// parameter name.
func TestEventCommandAddCode(t *testing.T) {
	t.Parallel()
	matchesOnly(t, "documented", &APIError{Code: "EVENT_COMMAND_ADD_ERROR"}, ErrInvalidArgument)
	matchesOnly(t, "parameter name", &APIError{Code: "EVENT_COMMAND_ADD"}, nil)
}
