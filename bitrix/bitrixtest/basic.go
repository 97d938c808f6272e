package bitrixtest

import (
	"fmt"
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

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func userRecord(u *user, c *Request) *phpform.Map {
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
