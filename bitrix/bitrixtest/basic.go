package bitrixtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/b24go/sdk/internal/phpform"
)

type user struct {
	ID       int
	Name     string
	LastName string
	Email    string
	Gender   string
	Position string
	Admin    bool
	IsBot    bool
	Active   bool
}

func (u *user) fullName() string { return strings.TrimSpace(u.Name + " " + u.LastName) }

// User describes a portal user (see [Server.AddUser]).
type User struct {
	ID       int
	Name     string
	LastName string
	Email    string
	Admin    bool
}

func (s *Server) seedUsers() {
	s.users[1] = &user{ID: 1, Name: "John", LastName: "Doe", Email: "admin@example.com", Gender: "M", Admin: true, Active: true, Position: "Administrator"}
	s.users[2] = &user{ID: 2, Name: "Svetlana", LastName: "Ivanova", Email: "svetlana@example.com", Gender: "F", Active: true, Position: "Manager"}
	s.users[3] = &user{ID: 3, Name: "Klaus", LastName: "Weber", Email: "klaus@example.com", Gender: "M", Active: true}
	s.nextID["user"] = 100
}

// ensureUser makes sure a user record exists (runs under s.mu).
func (s *Server) ensureUser(id int) *user {
	if u := s.users[id]; u != nil {
		return u
	}
	u := &user{ID: id, Name: "User", LastName: fmt.Sprint(id), Active: true}
	s.users[id] = u
	return u
}

// AddUser creates a portal user and returns its id. Users 1 (John Doe, an
// administrator), 2 and 3 exist from the start.
func (s *Server) AddUser(u User) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := u.ID
	if id == 0 {
		id = s.seq("user")
	}
	s.users[id] = &user{ID: id, Name: u.Name, LastName: u.LastName, Email: u.Email, Admin: u.Admin, Active: true}
	return id
}

// seq returns the next id of a sequence (runs under s.mu).
func (s *Server) seq(name string) int {
	s.nextID[name]++
	return s.nextID[name]
}

func (s *Server) isAdmin(id int) bool {
	u := s.users[id]
	return u != nil && u.Admin
}

func registerBasic() {
	register("batch", "basic", hBatch)
	register("server.time", "basic", func(c *call) (reply, *apiError) {
		return ok(c.now.In(c.s.cfg.loc).Format("2006-01-02T15:04:05-07:00"))
	})
	register("user.current", "basic", func(c *call) (reply, *apiError) {
		return ok(userRecord(c.s.ensureUser(c.auth.userID), c))
	})
	register("profile", "basic", func(c *call) (reply, *apiError) {
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
	})
	register("user.get", "user", func(c *call) (reply, *apiError) {
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
		return reply{result: out, total: intp(len(out))}, nil
	})
	register("app.info", "basic", func(c *call) (reply, *apiError) {
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
	})
	register("scope", "basic", func(c *call) (reply, *apiError) {
		return ok(stringsToAny(c.s.cfg.scope))
	})
	register("methods", "basic", func(c *call) (reply, *apiError) {
		names := make([]string, 0, len(methods))
		for n := range methods {
			names = append(names, n)
		}
		sort.Strings(names)
		return ok(stringsToAny(names))
	})
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func userRecord(u *user, c *call) *phpform.Map {
	m := phpform.NewMap()
	m.Set("ID", fmt.Sprint(u.ID))
	m.Set("XML_ID", "")
	m.Set("ACTIVE", u.Active)
	m.Set("NAME", u.Name)
	m.Set("LAST_NAME", u.LastName)
	m.Set("SECOND_NAME", "")
	m.Set("EMAIL", u.Email)
	m.Set("LAST_LOGIN", c.now.In(c.s.cfg.loc).Format("2006-01-02T15:04:05-07:00"))
	m.Set("DATE_REGISTER", "2023-08-24T03:00:00+03:00")
	m.Set("IS_ONLINE", "Y")
	m.Set("TIME_ZONE_OFFSET", "0")
	m.Set("TIMESTAMP_X", "24.08.2023 13:19:39")
	m.Set("LAST_ACTIVITY_DATE", c.now.In(c.s.cfg.loc).Format("2006-01-02 15:04:05"))
	m.Set("PERSONAL_GENDER", u.Gender)
	m.Set("PERSONAL_BIRTHDAY", "")
	m.Set("WORK_POSITION", u.Position)
	m.Set("UF_EMPLOYMENT_DATE", "")
	dep := phpform.NewMap()
	dep.Append(1)
	m.Set("UF_DEPARTMENT", dep)
	if u.IsBot {
		m.Set("USER_TYPE", "bot")
	} else {
		m.Set("USER_TYPE", "employee")
	}
	return m
}
