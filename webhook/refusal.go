package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/b24go/sdk/events"
)

// Refusals of the install path that only the Handler knows of
// (events.RefusalReason knows the rest).
var (
	errUnknownOAuthServer = errors.New("the event names an unknown OAuth server")
	errInstallRejected    = errors.New("the install check (WithInstallVerifier) refused it")
)

// refusalReason returns the events.Refused* code of an authentication
// error (401), "" for any other error (500: the check itself failed).
func refusalReason(err error) string {
	switch err { // the sentinels Verify returns unwrapped: no chain to walk
	case events.ErrTokenMismatch:
		return events.RefusedTokenMismatch
	case events.ErrMissingToken:
		return events.RefusedMissingToken
	}
	if !errors.Is(err, events.ErrMissingToken) && !errors.Is(err, events.ErrTokenMismatch) &&
		!errors.Is(err, events.ErrInstallUnverified) {
		return ""
	}
	switch {
	case errors.Is(err, errUnknownOAuthServer):
		return events.RefusedUnknownServer
	case errors.Is(err, errInstallRejected):
		return events.RefusedInstallRefused
	}
	if r := events.RefusalReason(err); r != "" {
		return r
	}
	return events.RefusedInstallProof // an install the proof refused
}

// refusalDescriptions are the error_description of each refusal.
var refusalDescriptions = map[string]string{
	events.RefusedMissingToken:   "the event has no auth[application_token]",
	events.RefusedTokenMismatch:  "auth[application_token] matches no token of this receiver",
	events.RefusedUnknownPortal:  "no application token is known for the event's portal (auth[member_id]): no verified ONAPPINSTALL was received from it",
	events.RefusedNoMemberID:     "the event has no auth[member_id] to look its application token up",
	events.RefusedInstallProof:   "the install event could not be proven at the OAuth server",
	events.RefusedUnknownServer:  "the install event names an OAuth server this receiver does not use (WithOAuthServers)",
	events.RefusedInstallRefused: "the receiver's install check refused the install event",
}

// refusalBodies are the 401 bodies, built once: a refusal costs little.
var refusalBodies = func() map[string][]byte {
	m := make(map[string][]byte, len(refusalDescriptions))
	for code, desc := range refusalDescriptions {
		b, _ := json.Marshal(struct {
			Error  string `json:"error"`
			Reason string `json:"reason"`
			Desc   string `json:"error_description"`
		}{"invalid_token", code, desc})
		m[code] = append(b, '\n')
	}
	return m
}()

// writeRefusal answers 401 with the body of reason.
func writeRefusal(w http.ResponseWriter, reason string) {
	setJSONHeaders(w.Header())
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write(refusalBodies[reason])
}

// refusalLog lets one refusal a second through to the log, so that a
// flood of forged deliveries neither floods the log nor costs a log line
// each.
type refusalLog struct {
	last    atomic.Int64 // unix nanoseconds of the last one logged
	skipped atomic.Int64 // refusals not logged since
}

// refused logs a refused delivery at Warn (to slog.Default() without
// WithLogger): the event's name, its claimed portal and member id, the
// reason code and the error, which quotes no token.
func (h *Handler) refused(ctx context.Context, ev func() *events.Event, reason string, err error, received time.Time) {
	now := received.UnixNano()
	last := h.refusals.last.Load()
	if last != 0 && now-last < int64(time.Second) || !h.refusals.last.CompareAndSwap(last, now) {
		h.refusals.skipped.Add(1)
		return
	}
	log := h.cfg.logger
	if h.cfg.defaultLog {
		log = slog.Default()
	}
	log.LogAttrs(ctx, slog.LevelWarn, "webhook: delivery refused", slog.String("reason", reason),
		slog.Any("event", ev()), slog.String("error", err.Error()), slog.Int64("not_logged_since", h.refusals.skipped.Swap(0)))
}
