package events

import (
	"testing"

	"github.com/b24go/sdk/internal/phpform"
)

func BenchmarkTmpPieces(b *testing.B) {
	body := fixtureBody(b, "event_ONIMBOTMESSAGEADD_private.json")
	lim := phpform.Limits{MaxDepth: 16, MaxPairs: 10000}
	b.Run("phpform", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			lim.Parse(body)
		}
	})
	tree, _ := lim.Parse(body)
	b.Run("fromTree", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fromTree(tree, false)
		}
	})
	b.Run("string", func(b *testing.B) {
		b.ReportAllocs()
		raw := []byte(body)
		for b.Loop() {
			_ = string(raw)
		}
	})
}
