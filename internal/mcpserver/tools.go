package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
)

// accountArg is the argument every tool takes beside its action's input:
// which account to use, when the caller has several for the app.
const accountArg = "account_id"

// session builds the MCP server of one session: the caller's tools (the
// actions of the apps they may use, filtered by ?apps=) and their
// accounts as resources. A request without a verified caller gets an
// empty server; the bearer middleware has answered it already.
func (s *Server) session(r *http.Request) *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "latchkey", Title: "Latchkey", Version: s.o.Version}, &mcp.ServerOptions{
		Instructions: "Tools call connected apps with the caller's Latchkey accounts; Latchkey adds the credentials. " +
			"When a tool says an account must be connected, give the person the link, then call the tool again.",
		Logger: s.o.Log,
	})
	c, _ := r.Context().Value(actorKey{}).(*caller)
	if c == nil {
		return srv
	}
	var only []string
	if v := r.URL.Query().Get("apps"); v != "" {
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				only = append(only, a)
			}
		}
	}
	list, err := s.o.Actions.List(r.Context(), c.actor, "")
	if err != nil {
		s.o.Log.ErrorContext(r.Context(), "mcp: listing actions failed", "err", err)
	}
	for _, a := range list {
		// Only the apps the token may use: a token limited to chosen
		// apps or accounts sees those apps' tools.
		if (len(only) > 0 && !slices.Contains(only, a.App)) || !mayUseApp(c.actor, a.App) {
			continue
		}
		schema, _ := json.Marshal(a.Action.Input)
		srv.AddTool(&mcp.Tool{
			Name:        ToolName(a.App, a.Action.Name),
			Title:       a.AppName + ": " + strings.ReplaceAll(a.Action.Name, "_", " "),
			Description: a.Action.Description,
			InputSchema: withAccountArg(schema, a.AppName),
		}, s.call(a))
	}
	s.addResources(srv)
	return srv
}

// mayUseApp reports whether a token limited to chosen apps may use app. A
// token limited to chosen accounts sees every tool: which accounts it may
// use is checked at each call.
func mayUseApp(a identity.Actor, app string) bool {
	return len(a.Apps) == 0 || slices.Contains(a.Apps, app)
}

// ToolName is the tool of an app's action: app_action.
func ToolName(app, action string) string { return app + "_" + action }

// withAccountArg adds the optional account_id property to an action's
// input schema.
func withAccountArg(schema json.RawMessage, appName string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(schema, &m); err != nil || m == nil {
		m = map[string]any{"type": "object"}
	}
	props, _ := m["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	props[accountArg] = map[string]any{
		"type":        "string",
		"description": "The Latchkey account to use (see the accounts resources); needed only when you have several " + appName + " accounts.",
	}
	m["properties"] = props
	return m
}

// call is the handler of one action's tool.
func (s *Server) call(a actions.View) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c, err := callerOf(req.Extra.TokenInfo)
		if err != nil {
			return nil, err
		}
		input := map[string]json.RawMessage{}
		if len(req.Params.Arguments) > 0 {
			if err := json.Unmarshal(req.Params.Arguments, &input); err != nil {
				return failure("The arguments must be a JSON object."), nil
			}
		}
		var chosen string
		if raw, ok := input[accountArg]; ok {
			if err := json.Unmarshal(raw, &chosen); err != nil {
				return failure("account_id must be a string."), nil
			}
			delete(input, accountArg)
		}
		acc, res, err := s.pick(ctx, c, a, chosen)
		if err != nil || res != nil {
			return res, err
		}
		if acc.ID == "" || acc.Status == accounts.StatusNeedsReconnect {
			return s.connectFirst(ctx, req, c, a, acc.ID)
		}
		body, _ := json.Marshal(input)
		out, err := s.o.Actions.Run(ctx, c.actor, a.Ref(), acc.ID, body)
		if nr, ok := errors.AsType[*accounts.NeedsReconnectError](err); ok {
			return s.connectFirst(ctx, req, c, a, nr.AccountID)
		}
		if ie, ok := errors.AsType[*actions.InputError](err); ok {
			return failure("The input is not valid: " + ie.Error()), nil
		}
		if err != nil {
			return failure(a.AppName + ": " + err.Error()), nil
		}
		if out.CredentialsRefused && out.AccountStatus == string(accounts.StatusNeedsReconnect) {
			return s.connectFirst(ctx, req, c, a, acc.ID)
		}
		answer := map[string]any{"status": out.Status, "body": out.Body}
		if len(out.Output) > 0 {
			answer["output"] = out.Output
		}
		// A 2xx answer whose body says no (Slack's ok:false) is an error
		// to the agent too, not a success to build on.
		if out.Failed {
			answer["failed"] = true
			if out.ProviderError != "" {
				answer["provider_error"] = out.ProviderError
			}
		}
		if out.CredentialsRefused {
			answer["credentials_refused"], answer["account_status"] = true, out.AccountStatus
		}
		text, _ := json.Marshal(answer)
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(text)}}, IsError: out.Status >= 400 || out.Failed}, nil
	}
}

func failure(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}, IsError: true}
}

