package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dghubble/oauth1"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// Flow1 is one app's OAuth 1.0a flow (RFC 5849) with one consumer.
// github.com/dghubble/oauth1 does the protocol and the HMAC-SHA1
// signatures; this type gives it the guarded client and a context, and
// turns its failures into an *Error that holds no secret.
type Flow1 struct {
	App *catalog.App
	// Consumer is the consumer key (ID) and secret the app was registered
	// with, kept as OAuth clients are.
	Consumer Client
	// Fields are the connection fields the app's URLs may name.
	Fields map[string]string
	// HTTP makes the token requests; its Timeout bounds each one.
	HTTP *http.Client
}

// RequestToken is the temporary credential of a flow under way. Its
// secret signs the access token request and never leaves the server.
type RequestToken struct {
	Token  string
	Secret secret.String
}

func (f *Flow1) expand(tpl string) (string, error) {
	return catalog.Expand(tpl, catalog.MapLookup(f.Fields))
}

func (f *Flow1) config(ctx context.Context, callback string, st *status) (*oauth1.Config, error) {
	o := f.App.OAuth1
	var ep oauth1.Endpoint
	var err error
	for _, u := range []struct {
		name string
		tpl  string
		dst  *string
	}{{"request_token_url", o.RequestTokenURL, &ep.RequestTokenURL}, {"authorize_url", o.AuthorizeURL, &ep.AuthorizeURL}, {"access_token_url", o.AccessTokenURL, &ep.AccessTokenURL}} {
		if *u.dst, err = f.expand(u.tpl); err != nil {
			return nil, fmt.Errorf("%s: %w", u.name, err)
		}
	}
	base := f.HTTP
	if base == nil {
		base = http.DefaultClient
	}
	// The library's token requests take no context; this client gives
	// them the caller's, and notes what the provider answered.
	c := *base
	c.Transport = &observe{ctx: ctx, next: transport(base), st: st}
	return &oauth1.Config{
		ConsumerKey:    f.Consumer.ID,
		ConsumerSecret: f.Consumer.Secret.Reveal(),
		CallbackURL:    callback,
		Endpoint:       ep,
		Signer:         &oauth1.HMACSigner{ConsumerSecret: f.Consumer.Secret.Reveal()},
		HTTPClient:     &c,
	}, nil
}

// RequestToken asks the provider for a request token whose approval comes
// back to callback.
func (f *Flow1) RequestToken(ctx context.Context, callback string) (RequestToken, error) {
	st := &status{}
	cfg, err := f.config(ctx, callback, st)
	if err != nil {
		return RequestToken{}, err
	}
	tok, sec, err := cfg.RequestToken()
	if err != nil {
		return RequestToken{}, f.classify1(ctx, err, st, "the request token endpoint")
	}
	return RequestToken{Token: tok, Secret: secret.New(sec)}, nil
}

