package source

import (
	"fmt"
	"net/url"
	"path"
	"strconv"
)

// URL is an sftp:// address of one file, for one-shot imports: the connection's other
// settings (keys, known_hosts) come from the config.
type URL struct {
	User string // empty when the URL names none
	Host string
	Port int    // DefaultSFTPPort when the URL names none
	Dir  string // absolute, e.g. /in
	File string // base name, e.g. invoices.csv
}

// ParseURL parses "sftp://user@host:port/path/file.csv". A password in the URL is refused:
// secrets belong in the config's *_file / *_env references.
func ParseURL(raw string) (URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return URL{}, fmt.Errorf("parse sftp url: %w", err)
	}
	if u.Scheme != "sftp" {
		return URL{}, fmt.Errorf("parse sftp url %q: scheme must be sftp", u.Redacted())
	}
	if _, has := u.User.Password(); has {
		return URL{}, fmt.Errorf("parse sftp url %q: passwords in URLs are not accepted; use sftp.password_env or sftp.password_file", u.Redacted())
	}
	if u.Hostname() == "" {
		return URL{}, fmt.Errorf("parse sftp url %q: host is missing", raw)
	}
	out := URL{User: u.User.Username(), Host: u.Hostname(), Port: DefaultSFTPPort}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return URL{}, fmt.Errorf("parse sftp url %q: bad port %q", raw, p)
		}
		out.Port = n
	}
	if u.Path == "" || u.Path == "/" || u.Path[len(u.Path)-1] == '/' {
		return URL{}, fmt.Errorf("parse sftp url %q: path must name a file", raw)
	}
	clean := path.Clean(u.Path)
	out.Dir, out.File = path.Split(clean)
	out.Dir = path.Clean(out.Dir)
	return out, nil
}

// String formats u back into an sftp:// URL.
func (u URL) String() string {
	v := url.URL{Scheme: "sftp", Host: joinHostPort(u.Host, u.Port), Path: path.Join(u.Dir, u.File)}
	if u.User != "" {
		v.User = url.User(u.User)
	}
	return v.String()
}
