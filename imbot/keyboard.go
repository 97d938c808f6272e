package imbot

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// MaxPayloadSize is the largest JSON encoding of a KEYBOARD, ATTACH or MENU
// the SDK sends: the imbot documentation allows 30 KB for each and the
// portal answers KEYBOARD_OVERSIZE, ATTACH_OVERSIZE or MENU_OVERSIZE above
// it. (Some portal versions accept up to 60,000 characters; the SDK keeps to
// the documented limit.)
const MaxPayloadSize = 30 * 1024

// ColorToken is a theme colour of a button, an attachment or a grid value.
type ColorToken string

// Colour tokens.
const (
	ColorTokenPrimary   ColorToken = "primary"
	ColorTokenSecondary ColorToken = "secondary"
	ColorTokenAlert     ColorToken = "alert"
	ColorTokenBase      ColorToken = "base"
)

func (t ColorToken) valid() bool {
	switch t {
	case "", ColorTokenPrimary, ColorTokenSecondary, ColorTokenAlert, ColorTokenBase:
		return true
	}
	return false
}

// ButtonDisplay is how a button is laid out.
type ButtonDisplay string

// Button layouts.
const (
	// DisplayLine places buttons one after another on a line.
	DisplayLine ButtonDisplay = "LINE"
	// DisplayBlock gives the button a line of its own.
	DisplayBlock ButtonDisplay = "BLOCK"
)

// ButtonAction is an instant client-side action of a button (REST revision 28+).
type ButtonAction string

// Button actions; ActionValue says what each acts on.
const (
	ActionPut    ButtonAction = "PUT"    // insert ActionValue into the input field
	ActionSend   ButtonAction = "SEND"   // send ActionValue as a message
	ActionCopy   ButtonAction = "COPY"   // copy ActionValue to the clipboard
	ActionCall   ButtonAction = "CALL"   // call the phone number ActionValue
	ActionDialog ButtonAction = "DIALOG" // open the dialog ActionValue (user id or chat<id>)
)

// Button is one keyboard button. Text is required, and exactly one of Link,
// Command, AppID or Action says what a press does.
type Button struct {
	Text          string        // TEXT, required
	Link          string        // LINK: open this URL (http(s) or a portal path "/...")
	Command       string        // COMMAND: send this bot command (ONIMCOMMANDADD)
	CommandParams string        // COMMAND_PARAMS, with Command
	AppID         int           // APP_ID: open this chat application
	AppParams     string        // APP_PARAMS, with AppID
	Action        ButtonAction  // ACTION: an instant action
	ActionValue   string        // ACTION_VALUE, required with Action
	BgColorToken  ColorToken    // BG_COLOR_TOKEN
	BgColor       string        // BG_COLOR "#rrggbb" (open channels)
	TextColor     string        // TEXT_COLOR "#rrggbb" (open channels)
	Display       ButtonDisplay // DISPLAY, LINE or BLOCK
	Block         bool          // BLOCK=Y: lock the keyboard after a press
	Disabled      bool          // DISABLED=Y
	Width         int           // WIDTH in pixels (0: automatic)
}

// Keyboard builds the KEYBOARD of a message: rows of buttons under the
// message. Add buttons with [Keyboard.Add] and start a new row with
// [Keyboard.Row]. A Keyboard is validated when it is sent (or by
// [Keyboard.Validate]): it needs at least one button, every button needs
// text and one action, and its JSON must fit in [MaxPayloadSize].
type Keyboard struct {
	rows [][]Button
}

// NewKeyboard returns a keyboard whose first row holds buttons.
func NewKeyboard(buttons ...Button) *Keyboard {
	k := &Keyboard{}
	return k.Add(buttons...)
}

// Add appends buttons to the current row.
func (k *Keyboard) Add(buttons ...Button) *Keyboard {
	if len(k.rows) == 0 {
		k.rows = append(k.rows, nil)
	}
	last := len(k.rows) - 1
	k.rows[last] = append(k.rows[last], buttons...)
	return k
}

