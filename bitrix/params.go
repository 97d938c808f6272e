package bitrix

// Params are the parameters of a REST call, in the method's own spelling:
//
//	bitrix.Params{"filter": bitrix.Params{">ID": 10}, "select": []string{"ID", "TITLE"}}
//
// They are encoded as a PHP http_build_query form (fields[PHONE][0][VALUE]=...,
// select[0]=ID, booleans as 1/0; nil values and empty collections are left
// out because a form cannot carry them). Call also accepts structs (json
// tags apply), map[string]any, url.Values, and json.RawMessage (sent as a
// JSON body as-is, for the rare call that needs an empty array or null).
type Params map[string]any

// Ptr returns a pointer to v, for optional fields of request structs.
func Ptr[T any](v T) *T { return &v }

// clone returns a deep copy of the map levels of p (slices and other values
// are shared).
func (p Params) clone() Params {
	out := make(Params, len(p))
	for k, v := range p {
		switch x := v.(type) {
		case Params:
			out[k] = x.clone()
		case map[string]any:
			out[k] = Params(x).clone()
		default:
			out[k] = v
		}
	}
	return out
}

// plain converts p (recursively) to map[string]any so the form encoder sees
// its own map types.
func (p Params) plain() map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		out[k] = plainValue(v)
	}
	return out
}

func plainValue(v any) any {
	switch x := v.(type) {
	case Params:
		return x.plain()
	case map[string]any:
		return Params(x).plain()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	case Ref:
		return x.String()
	}
	return v
}