// AuthorizeURL is the provider page the user approves the request token at.
func (f *Flow1) AuthorizeURL(requestToken string) (string, error) {
	cfg, err := f.config(context.Background(), "", &status{})
	if err != nil {
		return "", err
	}
	u, err := cfg.AuthorizationURL(requestToken)
	if err != nil {
		return "", fmt.Errorf("authorize_url: %w", err)
	}
	q := u.Query()
	for k, v := range f.App.OAuth1.AuthorizeParams {
		if v, err = f.expand(v); err != nil {
			return "", fmt.Errorf("authorize_params.%s: %w", k, err)
		}
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// AccessToken trades an approved request token and its verifier for the
// account's token and token secret, which do not expire.
func (f *Flow1) AccessToken(ctx context.Context, rt RequestToken, verifier string) (*Token, error) {
	st := &status{}
	cfg, err := f.config(ctx, "", st)
	if err != nil {
		return nil, err
	}
	tok, sec, err := cfg.AccessToken(rt.Token, rt.Secret.Reveal(), verifier)
	if err != nil {
		return nil, f.classify1(ctx, err, st, "the access token endpoint", rt.Token, rt.Secret.Reveal(), verifier)
	}
	return &Token{AccessToken: secret.New(tok), TokenSecret: secret.New(sec)}, nil
}

// classify1 turns the library's error, whose text quotes the provider's
// whole answer, into an *Error with only a clipped, redacted problem.
func (f *Flow1) classify1(ctx context.Context, err error, st *status, what string, secrets ...string) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return ctx.Err()
	}
	if be := blocked(err); be != nil {
		return be
	}
	if st.redirect != nil {
		return &Error{Kind: Transient, Status: st.code, Description: st.redirect.Error(), cause: st.redirect}
	}
	if st.code == 0 {
		return &Error{Kind: Transient, Description: what + " could not be reached"}
	}
	red := newRedactor(append(secrets, f.Consumer.Secret.Reveal())...)
	e := &Error{Status: st.code, Kind: kindForStatus(st.code)}
	if st.code == http.StatusOK || st.code == http.StatusCreated {
		// An answer without the token, or unconfirmed callback.
		e.Kind = Permanent
		e.Description = what + " did not answer with a token"
		return e
	}
	// Many providers say what is wrong in oauth_problem (the OAuth
	// Problem Reporting extension); others in plain text.
	body := strings.TrimSpace(st.body.String())
	if v, perr := url.ParseQuery(body); perr == nil && v.Get("oauth_problem") != "" {
		e.Code = outbound.Clip(red.text(v.Get("oauth_problem")))
		body = v.Get("oauth_problem_advice")
	}
	e.Description = fmt.Sprintf("%s answered %d %s", what, st.code, http.StatusText(st.code))
	if body != "" && !strings.HasPrefix(body, "<") {
		e.Description += ": " + outbound.Clip(red.text(body))
	}
	return e
}

// status is what observe saw of a token request's answer.
type status struct {
	code     int
	redirect error
	body     bytes.Buffer
}

// maxTokenAnswer caps what is read of a token answer.
const maxTokenAnswer = 1 << 20

// maxProblem is how much of a failed answer is kept to read its problem.
const maxProblem = 2048

// observe gives the library's requests a context, refuses redirects as
// the guarded client does, and keeps the start of the answer.
type observe struct {
	ctx  context.Context
	next http.RoundTripper
	st   *status
}

func (o *observe) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(req.WithContext(o.ctx))
	if err != nil {
		return nil, err
	}
	o.st.code = resp.StatusCode
	if rerr := outbound.Redirect(resp); rerr != nil {
		o.st.redirect = rerr
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
		// A token answer is a short form; the library reads it whole.
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(resp.Body, maxTokenAnswer), resp.Body}
	} else {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblem))
		_ = resp.Body.Close()
		o.st.body.Write(b)
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	return resp, nil
}

// Sign1 signs an API request of an OAuth 1.0a account with HMAC-SHA1
// (RFC 5849 section 3): it sets the Authorization header over the
// request's method, URL, query and form body as they stand, so it comes
// last, once nothing else changes them. The library signs only inside its
// transport; here that transport hands the signed request back instead of
// sending it, and the caller sends it through the guarded client.
func Sign1(req *http.Request, consumer Client, token, tokenSecret string) error {
	cfg := &oauth1.Config{
		ConsumerKey:    consumer.ID,
		ConsumerSecret: consumer.Secret.Reveal(),
		Signer:         &oauth1.HMACSigner{ConsumerSecret: consumer.Secret.Reveal()},
	}
	var signed *http.Request
	keep := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		signed = r
		return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: r}, nil
	})}
	hc := cfg.Client(context.WithValue(req.Context(), oauth1.HTTPClient, keep), oauth1.NewToken(token, tokenSecret))
	if _, err := hc.Transport.RoundTrip(req); err != nil {
		return fmt.Errorf("sign the request: %w", err)
	}
	if signed == nil {
		return errors.New("sign the request: the signer gave nothing back")
	}
	req.Header.Set("Authorization", signed.Header.Get("Authorization"))
	// A form body was read to be signed; the copy has it again.
	req.Body = signed.Body
	return nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
