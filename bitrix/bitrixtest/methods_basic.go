package bitrixtest

import (
	"sort"
	"strconv"

	"github.com/b24go/sdk/internal/phpform"
)

var basicMethods = []method{
	{"batch", "basic", methodBatch},
	{"server.time", "basic", serverTime},
	{"user.current", "basic", userCurrent},
	{"profile", "basic", methodProfile},
	{"user.get", "user", userGet},
	{"app.info", "basic", appInfo},
	{"scope", "basic", methodScope},
	{"methods", "basic", methodMethods},
}

// serverTime implements server.time.
func serverTime(c *Request) (Result, error) {
	return ok(c.now.In(c.s.cfg.loc).Format("2006-01-02T15:04:05-07:00"))
}

// userCurrent implements user.current.
func userCurrent(c *Request) (Result, error) {
	return ok(userRecord(c.s.ensureUser(c.auth.userID), c))
}

// methodProfile implements profile.
func methodProfile(c *Request) (Result, error) {
	u := c.s.ensureUser(c.auth.userID)
	m := phpform.NewMap()
	// api-reference/common/users/profile.md: ID is a string; the
	// returned-data table lists these keys and no others.
	m.Set("ID", strconv.Itoa(u.ID))
	m.Set("ADMIN", u.Admin)
	m.Set("NAME", u.Name)
	m.Set("LAST_NAME", u.LastName)
	m.Set("PERSONAL_GENDER", u.Gender)
	m.Set("PERSONAL_PHOTO", "")
	m.Set("TIME_ZONE", "")
	return ok(m)
}

// userGet implements user.get.
func userGet(c *Request) (Result, error) {
	ids := make([]int, 0, len(c.s.users))
	for id, u := range c.s.users {
		if !u.IsBot {
			ids = append(ids, id)
		}
	}
	sort.Ints(ids)
	want := 0
	if f := ciMap(c.params, "filter"); f != nil {
		want = toInt(ciGet(f, "ID"))
	} else if v := ciGet(c.params, "ID"); v != nil {
		want = toInt(v)
	}
	var out []any
	for _, id := range ids {
		if want == 0 || id == want {
			out = append(out, userRecord(c.s.users[id], c))
		}
	}
	if out == nil {
		out = []any{}
	}
	return Result{Value: out, Total: intp(len(out))}, nil
}

// appInfo implements app.info.
func appInfo(c *Request) (Result, error) {
	m := phpform.NewMap()
	if c.auth.kind == AuthOAuth {
		m.Set("ID", 1)
		m.Set("CODE", c.s.app.ClientID)
		m.Set("VERSION", 1)
		m.Set("STATUS", "L")
		m.Set("INSTALLED", c.s.installed)
		m.Set("PAYMENT_EXPIRED", "N")
		m.Set("DAYS", nil)
		m.Set("LANGUAGE_ID", "en")
		m.Set("LICENSE", "en_project")
		m.Set("LICENSE_TYPE", "project")
		m.Set("LICENSE_FAMILY", "project")
	} else {
		m.Set("SCOPE", stringsToAny(c.s.cfg.scope))
		m.Set("LICENSE", "en_project")
		m.Set("LICENSE_TYPE", "project")
		m.Set("LICENSE_FAMILY", "project")
	}
	return ok(m)
}

// methodScope implements scope.
func methodScope(c *Request) (Result, error) {
	return ok(stringsToAny(c.s.cfg.scope))
}

// methodMethods implements methods: the names in the server's method table, stubs included.
func methodMethods(c *Request) (Result, error) {
	names := make([]string, 0, len(c.s.methods))
	for n := range c.s.methods {
		names = append(names, n)
	}
	sort.Strings(names)
	return ok(stringsToAny(names))
}