// Row starts a new row (a {"TYPE":"NEWLINE"} separator on the wire) and
// appends buttons to it.
func (k *Keyboard) Row(buttons ...Button) *Keyboard {
	k.rows = append(k.rows, nil)
	return k.Add(buttons...)
}

// Len returns the number of buttons.
func (k *Keyboard) Len() int {
	n := 0
	for _, r := range k.rows {
		n += len(r)
	}
	return n
}

var hexColorRe = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// checkLink accepts absolute http(s) URLs and portal paths ("/crm/...").
func checkLink(field, u string) error {
	if strings.ContainsAny(u, " \t\r\n") {
		return invalid("", field, "link contains white space")
	}
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
		if len(u) > len("https://") && !strings.HasSuffix(l, "://") {
			return nil
		}
		return invalid("", field, "link has no host")
	}
	if strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") {
		return nil
	}
	return invalid("", field, "link must be an http(s) URL or a path starting with /, got %.60q", u)
}

func (b *Button) validate(field string) error {
	if strings.TrimSpace(b.Text) == "" {
		return invalid("", field+".TEXT", "button text is empty")
	}
	kinds := 0
	if b.Link != "" {
		kinds++
		if err := checkLink(field+".LINK", b.Link); err != nil {
			return err
		}
	}
	if b.Command != "" {
		kinds++
		if err := checkCommandName(field+".COMMAND", b.Command); err != nil {
			return err
		}
	} else if b.CommandParams != "" {
		return invalid("", field+".COMMAND_PARAMS", "set without COMMAND")
	}
	if b.AppID != 0 {
		kinds++
		if b.AppID < 0 {
			return invalid("", field+".APP_ID", "must be a positive id")
		}
	} else if b.AppParams != "" {
		return invalid("", field+".APP_PARAMS", "set without APP_ID")
	}
	if b.Action != "" {
		kinds++
		switch b.Action {
		case ActionPut, ActionSend, ActionCopy, ActionCall, ActionDialog:
		default:
			return invalid("", field+".ACTION", "unknown action %q (want PUT, SEND, COPY, CALL or DIALOG)", b.Action)
		}
		if b.ActionValue == "" {
			return invalid("", field+".ACTION_VALUE", "required with ACTION %s", b.Action)
		}
		if b.Action == ActionDialog {
			if err := DialogID(b.ActionValue).Validate(); err != nil {
				return invalid("", field+".ACTION_VALUE", "%v", err)
			}
		}
	} else if b.ActionValue != "" {
		return invalid("", field+".ACTION_VALUE", "set without ACTION")
	}
	switch {
	case kinds == 0:
		return invalid("", field, "button %q does nothing: set LINK, COMMAND, APP_ID or ACTION", b.Text)
	case kinds > 1:
		return invalid("", field, "button %q has more than one of LINK, COMMAND, APP_ID and ACTION", b.Text)
	}
	if !b.BgColorToken.valid() {
		return invalid("", field+".BG_COLOR_TOKEN", "unknown colour token %q", b.BgColorToken)
	}
	for _, c := range []struct{ name, v string }{{"BG_COLOR", b.BgColor}, {"TEXT_COLOR", b.TextColor}} {
		if c.v != "" && !hexColorRe.MatchString(c.v) {
			return invalid("", field+"."+c.name, "want a hex colour like #29619b, got %q", c.v)
		}
	}
	switch b.Display {
	case "", DisplayLine, DisplayBlock:
	default:
		return invalid("", field+".DISPLAY", "want LINE or BLOCK, got %q", b.Display)
	}
	if b.Width < 0 {
		return invalid("", field+".WIDTH", "negative width")
	}
	return nil
}

