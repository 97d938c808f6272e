package phpform

import "strings"

// ScanFlat reads the pairs of query whose top-level name keep accepts
// without building a tree, when each of them is in one of the plain forms
// name=value and name[sub]=value (brackets escaped or not, name and sub
// made of letters, digits and "_"): set gets name, sub ("" for the first
// form) and the value as it stands in query, still escaped ([Unescape]
// decodes it), in query order (the last of repeated keys wins, as in
// [Limits.Parse]); the other pairs are only scanned, as by
// [Limits.ParseNames]. It reports false, having called set for some
// pairs, when a key of a kept name has any other form, or when query holds
// more than MaxPairs pairs: the caller then takes the tree of
// [Limits.ParseNames], which is always right. When it reports true, the
// unescaped values set gets are exactly the leaves that tree holds at name
// and name[sub], and no kept name has other leaves (a name given both
// forms is left to the caller).
//
// Leaving the values escaped lets a caller decode only those it needs:
// the webhook receiver unescapes the event name and the credentials it
// checks, and the other values of a delivery it refuses never.
func (l Limits) ScanFlat(query string, keep func(name string) bool, set func(name, sub, escaped string)) bool {
	pairs := 0
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		if pair == "" {
			continue
		}
		pairs++
		if l.MaxPairs > 0 && pairs > l.MaxPairs {
			return false
		}
		k, v, _ := strings.Cut(pair, "=")
		if skipName(k, keep) {
			continue
		}
		name, sub, ok := plainKey(k)
		if !ok || !keep(name) {
			return false
		}
		set(name, sub, v)
	}
	return true
}

// Unescape is PHP's urldecode, as [Limits.Parse] decodes values: "+" is a
// space, valid %XX escapes decode, invalid ones stay as they are. It
// returns s itself when there is nothing to decode.
func Unescape(s string) string {
	a := arena{chunk: 1} // one buffer of len(s): the result is no longer
	return a.unescape(s, 0)
}

// plainKey splits k of the form name or name[sub] (brackets escaped or
// not), name and sub made of letters, digits and "_".
func plainKey(k string) (name, sub string, ok bool) {
	i := 0
	for i < len(k) && plainByte(k[i]) {
		i++
	}
	if i == 0 {
		return "", "", false
	}
	name, rest := k[:i], k[i:]
	if rest == "" {
		return name, "", true
	}
	switch {
	case rest[0] == '[':
		rest = rest[1:]
	case escBracket(rest, 0) == '[':
		rest = rest[3:]
	default:
		return "", "", false
	}
	j := 0
	for j < len(rest) && plainByte(rest[j]) {
		j++
	}
	if j == 0 || (rest[j:] != "]" && (len(rest[j:]) != 3 || escBracket(rest, j) != ']')) {
		return "", "", false
	}
	return name, rest[:j], true
}

func plainByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}
