package imbotv2

import "reflect"

// newOf returns a pointer to a new zero value of v's (pointed-to) type.
func newOf(v any) any {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return reflect.New(t).Interface()
}
