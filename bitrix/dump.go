package bitrix

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// dump writes one exchange to the dump directory with credentials redacted.
func (c *Client) dump(method, url, ctype string, reqBody []byte, status int, hdr http.Header, respBody []byte, failure error) {
	if c.cfg.dumpDir == "" {
		return
	}
	n := c.dumpSeq.Add(1)
	name := fmt.Sprintf("%s-%06d-%s.txt", time.Now().UTC().Format("20060102T150405.000"), n, unsafeName.ReplaceAllString(method, "_"))
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s\n", c.red.text(url))
	if ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\n", ctype)
	}
	fmt.Fprintf(&b, "\n%s\n\n", c.red.text(string(reqBody)))
	if failure != nil {
		fmt.Fprintf(&b, "--- error\n%s\n", c.red.text(failure.Error()))
	} else {
		fmt.Fprintf(&b, "--- HTTP %d\n", status)
		keys := make([]string, 0, len(hdr))
		for k := range hdr {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.EqualFold(k, "Set-Cookie") || strings.EqualFold(k, "Authorization") {
				continue
			}
			fmt.Fprintf(&b, "%s: %s\n", k, c.red.text(strings.Join(hdr[k], ", ")))
		}
		fmt.Fprintf(&b, "\n%s\n", c.red.text(string(respBody)))
	}
	if err := os.WriteFile(filepath.Join(c.cfg.dumpDir, name), []byte(b.String()), 0o600); err != nil {
		c.log.Warn("bitrix: cannot write dump file", "error", err.Error())
	}
}
