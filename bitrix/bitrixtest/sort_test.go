package bitrixtest

import (
	"encoding/json"
	"sort"
)

func sortStrings(s []string) { sort.Strings(s) }

type jsonNumber = json.Number