// pick chooses the account a call uses: the one named, else the caller's
// only usable account of the app, else one to reconnect; none (an empty
// id) when the caller has no account of the app. With several unnamed it
// answers with their ids.
func (s *Server) pick(ctx context.Context, c *caller, a actions.View, chosen string) (accounts.Account, *mcp.CallToolResult, error) {
	if chosen != "" {
		acc, err := s.o.Accounts.Get(ctx, c.actor, chosen)
		if errors.Is(err, accounts.ErrNotFound) || (err == nil && (acc.App != a.App || acc.ExternalUserID != c.endUser)) {
			return accounts.Account{}, failure(fmt.Sprintf("There is no %s account %s that you may use.", a.AppName, chosen)), nil
		}
		return acc, nil, err
	}
	mine, err := s.usable(ctx, c, a.App)
	if err != nil {
		return accounts.Account{}, nil, err
	}
	var healthy []accounts.Account
	for _, acc := range mine {
		if acc.Status != accounts.StatusNeedsReconnect {
			healthy = append(healthy, acc)
		}
	}
	switch {
	case len(healthy) == 1:
		return healthy[0], nil, nil
	case len(healthy) > 1:
		names := make([]string, len(healthy))
		for i, acc := range healthy {
			names[i] = acc.ID + " (" + acc.Nickname + ")"
		}
		return accounts.Account{}, failure(fmt.Sprintf("You have %d %s accounts; name one with account_id: %s.",
			len(healthy), a.AppName, strings.Join(names, ", "))), nil
	case len(mine) > 0:
		return mine[0], nil, nil // needs reconnecting
	}
	return accounts.Account{}, nil, nil
}

// usable lists the caller's accounts of an app: the end user's, or the
// member's own and those shared with them, never an end user's.
func (s *Server) usable(ctx context.Context, c *caller, app string) ([]accounts.Account, error) {
	list, _, err := s.o.Accounts.List(ctx, c.actor, accounts.ListInput{App: app, ExternalUserID: c.endUser, Limit: accounts.MaxPage})
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, acc := range list {
		if acc.ExternalUserID == c.endUser && acc.App == app {
			out = append(out, acc)
		}
	}
	return out, nil
}

// connectFirst answers a call that has no usable account: a link to
// connect one (or to reconnect accountID). A client that supports
// URL-mode elicitation is asked to open it, and told when the account is
// there, so that it calls again; any other gets the link as text.
func (s *Server) connectFirst(ctx context.Context, req *mcp.CallToolRequest, c *caller, a actions.View, accountID string) (*mcp.CallToolResult, error) {
	link, err := s.connectLink(ctx, c, a.App, accountID)
	if err != nil {
		return failure(fmt.Sprintf("No usable %s account, and no link to connect one could be made: %v", a.AppName, err)), nil
	}
	verb := "connect"
	if accountID != "" {
		verb = "reconnect"
	}
	message := fmt.Sprintf("This needs a %s account. Open this link to %s it, then try again: %s", a.AppName, verb, link)
	if supportsURLElicitation(req.Session) {
		// One watch per session and app: a call repeated while the person
		// connects gets the same elicitation, not another poller.
		key := req.Session.ID() + "/" + a.App + "/" + accountID
		id := ids.New("eli", s.o.Clock.Now())
		if prev, loaded := s.watching.LoadOrStore(key, id); loaded {
			id = prev.(string)
		} else {
			go func() {
				defer s.watching.Delete(key)
				s.watch(req.Session, c, a.App, accountID, id)
			}()
		}
		return nil, mcp.URLElicitationRequiredError([]*mcp.ElicitParams{{
			Mode: "url", ElicitationID: id, URL: link,
			Message: fmt.Sprintf("Connect your %s account to Latchkey to continue.", a.AppName),
		}})
	}
	res := failure(message)
	res.StructuredContent = map[string]any{"connect_url": link, "app": a.App}
	return res, nil
}

// connectLink is where the person connects the app: for an end user a
// fresh connect token's hosted page; for a member the web's connect page.
func (s *Server) connectLink(ctx context.Context, c *caller, app, accountID string) (string, error) {
	if c.endUser == "" {
		if accountID != "" {
			return s.o.PublicURL + "/accounts/" + url.PathEscape(accountID), nil
		}
		return s.o.PublicURL + "/connect/" + url.PathEscape(app), nil
	}
	in := endusers.MintInput{ExternalUserID: c.endUser, Apps: []string{app}}
	if accountID != "" {
		in = endusers.MintInput{AccountID: accountID, ExternalUserID: c.endUser}
	}
	minted, err := s.o.EndUsers.Mint(ctx, c.actor, in)
	if err != nil {
		return "", err
	}
	return minted.LinkURL.Reveal(), nil
}

func supportsURLElicitation(ss *mcp.ServerSession) bool {
	if ss == nil {
		return false
	}
	p := ss.InitializeParams()
	return p != nil && p.Capabilities != nil && p.Capabilities.Elicitation != nil && p.Capabilities.Elicitation.URL != nil
}

// watch tells the session when the caller has a usable account of app
// (accountID healthy again, for a reconnection), ending the elicitation.
// It looks every WatchEvery, for at most WatchFor.
func (s *Server) watch(ss *mcp.ServerSession, c *caller, app, accountID, elicitationID string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.o.WatchFor)
	defer cancel()
	go func() {
		// A closed session has no one to tell.
		_ = ss.Wait()
		cancel()
	}()
	tick := s.o.Clock.NewTicker(s.o.WatchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.Chan():
		}
		list, err := s.usable(ctx, c, app)
		if err != nil {
			continue
		}
		ready := slices.ContainsFunc(list, func(acc accounts.Account) bool {
			return acc.Status != accounts.StatusNeedsReconnect && (accountID == "" || acc.ID == accountID)
		})
		if !ready {
			continue
		}
		if err := ss.NotifyElicitationComplete(ctx, &mcp.ElicitationCompleteParams{ElicitationID: elicitationID}); err != nil {
			s.o.Log.Warn("mcp: telling a session its connection is done failed", "err", err)
		}
		return
	}
}
