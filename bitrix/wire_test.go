package bitrix_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/b24go/sdk/bitrix"
	"github.com/google/go-cmp/cmp"
)

func TestWireInt(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bitrix.Int{`123`: 123, `"123"`: 123, `""`: 0, `null`: 0, `"-5"`: -5, `7.0`: 7, `" 9 "`: 9, `[]`: 0} {
		var n bitrix.Int
		if err := json.Unmarshal([]byte(in), &n); err != nil || n != want {
			t.Errorf("Int(%s) = %d, %v; want %d", in, n, err, want)
		}
	}
	for _, in := range []string{`"abc"`, `1.5`, `{}`, `[1]`} {
		var n bitrix.Int
		if err := json.Unmarshal([]byte(in), &n); err == nil {
			t.Errorf("Int(%s): want an error", in)
		}
	}
	b, _ := json.Marshal(struct{ N bitrix.Int }{42})
	if string(b) != `{"N":42}` {
		t.Errorf("marshal = %s", b)
	}
}

func TestWireFloat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bitrix.Float{`1.5`: 1.5, `"1.50"`: 1.5, `""`: 0, `null`: 0, `"3,25"`: 3.25, `2`: 2} {
		var f bitrix.Float
		if err := json.Unmarshal([]byte(in), &f); err != nil || f != want {
			t.Errorf("Float(%s) = %v, %v; want %v", in, f, err, want)
		}
	}
	var f bitrix.Float
	if err := json.Unmarshal([]byte(`"x"`), &f); err == nil {
		t.Error("want an error")
	}
}

func TestWireBool(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bitrix.Bool{`"Y"`: true, `"N"`: false, `"y"`: true, `"1"`: true, `"0"`: false, `true`: true, `false`: false, `1`: true, `0`: false, `""`: false, `null`: false} {
		var v bitrix.Bool
		if err := json.Unmarshal([]byte(in), &v); err != nil || v != want {
			t.Errorf("Bool(%s) = %v, %v; want %v", in, v, err, want)
		}
	}
	var v bitrix.Bool
	if err := json.Unmarshal([]byte(`"maybe"`), &v); err == nil {
		t.Error("want an error")
	}
	for v, want := range map[bitrix.Bool]string{true: `"Y"`, false: `"N"`} {
		b, _ := json.Marshal(v)
		var back bitrix.Bool
		if string(b) != want || json.Unmarshal(b, &back) != nil || back != v {
			t.Errorf("round trip %v: %s %v", v, b, back)
		}
	}
}

func TestWireTime(t *testing.T) {
	t.Parallel()
	msk := time.FixedZone("", 3*3600)
	tests := map[string]time.Time{
		`"2024-08-29T10:34:19+03:00"`: time.Date(2024, 8, 29, 10, 34, 19, 0, msk),
		`"2024-08-29T10:34:19+0300"`:  time.Date(2024, 8, 29, 10, 34, 19, 0, msk),
		`"2024-08-29"`:                time.Date(2024, 8, 29, 0, 0, 0, 0, time.UTC),
		`"2024-08-29 10:34:19"`:       time.Date(2024, 8, 29, 10, 34, 19, 0, time.UTC),
		`"29.08.2024"`:                time.Date(2024, 8, 29, 0, 0, 0, 0, time.UTC),
		`"29.08.2024 10:34:19"`:       time.Date(2024, 8, 29, 10, 34, 19, 0, time.UTC),
		`"08/29/2024 10:34:19 am"`:    time.Date(2024, 8, 29, 10, 34, 19, 0, time.UTC),
		`""`:                          {},
		`null`:                        {},
	}
	for in, want := range tests {
		var tm bitrix.Time
		if err := json.Unmarshal([]byte(in), &tm); err != nil || !tm.Equal(want) {
			t.Errorf("Time(%s) = %v, %v; want %v", in, tm, err, want)
		}
	}
	var tm bitrix.Time
	if err := json.Unmarshal([]byte(`"yesterday"`), &tm); err == nil {
		t.Error("want an error")
	}
	in := bitrix.Time{Time: time.Date(2024, 8, 29, 10, 34, 19, 0, msk)}
	b, _ := json.Marshal(in)
	var back bitrix.Time
	if string(b) != `"2024-08-29T10:34:19+03:00"` || json.Unmarshal(b, &back) != nil || !back.Equal(in.Time) {
		t.Errorf("round trip: %s %v", b, back)
	}
	if b, _ := json.Marshal(bitrix.Time{}); string(b) != `""` {
		t.Errorf("zero = %s", b)
	}
}

func TestWireObjectAndFlexMap(t *testing.T) {
	t.Parallel()
	type opts struct {
		Color string `json:"COLOR"`
	}
	var v struct {
		A bitrix.Object[opts]                  `json:"a"`
		B bitrix.Object[opts]                  `json:"b"`
		C bitrix.FlexMap[string]               `json:"c"`
		D bitrix.FlexMap[map[string]any]       `json:"d"`
		E bitrix.FlexMap[bitrix.Int]           `json:"e"`
		F bitrix.Object[map[string]bitrix.Int] `json:"f"`
	}
	in := `{"a":[],"b":{"COLOR":"RED"},"c":{"12":"x","15":"y"},"d":[],"e":["5","6"],"f":{}}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Value.Color != "" || v.B.Value.Color != "RED" {
		t.Errorf("objects %+v %+v", v.A, v.B)
	}
	if diff := cmp.Diff(bitrix.FlexMap[string]{"12": "x", "15": "y"}, v.C); diff != "" {
		t.Error(diff)
	}
	if len(v.D) != 0 || v.D == nil {
		t.Errorf("D = %#v", v.D)
	}
	if diff := cmp.Diff(bitrix.FlexMap[bitrix.Int]{"0": 5, "1": 6}, v.E); diff != "" {
		t.Error(diff)
	}
	b, _ := json.Marshal(v.B)
	if string(b) != `{"COLOR":"RED"}` {
		t.Errorf("marshal = %s", b)
	}
}

func TestTimingDecoding(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/resp_single_with_operating.json")
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Time bitrix.Timing `json:"time"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	tm := env.Time
	if tm.Start.Unix() != 1705764932 || tm.Finish.Unix() != 1705764937 || tm.OperatingResetAt.Unix() != 1705765533 ||
		tm.Duration.Round(time.Millisecond) != 4175*time.Millisecond || tm.Processing.Round(time.Millisecond) != 3308*time.Millisecond ||
		tm.Operating.Round(time.Millisecond) != 3308*time.Millisecond || tm.DateStart != "2024-01-20T18:35:32+03:00" ||
		tm.DateFinish != "2024-01-20T18:35:37+03:00" {
		t.Errorf("timing = %+v", tm)
	}
	b, _ := json.Marshal(tm)
	var back bitrix.Timing
	if err := json.Unmarshal(b, &back); err != nil || !back.OperatingResetAt.Equal(tm.OperatingResetAt) || back.Operating.Round(time.Millisecond) != tm.Operating.Round(time.Millisecond) {
		t.Errorf("round trip %s -> %+v", b, back)
	}
	var empty bitrix.Timing
	if err := json.Unmarshal([]byte(`[]`), &empty); err != nil || !empty.Start.IsZero() {
		t.Errorf("[] -> %+v %v", empty, err)
	}
}
