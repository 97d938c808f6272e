package imbot

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Attach builds the ATTACH of a message: a card of content blocks (text,
// links, users, name/value grids, images, files, delimiters). Add blocks
// with its methods; it is validated when sent (or by [Attach.Validate]): it
// needs at least one block, each block its required fields, links must be
// http(s) URLs or portal paths, and the JSON must fit in [MaxPayloadSize].
type Attach struct {
	// ID is the attachment's id within the message (0: not sent).
	ID int `json:"ID,omitempty"`
	// ColorToken is the attachment's theme colour.
	ColorToken ColorToken `json:"COLOR_TOKEN,omitempty"`
	// Color is an explicit "#rrggbb" colour (older clients, open channels).
	Color string `json:"COLOR,omitempty"`

	blocks []attachBlock
}

type attachBlock struct {
	kind  string // MESSAGE, LINK, USER, DELIMITER, GRID, IMAGE, FILE
	text  string
	link  *AttachLink
	user  *AttachUser
	delim *Delimiter
	grid  []GridItem
	image []AttachImage
	file  []AttachFile
}

// NewAttach returns an empty attachment.
func NewAttach() *Attach { return &Attach{} }

// AttachLink is a LINK block: a clickable link with a caption. Link is
// required unless UserID or ChatID is set.
type AttachLink struct {
	Name    string `json:"NAME,omitempty"`    // caption (the link itself when empty)
	Link    string `json:"LINK,omitempty"`    // http(s) URL or portal path
	Desc    string `json:"DESC,omitempty"`    // description under the caption
	Preview string `json:"PREVIEW,omitempty"` // image URL
	Width   int    `json:"WIDTH,omitempty"`   // of the preview
	Height  int    `json:"HEIGHT,omitempty"`  // of the preview
	UserID  int    `json:"USER_ID,omitempty"` // link to a user instead of Link
	ChatID  int    `json:"CHAT_ID,omitempty"` // link to a chat instead of Link
}

// AttachUser is a USER block: a user card. Name is required.
type AttachUser struct {
	Name   string `json:"NAME"`
	Avatar string `json:"AVATAR,omitempty"`  // image URL
	Link   string `json:"LINK,omitempty"`    // profile or external page
	UserID int    `json:"USER_ID,omitempty"` // the portal user
}

// Delimiter is a DELIMITER block: a line between parts of the card.
type Delimiter struct {
	Size  int    `json:"SIZE"`  // length in pixels (0: DefaultDelimiterSize)
	Color string `json:"COLOR"` // "#rrggbb" ("": DefaultDelimiterColor)
}

// Delimiter defaults, as in the portal's documentation.
const (
	DefaultDelimiterSize  = 200
	DefaultDelimiterColor = "#c6c6c6"
)

// GridDisplay is how a grid lays out its name/value pairs.
type GridDisplay string

// Grid layouts.
const (
	GridBlock GridDisplay = "BLOCK" // one pair per line
	GridLine  GridDisplay = "LINE"  // pairs as cards on a line
	GridRow   GridDisplay = "ROW"   // two columns, NAME | VALUE
	GridTable GridDisplay = "TABLE" // a dense table (some clients show ROW)
)

// GridItem is one name/value pair of a GRID block. Display is required,
// and Name or Value.
type GridItem struct {
	Display    GridDisplay `json:"DISPLAY"`
	Name       string      `json:"NAME,omitempty"`
	Value      string      `json:"VALUE,omitempty"`       // BB codes allowed
	Width      int         `json:"WIDTH,omitempty"`       // in pixels
	Height     int         `json:"HEIGHT,omitempty"`      // in pixels
	ColorToken ColorToken  `json:"COLOR_TOKEN,omitempty"` // of the value
	Color      string      `json:"COLOR,omitempty"`       // "#rrggbb" of the value
	Link       string      `json:"LINK,omitempty"`        // of the value
	UserID     int         `json:"USER_ID,omitempty"`     // link the value to a user
	ChatID     int         `json:"CHAT_ID,omitempty"`     // link the value to a chat
}

// AttachImage is one image of an IMAGE block. Link is required.
type AttachImage struct {
	Link    string `json:"LINK"` // the image URL
	Name    string `json:"NAME,omitempty"`
	Preview string `json:"PREVIEW,omitempty"` // a smaller image URL
	Width   int    `json:"WIDTH,omitempty"`
	Height  int    `json:"HEIGHT,omitempty"`
}

// AttachFile is one file of a FILE block. Link is required.
type AttachFile struct {
	Link string `json:"LINK"` // the download URL
	Name string `json:"NAME,omitempty"`
	Size int64  `json:"SIZE,omitempty"` // in bytes
}

// Message appends a MESSAGE block (text with BB codes).
func (a *Attach) Message(text string) *Attach {
	a.blocks = append(a.blocks, attachBlock{kind: "MESSAGE", text: text})
	return a
}

// Link appends a LINK block.
func (a *Attach) Link(l AttachLink) *Attach {
	a.blocks = append(a.blocks, attachBlock{kind: "LINK", link: &l})
	return a
}

// User appends a USER block.
func (a *Attach) User(u AttachUser) *Attach {
	a.blocks = append(a.blocks, attachBlock{kind: "USER", user: &u})
	return a
}

// Delimiter appends a DELIMITER block.
func (a *Attach) Delimiter(d Delimiter) *Attach {
	a.blocks = append(a.blocks, attachBlock{kind: "DELIMITER", delim: &d})
	return a
}

// Grid appends a GRID block of name/value pairs.
func (a *Attach) Grid(items ...GridItem) *Attach {
	a.blocks = append(a.blocks, attachBlock{kind: "GRID", grid: items})
	return a
}

// Image appends an IMAGE block.
func (a *Attach) Image(images ...AttachImage) *Attach {
	a.blocks = append(a.blocks, attachBlock{kind: "IMAGE", image: images})
	return a
}

// File appends a FILE block.
func (a *Attach) File(files ...AttachFile) *Attach {
	a.blocks = append(a.blocks, attachBlock{kind: "FILE", file: files})
	return a
}

// Len returns the number of blocks.
func (a *Attach) Len() int { return len(a.blocks) }

// Validate checks the attachment against the portal's rules.
func (a *Attach) Validate() error {
	_, err := a.build()
	return err
}

// MarshalJSON returns the documented full-form ATTACH JSON,
// {"ID":1,"COLOR_TOKEN":"primary","BLOCKS":[{"MESSAGE":"..."},...]}, or the
// validation error.
func (a *Attach) MarshalJSON() ([]byte, error) { return a.build() }

func (a *Attach) build() ([]byte, error) {
	if a == nil || len(a.blocks) == 0 {
		return nil, invalid("", "ATTACH", "attachment has no blocks")
	}
	if a.ID < 0 {
		return nil, invalid("", "ATTACH.ID", "negative id")
	}
	if !a.ColorToken.valid() {
		return nil, invalid("", "ATTACH.COLOR_TOKEN", "unknown colour token %q", a.ColorToken)
	}
	if a.Color != "" && !hexColorRe.MatchString(a.Color) {
		return nil, invalid("", "ATTACH.COLOR", "want a hex colour like #29619b, got %q", a.Color)
	}
	blocks := make([]map[string]any, 0, len(a.blocks))
	for i, b := range a.blocks {
		field := fmt.Sprintf("ATTACH.BLOCKS[%d].%s", i, b.kind)
		v, err := b.wire(field)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, map[string]any{b.kind: v})
	}
	// attachFields has Attach's tagged fields without its MarshalJSON.
	type attachFields Attach
	js, err := json.Marshal(struct {
		attachFields
		Blocks []map[string]any `json:"BLOCKS"`
	}{attachFields(*a), blocks})
	if err != nil {
		return nil, err
	}
	if len(js) > MaxPayloadSize {
		return nil, invalid("", "ATTACH", "JSON is %d bytes, over the portal's limit of %d", len(js), MaxPayloadSize)
	}
	return js, nil
}

