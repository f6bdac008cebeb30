package identity

import "testing"

// MayUseAccount's decisions: no limits allow all; otherwise the account
// itself, or any account of a listed app.
func TestMayUseAccount(t *testing.T) {
	for _, tc := range []struct {
		name    string
		actor   Actor
		id, app string
		want    bool
		limited bool
	}{
		{"session", Actor{}, "acc_1", "slack", true, false},
		{"unlimited token", Actor{Scopes: []string{ScopeAll}}, "acc_1", "slack", true, false},
		{"its account", Actor{Accounts: []string{"acc_1"}}, "acc_1", "sendgrid", true, true},
		{"another account", Actor{Accounts: []string{"acc_1"}}, "acc_2", "sendgrid", false, true},
		{"its app", Actor{Apps: []string{"sendgrid"}}, "acc_2", "sendgrid", true, true},
		{"another app", Actor{Apps: []string{"sendgrid"}}, "acc_3", "twilio", false, true},
		{"either", Actor{Accounts: []string{"acc_3"}, Apps: []string{"sendgrid"}}, "acc_3", "twilio", true, true},
		{"an empty app matches nothing", Actor{Apps: []string{"sendgrid"}}, "acc_3", "", false, true},
	} {
		if got := tc.actor.MayUseAccount(tc.id, tc.app); got != tc.want || tc.actor.Limited() != tc.limited {
			t.Errorf("%s: MayUseAccount = %v (limited %v), want %v (%v)", tc.name, got, tc.actor.Limited(), tc.want, tc.limited)
		}
	}
}

// What each role may put on a token.
func TestRoleGrants(t *testing.T) {
	for _, tc := range []struct {
		role  Role
		scope string
		want  bool
	}{
		{RoleOwner, ScopeAll, true},
		{RoleOwner, ScopeMembersWrite, true},
		{RoleOwner, ScopeAuditRead, true},
		{RoleMember, ScopeAll, false},
		{RoleMember, ScopeMembersWrite, false},
		{RoleMember, ScopeAuditRead, false},
		{RoleMember, ScopeClientsWrite, false},
		{RoleMember, ScopeCredentialsRead, true},
		{RoleMember, ScopeWorkflowsRun, true},
		{RoleMember, "accounts:delete", false},
		{RoleAdmin, ScopeMembersWrite, true},
		{RoleAdmin, ScopeClientsWrite, true},
		{RoleAdmin, ScopeAll, true}, // every scope an admin has, and no more
		{RoleViewer, ScopeAccountsRead, true},
		{RoleViewer, ScopeCredentialsRead, false},
		{RoleViewer, ScopeAccountsWrite, false},
		{Role("nobody"), ScopeAccountsRead, false},
	} {
		if got := tc.role.Grants(tc.scope); got != tc.want {
			t.Errorf("%s grants %s: %v, want %v", tc.role, tc.scope, got, tc.want)
		}
	}
}