func (b *Button) wire() map[string]any {
	m := map[string]any{"TEXT": b.Text}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("LINK", b.Link)
	set("COMMAND", b.Command)
	set("COMMAND_PARAMS", b.CommandParams)
	if b.AppID > 0 {
		m["APP_ID"] = b.AppID
	}
	set("APP_PARAMS", b.AppParams)
	set("ACTION", string(b.Action))
	set("ACTION_VALUE", b.ActionValue)
	set("BG_COLOR_TOKEN", string(b.BgColorToken))
	set("BG_COLOR", b.BgColor)
	set("TEXT_COLOR", b.TextColor)
	set("DISPLAY", string(b.Display))
	if b.Block {
		m["BLOCK"] = "Y"
	}
	if b.Disabled {
		m["DISABLED"] = "Y"
	}
	if b.Width > 0 {
		m["WIDTH"] = b.Width
	}
	return m
}

// Validate checks the keyboard against the portal's rules.
func (k *Keyboard) Validate() error {
	_, err := k.build()
	return err
}

// MarshalJSON returns the documented KEYBOARD JSON,
// {"BUTTONS":[{...},{"TYPE":"NEWLINE"},{...}]}, or the validation error.
func (k *Keyboard) MarshalJSON() ([]byte, error) { return k.build() }

func (k *Keyboard) build() ([]byte, error) {
	if k == nil || k.Len() == 0 {
		return nil, invalid("", "KEYBOARD", "keyboard has no buttons")
	}
	var buttons []any
	n := 0
	for _, row := range k.rows {
		if len(row) == 0 {
			continue // an empty row would be two NEWLINEs in a row
		}
		if len(buttons) > 0 {
			buttons = append(buttons, map[string]any{"TYPE": "NEWLINE"})
		}
		for i := range row {
			if err := row[i].validate(fmt.Sprintf("KEYBOARD.BUTTONS[%d]", n)); err != nil {
				return nil, err
			}
			buttons = append(buttons, row[i].wire())
			n++
		}
	}
	b, err := json.Marshal(map[string]any{"BUTTONS": buttons})
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPayloadSize {
		return nil, invalid("", "KEYBOARD", "JSON is %d bytes, over the portal's limit of %d", len(b), MaxPayloadSize)
	}
	return b, nil
}

// MenuItem is one entry of a message's context MENU: Text and exactly one
// of Link, Command or AppID (or Action with ActionValue).
type MenuItem struct {
	Text          string       // TEXT, required
	Link          string       // LINK
	Command       string       // COMMAND
	CommandParams string       // COMMAND_PARAMS
	AppID         int          // APP_ID
	AppParams     string       // APP_PARAMS
	Action        ButtonAction // ACTION
	ActionValue   string       // ACTION_VALUE
	Disabled      bool         // DISABLED=Y
}

// Menu is the MENU of a message: extra items of its context menu.
type Menu []MenuItem

// Validate checks the menu against the portal's rules.
func (m Menu) Validate() error {
	_, err := m.build()
	return err
}

// MarshalJSON returns the documented MENU JSON (an array of items) or the
// validation error.
func (m Menu) MarshalJSON() ([]byte, error) { return m.build() }

func (m Menu) build() ([]byte, error) {
	if len(m) == 0 {
		return nil, invalid("", "MENU", "menu has no items")
	}
	items := make([]any, 0, len(m))
	for i, it := range m {
		b := Button{Text: it.Text, Link: it.Link, Command: it.Command, CommandParams: it.CommandParams,
			AppID: it.AppID, AppParams: it.AppParams, Action: it.Action, ActionValue: it.ActionValue, Disabled: it.Disabled}
		if err := b.validate(fmt.Sprintf("MENU[%d]", i)); err != nil {
			return nil, err
		}
		items = append(items, b.wire())
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxPayloadSize {
		return nil, invalid("", "MENU", "JSON is %d bytes, over the portal's limit of %d", len(b), MaxPayloadSize)
	}
	return b, nil
}

var commandRe = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,64}$`)

func checkCommandName(field, cmd string) error {
	if !commandRe.MatchString(cmd) {
		return invalid("", field, "command %.40q must be latin letters, digits, _ or - without spaces", cmd)
	}
	return nil
}
