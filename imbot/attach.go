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
	ID int
	// ColorToken is the attachment's theme colour.
	ColorToken ColorToken
	// Color is an explicit "#rrggbb" colour (older clients, open channels).
	Color string

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

// AttachLink is a LINK block: a clickable link with a caption.
type AttachLink struct {
	Name    string // NAME: caption (the link itself when empty)
	Link    string // LINK, required
	Desc    string // DESC: description under the caption
	Preview string // PREVIEW: image URL
	Width   int    // WIDTH of the preview
	Height  int    // HEIGHT of the preview
	UserID  int    // USER_ID: link to a user instead of LINK
	ChatID  int    // CHAT_ID: link to a chat instead of LINK
}

// AttachUser is a USER block: a user card.
type AttachUser struct {
	Name   string // NAME, required
	Avatar string // AVATAR: image URL
	Link   string // LINK: profile or external page
	UserID int    // USER_ID: the portal user
}

// Delimiter is a DELIMITER block: a line between parts of the card.
type Delimiter struct {
	Size  int    // SIZE: length in pixels (0: DefaultDelimiterSize)
	Color string // COLOR "#rrggbb" ("": DefaultDelimiterColor)
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

// GridItem is one name/value pair of a GRID block.
type GridItem struct {
	Display    GridDisplay // DISPLAY, required
	Name       string      // NAME
	Value      string      // VALUE (BB codes allowed)
	Width      int         // WIDTH in pixels
	Height     int         // HEIGHT in pixels
	ColorToken ColorToken  // COLOR_TOKEN of the value
	Color      string      // COLOR "#rrggbb" of the value
	Link       string      // LINK of the value
	UserID     int         // USER_ID: link the value to a user
	ChatID     int         // CHAT_ID: link the value to a chat
}

// AttachImage is one image of an IMAGE block.
type AttachImage struct {
	Link    string // LINK, required: the image URL
	Name    string // NAME
	Preview string // PREVIEW: a smaller image URL
	Width   int    // WIDTH
	Height  int    // HEIGHT
}

// AttachFile is one file of a FILE block.
type AttachFile struct {
	Link string // LINK, required: the download URL
	Name string // NAME
	Size int64  // SIZE in bytes
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
	out := map[string]any{}
	if a.ID > 0 {
		out["ID"] = a.ID
	}
	if a.ColorToken != "" {
		out["COLOR_TOKEN"] = string(a.ColorToken)
	}
	if a.Color != "" {
		out["COLOR"] = a.Color
	}
	blocks := make([]any, 0, len(a.blocks))
	for i, b := range a.blocks {
		field := fmt.Sprintf("ATTACH.BLOCKS[%d].%s", i, b.kind)
		v, err := b.wire(field)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, map[string]any{b.kind: v})
	}
	out["BLOCKS"] = blocks
	js, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if len(js) > MaxPayloadSize {
		return nil, invalid("", "ATTACH", "JSON is %d bytes, over the portal's limit of %d", len(js), MaxPayloadSize)
	}
	return js, nil
}

type kv struct{ m map[string]any }

func newKV() kv { return kv{map[string]any{}} }

func (k kv) str(key, v string) {
	if v != "" {
		k.m[key] = v
	}
}

func (k kv) num(key string, v int64) {
	if v > 0 {
		k.m[key] = v
	}
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
		k := newKV()
		k.str("NAME", l.Name)
		k.str("LINK", l.Link)
		k.str("DESC", l.Desc)
		k.str("PREVIEW", l.Preview)
		k.num("WIDTH", int64(l.Width))
		k.num("HEIGHT", int64(l.Height))
		k.num("USER_ID", int64(l.UserID))
		k.num("CHAT_ID", int64(l.ChatID))
		return k.m, nil
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
		k := newKV()
		k.str("NAME", u.Name)
		k.str("AVATAR", u.Avatar)
		k.str("LINK", u.Link)
		k.num("USER_ID", int64(u.UserID))
		return k.m, nil
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
		size, color := d.Size, d.Color
		if size == 0 {
			size = DefaultDelimiterSize
		}
		if color == "" {
			color = DefaultDelimiterColor
		}
		return map[string]any{"SIZE": size, "COLOR": color}, nil
	case "GRID":
		if len(b.grid) == 0 {
			return nil, invalid("", field, "grid has no items")
		}
		out := make([]any, 0, len(b.grid))
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
			k := newKV()
			k.str("DISPLAY", string(g.Display))
			k.str("NAME", g.Name)
			k.str("VALUE", g.Value)
			k.num("WIDTH", int64(g.Width))
			k.num("HEIGHT", int64(g.Height))
			k.str("COLOR_TOKEN", string(g.ColorToken))
			k.str("COLOR", g.Color)
			k.str("LINK", g.Link)
			k.num("USER_ID", int64(g.UserID))
			k.num("CHAT_ID", int64(g.ChatID))
			out = append(out, k.m)
		}
		return out, nil
	case "IMAGE":
		if len(b.image) == 0 {
			return nil, invalid("", field, "image block has no images")
		}
		out := make([]any, 0, len(b.image))
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
			k := newKV()
			k.str("LINK", im.Link)
			k.str("NAME", im.Name)
			k.str("PREVIEW", im.Preview)
			k.num("WIDTH", int64(im.Width))
			k.num("HEIGHT", int64(im.Height))
			out = append(out, k.m)
		}
		return out, nil
	case "FILE":
		if len(b.file) == 0 {
			return nil, invalid("", field, "file block has no files")
		}
		out := make([]any, 0, len(b.file))
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
			k := newKV()
			k.str("LINK", fl.Link)
			k.str("NAME", fl.Name)
			k.num("SIZE", fl.Size)
			out = append(out, k.m)
		}
		return out, nil
	}
	return nil, invalid("", field, "unknown block")
}
