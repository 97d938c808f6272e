package bitrixtest

import (
	"time"
)

// bucketTake implements the portal's leaky bucket: the level drains by the
// rate per second; a request that would lift it over the burst is refused.
// It runs under s.mu.
func (s *Server) bucketTake(now time.Time) bool {
	if !s.bucketAt.IsZero() {
		el := now.Sub(s.bucketAt).Seconds()
		if el > 0 {
			s.bucketLevel -= el * s.cfg.ratePerSecond
			if s.bucketLevel < 0 {
				s.bucketLevel = 0
			}
		}
	}
	// A clock set back (SetTime, control clock/set) is no elapsed time:
	// the level stays, and draining resumes from now instead of waiting
	// for the clock to catch up with the old bucketAt.
	s.bucketAt = now
	if s.bucketLevel+1 > float64(s.cfg.rateBurst) {
		return false
	}
	s.bucketLevel++
	return true
}

type opKey struct {
	identity string
	method   string
}

// opBuckets are the ten one-minute buckets of one (caller, method) pair.
type opBuckets struct {
	buckets map[int64]*opBucket
}

type opBucket struct {
	first time.Time // start of the first call recorded in the bucket
	sum   float64
}

const (
	opBucketSize  = 60
	opWindow      = 600 * time.Second
	opMinimalTime = 100 * time.Millisecond
)

func (s *Server) opLimited(c *Request) bool {
	return s.cfg.operatingOn && c.method != "batch" && (c.auth.kind == AuthWebhook || c.auth.kind == AuthOAuth)
}

// operatingState returns the accumulated operating time and, when known,
// the unix time the oldest bucket expires.
func (s *Server) operatingState(c *Request) (float64, *int64) {
	if !s.opLimited(c) {
		return 0, nil
	}
	ob := s.operating[opKey{c.auth.identity(), c.method}]
	if ob == nil {
		return 0, nil
	}
	now := s.now()
	var sum float64
	var oldest time.Time
	for k, b := range ob.buckets {
		exp := b.first.Add(opWindow)
		if !now.Before(exp) {
			delete(ob.buckets, k)
			continue
		}
		sum += b.sum
		if oldest.IsZero() || b.first.Before(oldest) {
			oldest = b.first
		}
	}
	if oldest.IsZero() {
		return 0, nil
	}
	reset := oldest.Add(opWindow).Unix()
	return sum, &reset
}

func (s *Server) operatingCheck(c *Request) *APIError {
	if !s.opLimited(c) {
		return nil
	}
	op, _ := s.operatingState(c)
	if op > s.cfg.operatingLimit.Seconds() {
		return errf(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.")
	}
	return nil
}

func (s *Server) operatingCharge(c *Request, cost time.Duration) {
	if !s.opLimited(c) || cost <= opMinimalTime {
		return
	}
	k := opKey{c.auth.identity(), c.method}
	ob := s.operating[k]
	if ob == nil {
		ob = &opBuckets{buckets: map[int64]*opBucket{}}
		s.operating[k] = ob
	}
	n := c.now.Unix() / opBucketSize
	b := ob.buckets[n]
	if b == nil || !c.now.Before(b.first.Add(opWindow)) {
		b = &opBucket{first: c.now}
		ob.buckets[n] = b
	}
	b.sum += cost.Seconds()
}
