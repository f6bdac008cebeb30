package catalog

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed apps/*.yaml
var embedded embed.FS

// Embedded returns the apps shipped in the binary.
func Embedded() fs.FS {
	sub, err := fs.Sub(embedded, "apps")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Load reads and validates every *.yaml file of each file system in turn. An
// app in a later file system replaces the app with the same slug in an
// earlier one, so operators can override shipped entries. Every problem in
// every file is reported, each naming its file and field.
func Load(sources ...fs.FS) (*Catalog, error) {
	apps := map[string]*App{}
	origin := map[string]string{}
	var errs []error
	for i, fsys := range sources {
		seen := map[string]string{}
		names, err := fs.Glob(fsys, "*.yaml")
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		ymls, _ := fs.Glob(fsys, "*.yml")
		names = append(names, ymls...)
		sort.Strings(names)
		for _, name := range names {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			app, err := Parse(b)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			if want := strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml"); app.Slug != want {
				errs = append(errs, fmt.Errorf("%s: slug %q must match the file name %q", name, app.Slug, want))
				continue
			}
			if prev, dup := seen[app.Slug]; dup {
				errs = append(errs, fmt.Errorf("%s: slug %q is also defined in %s", name, app.Slug, prev))
				continue
			}
			seen[app.Slug] = name
			apps[app.Slug] = app
			origin[app.Slug] = fmt.Sprintf("source %d: %s", i+1, name)
		}
	}
	c := newCatalog(apps)
	names := map[string]string{}
	for _, a := range c.sorted {
		key := strings.ToLower(a.Name)
		if other, dup := names[key]; dup {
			errs = append(errs, fmt.Errorf("%s: name %q is also used by app %q", origin[a.Slug], a.Name, other))
		}
		names[key] = a.Slug
	}
	errs = append(errs, copies(c.sorted, origin)...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return c, nil
}

// LoadDir is Load over the embedded apps and, when dir is not empty, the
// operator's directory of extra or overriding apps.
func LoadDir(dir string) (*Catalog, error) {
	if dir == "" {
		return loadEmbedded()
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("catalog dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("catalog dir %s is not a directory", dir)
	}
	return Load(Embedded(), os.DirFS(dir))
}

// loadEmbedded parses the shipped apps once a process. They cannot change
// while it runs, and a loaded app is never modified (WithOrigin copies), so
// every caller may share one catalog. A server parses them once anyway; a
// test process starts hundreds of servers, and under the race detector a
// parse of a thousand entries cost about a second each time.
var loadEmbedded = sync.OnceValues(func() (*Catalog, error) { return Load(Embedded()) })

// Parse decodes one app strictly (unknown fields are errors) and validates it.
func Parse(b []byte) (*App, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var a App
	if err := dec.Decode(&a); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file")
		}
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	a.fillBasic()
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return &a, nil
}

// fillBasic gives a basic app what goes without saying: a username and a
// secret password, sent as HTTP Basic. An entry names its own fields (an
// email and an API token) and request_auth.basic where they differ.
func (a *App) fillBasic() {
	if a.Auth != AuthBasic {
		return
	}
	if len(a.Fields) == 0 {
		a.Fields = []Field{
			{Name: "username", Label: "Username"},
			{Name: "password", Label: "Password", Secret: true},
		}
	}
	if a.RequestAuth == nil {
		a.RequestAuth = &RequestAuth{Basic: &BasicAuth{Username: "{username}", Password: "{password}"}}
	}
}

// Clone returns a deep enough copy for callers that rewrite URLs.
func (a *App) Clone() *App {
	c := *a
	if a.OAuth2 != nil {
		o := *a.OAuth2
		c.OAuth2 = &o
	}
	if a.OAuth2 != nil && a.OAuth2.Metadata != nil {
		m := *a.OAuth2.Metadata
		c.OAuth2.Metadata = &m
	}
	if a.OAuth2 != nil && a.OAuth2.Revoke != nil {
		r := *a.OAuth2.Revoke
		c.OAuth2.Revoke = &r
	}
	if a.OAuth1 != nil {
		o := *a.OAuth1
		c.OAuth1 = &o
	}
	if a.ClientCredentials != nil {
		m := *a.ClientCredentials
		c.ClientCredentials = &m
	}
	if a.JWTBearer != nil {
		m := *a.JWTBearer
		c.JWTBearer = &m
	}
	if a.TwoStep != nil {
		m := *a.TwoStep
		c.TwoStep = &m
	}
	if a.Test != nil {
		p := *a.Test
		c.Test = &p
	}
	if a.Identity != nil {
		p := *a.Identity
		c.Identity = &p
	}
	return &c
}

// WithOrigin returns a copy of the app whose absolute URLs all point at
// origin ("http://127.0.0.1:8080") instead of the provider's host, keeping
// their paths. Operators use it to route an app through a gateway; tests
// use it to reach a stand-in provider.
func (a *App) WithOrigin(origin string) *App {
	c := a.Clone()
	origin = strings.TrimSuffix(origin, "/")
	re := func(u string) string {
		i := strings.Index(u, "://")
		if i < 0 {
			return u
		}
		rest := u[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return origin + rest[j:]
		}
		return origin
	}
	c.BaseURL = re(c.BaseURL)
	if c.OAuth2 != nil {
		c.OAuth2.AuthorizeURL = re(c.OAuth2.AuthorizeURL)
		c.OAuth2.TokenURL = re(c.OAuth2.TokenURL)
		if c.OAuth2.RevokeURL != "" {
			c.OAuth2.RevokeURL = re(c.OAuth2.RevokeURL)
		}
		if c.OAuth2.RefreshURL != "" {
			c.OAuth2.RefreshURL = re(c.OAuth2.RefreshURL)
		}
		if c.OAuth2.Metadata != nil {
			c.OAuth2.Metadata.URL = re(c.OAuth2.Metadata.URL)
		}
		if c.OAuth2.Revoke != nil {
			c.OAuth2.Revoke.URL = re(c.OAuth2.Revoke.URL)
		}
	}
	if c.OAuth1 != nil {
		c.OAuth1.RequestTokenURL = re(c.OAuth1.RequestTokenURL)
		c.OAuth1.AuthorizeURL = re(c.OAuth1.AuthorizeURL)
		c.OAuth1.AccessTokenURL = re(c.OAuth1.AccessTokenURL)
	}
	if m := c.ClientCredentials; m != nil {
		m.TokenURL = re(m.TokenURL)
	}
	if m := c.JWTBearer; m != nil {
		// The audience names the real token endpoint unless set apart.
		if m.Audience == "" {
			m.Audience = m.TokenURL
		}
		m.TokenURL = re(m.TokenURL)
	}
	if m := c.TwoStep; m != nil {
		m.TokenURL = re(m.TokenURL)
	}
	if c.Test != nil {
		c.Test.URL = re(c.Test.URL)
	}
	if c.Identity != nil {
		c.Identity.URL = re(c.Identity.URL)
	}
	return c
}

// Field returns the named field.
func (a *App) Field(name string) (Field, bool) {
	for _, f := range a.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// FileName is the catalog file an app is stored in.
func FileName(slug string) string { return path.Clean(slug + ".yaml") }
