package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/b24go/sdk/bitrix/bitrixtest"
	"github.com/google/go-cmp/cmp"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

type fmEntry struct{ Type, Value, ValueType string }

func storedFM(item map[string]any) []fmEntry {
	var out []fmEntry
	fm, _ := item["fm"].([]any)
	for _, e := range fm {
		m := e.(map[string]any)
		out = append(out, fmEntry{m["typeId"].(string), m["value"].(string), m["valueType"].(string)})
	}
	return out
}

// TestCreatesLead creates a lead on a fake portal through its inbound
// webhook and checks what the portal stored and what went over the wire.
func TestCreatesLead(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{
		"-name", "Ada", "-last-name", "Lovelace",
		"-phone", "+44 20 7946 0000", "-phone", "+44 20 7946 0001,+44 20 7946 0002",
		"-email", "ada@example.com", "-comment", "from a test",
	}, envMap(map[string]string{"B24_WEBHOOK_URL": portal.WebhookURL(), "B24_ALLOW_HTTP": "1"}), &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v (stderr: %s)", err, stderr.String())
	}
	id, err := strconv.Atoi(strings.TrimSpace(stdout.String()))
	if err != nil {
		t.Fatalf("stdout is %q, want the lead id", stdout.String())
	}
	item := portal.CRMItem(bitrixtest.EntityLead, id)
	if item == nil {
		t.Fatalf("lead %d is not on the portal", id)
	}
	for k, want := range map[string]string{"title": "Ada Lovelace", "name": "Ada", "lastName": "Lovelace", "comments": "from a test"} {
		if item[k] != want {
			t.Errorf("%s = %v, want %q", k, item[k], want)
		}
	}
	want := []fmEntry{
		{"PHONE", "+44 20 7946 0000", "WORK"}, {"PHONE", "+44 20 7946 0001", "WORK"}, {"PHONE", "+44 20 7946 0002", "WORK"},
		{"EMAIL", "ada@example.com", "WORK"},
	}
	if d := cmp.Diff(want, storedFM(item)); d != "" {
		t.Errorf("multi-fields (-want +got)\n%s", d)
	}
	// On the wire: one crm.lead.add with nested fields[PHONE][i][VALUE].
	calls := portal.Calls()
	if len(calls) != 1 || calls[0].Method != "crm.lead.add" || calls[0].AuthKind != bitrixtest.AuthWebhook {
		t.Fatalf("calls = %+v, want one crm.lead.add by webhook", calls)
	}
	fields := calls[0].Params["fields"].(map[string]any)
	phones := fields["PHONE"].([]any)
	if len(phones) != 3 || phones[1].(map[string]any)["VALUE"] != "+44 20 7946 0001" {
		t.Errorf("fields[PHONE] sent as %v", fields["PHONE"])
	}
	if strings.Contains(stderr.String(), portal.WebhookSecret()) {
		t.Error("the webhook secret was printed")
	}
}

// TestDemo runs with no configuration at all.
func TestDemo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), nil, envMap(map[string]string{"CI": "true"}), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v (stderr: %s)", err, stderr.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != "1" {
		t.Errorf("stdout = %q, want the id of the first lead", got)
	}
	for _, want := range []string{"fake portal", `stored lead 1 "Jane Roe"`, "PHONE +1 555 0100 (WORK)", "EMAIL jane.roe@example.com (WORK)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestErrors checks that each failure gets a message a user can act on,
// without the webhook secret in it.
func TestErrors(t *testing.T) {
	t.Parallel()
	portal := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit())
	good := portal.WebhookURL()
	wrongSecret := strings.Replace(good, portal.WebhookSecret(), "wrongsecret0000", 1)
	denied := bitrixtest.NewServer(t, bitrixtest.WithoutRateLimit(), bitrixtest.WithScope("imbot"))

	for _, tc := range []struct {
		name   string
		url    string
		args   []string
		fail   func()
		want   []string
		secret string
	}{
		{name: "not a webhook URL", url: "https://portal.example.com/crm/", want: []string{"bad webhook URL", "/rest/{user}/{secret}/"}},
		{name: "plain http", url: "http://portal.example.com/rest/1/topsecret123/", want: []string{"bad webhook URL", "http"}, secret: "topsecret123"},
		{name: "wrong secret", url: wrongSecret, want: []string{"the portal refused the lead", "check the user id and secret"}, secret: "wrongsecret0000"},
		{name: "no crm scope", url: denied.WebhookURL(), want: []string{"the portal refused the lead", "\"crm\" scope"}, secret: denied.WebhookSecret()},
		{name: "portal error", url: good, fail: func() { portal.FailMethod("crm.lead.add", 1, 400, "ERROR_CORE") }, want: []string{"the portal refused the lead", "ERROR_CORE"}, secret: portal.WebhookSecret()},
		{name: "no name", url: good, args: []string{"-phone", "1"}, want: []string{"-title or a -name"}},
		{name: "bad e-mail", url: good, args: []string{"-name", "X", "-email", "nobody"}, want: []string{`"nobody" is not an e-mail address`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fail != nil {
				tc.fail()
			}
			args := tc.args
			if args == nil {
				args = []string{"-name", "X"}
			}
			var stdout, stderr bytes.Buffer
			allowHTTP := "1"
			if tc.name == "plain http" {
				allowHTTP = ""
			}
			err := run(t.Context(), args, envMap(map[string]string{"B24_WEBHOOK_URL": tc.url, "B24_ALLOW_HTTP": allowHTTP}), &stdout, &stderr)
			if err == nil {
				t.Fatalf("run succeeded (stdout %q)", stdout.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.secret != "" && strings.Contains(err.Error()+stderr.String(), tc.secret) {
				t.Errorf("the secret leaked: %v", err)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q on failure", stdout.String())
			}
		})
	}
}
