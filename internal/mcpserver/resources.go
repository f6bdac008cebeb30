package mcpserver

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/latchkeyhq/latchkey/internal/accounts"
)

// accountURI names an account as a resource.
const accountURI = "latchkey://accounts/"

// accountResource is what an agent reads of an account: enough to pick
// one, never a credential.
type accountResource struct {
	ID             string            `json:"id"`
	App            string            `json:"app"`
	Nickname       string            `json:"nickname"`
	Identity       string            `json:"identity,omitempty"`
	Status         string            `json:"status"`
	ExternalUserID string            `json:"external_user_id,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
}

func resourceOf(a accounts.Account) accountResource {
	return accountResource{ID: a.ID, App: a.App, Nickname: a.Nickname, Identity: a.IdentityLabel, Status: string(a.Status),
		ExternalUserID: a.ExternalUserID, Tags: a.Tags}
}

// addResources exposes the caller's accounts: resources/list is answered
// afresh on every call, since accounts come and go during a session, and
// each account reads as latchkey://accounts/{id}.
func (s *Server) addResources(srv *mcp.Server) {
	srv.AddResourceTemplate(&mcp.ResourceTemplate{
		Name: "account", Title: "A connected account", MIMEType: "application/json",
		URITemplate: accountURI + "{id}",
		Description: "One of your connected accounts: its id (a tool's account_id), app, nickname and status.",
	}, s.readAccount)
	srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			if method != "resources/list" {
				return next(ctx, method, req)
			}
			return s.listAccounts(ctx, req)
		}
	})
}

func (s *Server) listAccounts(ctx context.Context, req mcp.Request) (mcp.Result, error) {
	c, err := callerOf(req.GetExtra().TokenInfo)
	if err != nil {
		return nil, err
	}
	list, _, err := s.o.Accounts.List(ctx, c.actor, accounts.ListInput{ExternalUserID: c.endUser, Limit: accounts.MaxPage})
	if err != nil {
		return nil, err
	}
	res := &mcp.ListResourcesResult{Resources: []*mcp.Resource{}}
	for _, a := range list {
		if a.ExternalUserID != c.endUser {
			continue
		}
		res.Resources = append(res.Resources, &mcp.Resource{
			URI: accountURI + a.ID, Name: a.ID, Title: a.App + ": " + a.Nickname, MIMEType: "application/json",
			Description: "status " + string(a.Status),
		})
	}
	return res, nil
}

func (s *Server) readAccount(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	c, err := callerOf(req.Extra.TokenInfo)
	if err != nil {
		return nil, err
	}
	id := strings.TrimPrefix(req.Params.URI, accountURI)
	a, err := s.o.Accounts.Get(ctx, c.actor, id)
	if err != nil || a.ExternalUserID != c.endUser {
		return nil, mcp.ResourceNotFoundError(req.Params.URI)
	}
	b, _ := json.Marshal(resourceOf(a))
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "application/json", Text: string(b)}}}, nil
}
