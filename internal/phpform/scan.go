package phpform

import "strings"

// ScanFlat reads the pairs of query whose top-level name keep accepts
// without building a tree, when each of them is in one of the plain forms
// name=value and name[sub]=value (brackets escaped or not, name and sub
// made of letters, digits and "_"): set gets name, sub ("" for the first
// form) and the unescaped value, in query order (the last of repeated keys
// wins, as in [Limits.Parse]); the other pairs are only scanned, as by
// [Limits.ParseNames]. It reports false, having called set for some
// pairs, when a key of a kept name has any other form, or when query holds
// more than MaxPairs pairs: the caller then takes the tree of
// [Limits.ParseNames], which is always right. When it reports true, the
// values set gets are exactly the leaves that tree holds at name and
// name[sub], and no kept name has other leaves (a name given both forms
// is left to the caller).
func (l Limits) ScanFlat(query string, keep func(name string) bool, set func(name, sub, value string)) bool {
	a := arena{chunk: 128} // the few escaped values of an envelope (endpoint URLs)
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
		set(name, sub, a.unescape(v, len(query)))
	}
	return true
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
