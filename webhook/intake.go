package webhook

import (
	"context"

	"github.com/b24go/sdk/events"
)

// verifyThenDecode checks the application token of the delivery's
// envelope before its data is decoded, so that a refused delivery costs a
// scan of its body rather than a decode (docs/BENCHMARKS.md, "Refused
// deliveries"), then decodes the event and runs [Handler.authenticate]
// on it. Installs proven at the OAuth server ([WithApp]) need the whole
// event and are decoded first. It returns the event (nil when it went no
// further than the envelope), the authentication error, and the decoding
// error.
func (h *Handler) verifyThenDecode(ctx context.Context, raw *events.Raw, lim events.Limits) (ev *events.Event, authErr, malformed error) {
	verified := false
	if !h.cfg.insecure && (h.cfg.app == nil || raw.Name != events.OnAppInstall && raw.Name != events.OnAppUpdate) {
		env := events.Event{Name: raw.Name, Auth: events.Auth{ApplicationToken: raw.ApplicationToken(), MemberID: raw.MemberID()}}
		if err := h.verifier.Verify(ctx, &env); err != nil {
			return nil, err, nil
		}
		verified = true
	}
	ev, err := lim.Decode(raw)
	if err != nil {
		return nil, nil, err
	}
	// Decode reads the envelope as ReadAny did; check anyway rather than
	// trust a token that was not the one verified.
	verified = verified && ev.Name == raw.Name && ev.Auth.ApplicationToken == raw.ApplicationToken() &&
		ev.Auth.MemberID == raw.MemberID()
	return ev, h.authenticate(ctx, ev, verified), nil
}
