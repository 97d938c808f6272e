package bitrixtest

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/b24go/sdk/internal/phpform"
)

const batchMaxLength = 50

// refRE is the portal's reference pattern, /\$(result|next|total|time|error)([^\s]*)/i
// (core modules/rest/classes/general/rest_util.php processBatchStructure, as
// quoted in shared/docs/bitrix24-protocol.md §4.2): a reference embedded in
// a value swallows the rest of the token up to the next whitespace.
var refRE = regexp.MustCompile(`(?i)\$(result|next|total|time|error)(\S*)`)

// refSegRE finds the [key] segments of a reference's tail; anything between
// or after them ("-x" in "$result[b][TITLE]-x") is dropped.
var refSegRE = regexp.MustCompile(`\[([^\]]+)\]`)

// phpBool casts a parameter as PHP's (bool) does: absent, "", "0", 0, 0.0,
// false and an empty array are false; everything else, "false", "N" and
// "n" included, is true. The portal reads batch's halt this way (issue 11's
// audit of the server; settings/how-to-call-rest-api/batch.md documents only
// true/false and 1/0 — see docs/CONFORMANCE.md).
func phpBool(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != "" && x != "0"
	case json.Number:
		f, err := x.Float64()
		return err != nil || f != 0
	case float64:
		return x != 0
	case int:
		return x != 0
	case *phpform.Map:
		return x.Len() > 0
	}
	return true
}

// methodBatch implements "batch": commands run in key order with the caller's
// auth; errors go to result_error; the answer is always HTTP 200.
func methodBatch(c *Request) (Result, error) {
	cmds, _ := ciGet(c.params, "cmd").(*phpform.Map)
	halt := phpBool(ciGet(c.params, "halt"))
	res, resErr, resTotal, resNext, resTime := phpform.NewMap(), phpform.NewMap(), phpform.NewMap(), phpform.NewMap(), phpform.NewMap()
	acc := map[string]*phpform.Map{"result": res, "error": resErr, "total": resTotal, "next": resNext, "time": resTime}
	for i, key := range cmds.Keys() {
		v, _ := cmds.Get(key)
		if i >= batchMaxLength {
			resErr.Set(key, map[string]any{"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"})
			continue
		}
		str, isStr := v.(string)
		if !isStr {
			continue // non-string commands are skipped, as in PHP
		}
		path, query, _ := strings.Cut(str, "?")
		method := strings.ToLower(strings.Trim(path, "/ "))
		method = strings.TrimSuffix(method, ".json")
		params, err := phpform.Parse(query)
		if err != nil {
			resErr.Set(key, map[string]any{"error": "INVALID_REQUEST", "error_description": "Command could not be parsed"})
			if halt {
				break
			}
			continue
		}
		for _, k := range []string{"auth", "access_token"} {
			params.Delete(k)
		}
		resolveRefs(params, acc)
		if method == "batch" {
			resErr.Set(key, map[string]any{"error": "ERROR_BATCH_METHOD_NOT_ALLOWED", "error_description": "Method is not allowed for batch usage"})
			if halt {
				break
			}
			continue
		}
		sub := &Request{s: c.s, method: method, params: params, auth: c.auth, now: c.now, inBatch: true, connector: c.connector, out: c.out, fault: c.fault}
		rep, tb, aerr := c.s.invoke(sub)
		if aerr != nil {
			resErr.Set(key, map[string]any{"error": aerr.Code, "error_description": aerr.Description})
			if halt {
				break
			}
			continue
		}
		res.Set(key, rep.Value)
		if rep.Total != nil {
			resTotal.Set(key, *rep.Total)
		}
		if rep.Next != nil {
			resNext.Set(key, *rep.Next)
		}
		resTime.Set(key, tb)
	}
	out := phpform.NewMap()
	out.Set("result", res)
	out.Set("result_error", resErr)
	out.Set("result_total", resTotal)
	out.Set("result_next", resNext)
	out.Set("result_time", resTime)
	return ok(out)
}

// resolveRefs replaces $result[...] (and $next, $total, $time, $error)
// references in the leaves of a command's parameters.
func resolveRefs(m *phpform.Map, acc map[string]*phpform.Map) {
	for _, k := range m.Keys() {
		v, _ := m.Get(k)
		switch x := v.(type) {
		case *phpform.Map:
			resolveRefs(x, acc)
		case string:
			if !strings.Contains(x, "$") {
				continue
			}
			locs := refRE.FindAllStringSubmatchIndex(x, -1)
			if len(locs) == 0 {
				continue
			}
			if len(locs) == 1 && locs[0][0] == 0 && locs[0][1] == len(x) {
				val := lookupRef(x, locs[0], acc)
				m.Set(k, toTree(val))
				continue
			}
			var b strings.Builder
			last := 0
			for _, loc := range locs {
				b.WriteString(x[last:loc[0]])
				val := lookupRef(x, loc, acc)
				if s, ok := scalarString(val); ok {
					b.WriteString(s)
				} else {
					b.WriteString(x[loc[0]:loc[1]])
				}
				last = loc[1]
			}
			b.WriteString(x[last:])
			m.Set(k, b.String())
		}
	}
}

func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int, int64, float64:
		return leafStr(x), true
	case json.Number:
		return string(x), true
	}
	return "", false
}

func lookupRef(s string, loc []int, acc map[string]*phpform.Map) any {
	kind := strings.ToLower(s[loc[2]:loc[3]])
	var cur any = acc[kind]
	for _, m := range refSegRE.FindAllStringSubmatch(s[loc[4]:loc[5]], -1) {
		next, ok := step(cur, m[1])
		if !ok {
			break // keep the value reached so far
		}
		cur = next
	}
	return cur
}

func step(cur any, seg string) (any, bool) {
	switch x := cur.(type) {
	case *phpform.Map:
		return x.Get(seg)
	case *obj:
		return x.get(seg)
	case map[string]any:
		v, ok := x[seg]
		return v, ok
	case []any:
		i, err := strconv.Atoi(seg)
		if err != nil || i < 0 || i >= len(x) {
			return nil, false
		}
		return x[i], true
	case nil, string, int, int64, float64, bool, json.Number:
		return nil, false
	}
	// Anything else (structs such as the time block): through JSON.
	b, err := json.Marshal(cur)
	if err != nil {
		return nil, false
	}
	tree, err := phpform.ParseJSON(b)
	if err != nil {
		return nil, false
	}
	return step(tree, seg)
}
