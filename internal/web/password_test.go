package web

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// Production hashes at cost 12; only an explicit option lowers it.
func TestPasswordCost(t *testing.T) {
	if DefaultPasswordCost != 12 {
		t.Fatalf("DefaultPasswordCost = %d, want 12", DefaultPasswordCost)
	}
	if h := New(Options{}); h.cost != DefaultPasswordCost {
		t.Fatalf("New without a cost hashes at %d, want %d", h.cost, DefaultPasswordCost)
	}
	if h := New(Options{PasswordCost: bcrypt.MinCost}); h.cost != bcrypt.MinCost {
		t.Fatalf("New with cost %d hashes at %d", bcrypt.MinCost, h.cost)
	}
}