func checkSize(field string, vals ...int) error {
	for _, v := range vals {
		if v < 0 {
			return invalid("", field, "negative size")
		}
	}
	return nil
}

func checkColor(field, c string) error {
	if c != "" && !hexColorRe.MatchString(c) {
		return invalid("", field, "want a hex colour like #29619b, got %q", c)
	}
	return nil
}

func (b attachBlock) wire(field string) (any, error) {
	switch b.kind {
	case "MESSAGE":
		if strings.TrimSpace(b.text) == "" {
			return nil, invalid("", field, "empty text")
		}
		return b.text, nil
	case "LINK":
		l := b.link
		if l.Link == "" && l.UserID == 0 && l.ChatID == 0 {
			return nil, invalid("", field+".LINK", "required (or USER_ID / CHAT_ID)")
		}
		if l.Link != "" {
			if err := checkLink(field+".LINK", l.Link); err != nil {
				return nil, err
			}
		}
		if l.Preview != "" {
			if err := checkLink(field+".PREVIEW", l.Preview); err != nil {
				return nil, err
			}
		}
		if err := checkSize(field, l.Width, l.Height, l.UserID, l.ChatID); err != nil {
			return nil, err
		}
		return l, nil
	case "USER":
		u := b.user
		if strings.TrimSpace(u.Name) == "" {
			return nil, invalid("", field+".NAME", "required")
		}
		for _, f := range []struct{ n, v string }{{"AVATAR", u.Avatar}, {"LINK", u.Link}} {
			if f.v != "" {
				if err := checkLink(field+"."+f.n, f.v); err != nil {
					return nil, err
				}
			}
		}
		if err := checkSize(field+".USER_ID", u.UserID); err != nil {
			return nil, err
		}
		return u, nil
	case "DELIMITER":
		d := b.delim
		if err := checkSize(field+".SIZE", d.Size); err != nil {
			return nil, err
		}
		if err := checkColor(field+".COLOR", d.Color); err != nil {
			return nil, err
		}
		// A form cannot carry an empty map, so the documented defaults are
		// always written.
		out := *d
		if out.Size == 0 {
			out.Size = DefaultDelimiterSize
		}
		if out.Color == "" {
			out.Color = DefaultDelimiterColor
		}
		return out, nil
	case "GRID":
		if len(b.grid) == 0 {
			return nil, invalid("", field, "grid has no items")
		}
		for i, g := range b.grid {
			f := fmt.Sprintf("%s[%d]", field, i)
			switch g.Display {
			case GridBlock, GridLine, GridRow, GridTable:
			case "":
				return nil, invalid("", f+".DISPLAY", "required (BLOCK, LINE, ROW or TABLE)")
			default:
				return nil, invalid("", f+".DISPLAY", "want BLOCK, LINE, ROW or TABLE, got %q", g.Display)
			}
			if g.Name == "" && g.Value == "" {
				return nil, invalid("", f, "NAME and VALUE are both empty")
			}
			if !g.ColorToken.valid() {
				return nil, invalid("", f+".COLOR_TOKEN", "unknown colour token %q", g.ColorToken)
			}
			if err := checkColor(f+".COLOR", g.Color); err != nil {
				return nil, err
			}
			if g.Link != "" {
				if err := checkLink(f+".LINK", g.Link); err != nil {
					return nil, err
				}
			}
			if err := checkSize(f, g.Width, g.Height, g.UserID, g.ChatID); err != nil {
				return nil, err
			}
		}
		return b.grid, nil
	case "IMAGE":
		if len(b.image) == 0 {
			return nil, invalid("", field, "image block has no images")
		}
		for i, im := range b.image {
			f := fmt.Sprintf("%s[%d]", field, i)
			if im.Link == "" {
				return nil, invalid("", f+".LINK", "required")
			}
			if err := checkLink(f+".LINK", im.Link); err != nil {
				return nil, err
			}
			if im.Preview != "" {
				if err := checkLink(f+".PREVIEW", im.Preview); err != nil {
					return nil, err
				}
			}
			if err := checkSize(f, im.Width, im.Height); err != nil {
				return nil, err
			}
		}
		return b.image, nil
	case "FILE":
		if len(b.file) == 0 {
			return nil, invalid("", field, "file block has no files")
		}
		for i, fl := range b.file {
			f := fmt.Sprintf("%s[%d]", field, i)
			if fl.Link == "" {
				return nil, invalid("", f+".LINK", "required")
			}
			if err := checkLink(f+".LINK", fl.Link); err != nil {
				return nil, err
			}
			if fl.Size < 0 {
				return nil, invalid("", f+".SIZE", "negative size")
			}
		}
		return b.file, nil
	}
	return nil, invalid("", field, "unknown block")
}
