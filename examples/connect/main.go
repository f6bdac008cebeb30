// Command connect is a product's backend, as small as it gets, that lets
// its users connect their accounts through Latchkey: it serves a page that
// calls LatchkeyConnect.open, and mints the connect token that page needs
// with the product's API token (connect:write), through Latchkey's Go
// client. Copy it and put your own sign-in where userID is.
//
//	LATCHKEY_URL=http://127.0.0.1:7355 LATCHKEY_TOKEN=lk_... go run ./examples/connect
package main

import (
	"embed"
	"encoding/json"
	"html/template"
	"log"
	"net/http"
	"os"

	"github.com/latchkeyhq/latchkey/client"
)

//go:embed index.html app.js
var files embed.FS

var page = template.Must(template.ParseFS(files, "index.html"))

func main() {
	latchkey, token := os.Getenv("LATCHKEY_URL"), os.Getenv("LATCHKEY_TOKEN")
	if latchkey == "" || token == "" {
		log.Fatal("set LATCHKEY_URL to Latchkey's address and LATCHKEY_TOKEN to an API token with the connect:write scope")
	}
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	api := client.New(latchkey, token, nil)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// A strict policy: Latchkey's origin for its script and its modal.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self' "+latchkey+"; frame-src "+latchkey+
			"; connect-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'")
		if err := page.Execute(w, map[string]string{"Latchkey": latchkey}); err != nil {
			log.Print(err)
		}
	})
	mux.Handle("GET /app.js", http.FileServerFS(files))
	// The page asks for a connect token when the user clicks Connect.
	mux.HandleFunc("POST /connect-token", func(w http.ResponseWriter, r *http.Request) {
		userID := "customer-42" // your signed-in user's id
		ct, err := api.CreateConnectToken(r.Context(), client.CreateConnectToken{
			ExternalUserID: userID,
			Apps:           []string{"sendgrid"},
			Tags:           map[string]string{"org": "acme"},
			// Only this page may embed the hosted page and hear how it went.
			AllowedOrigins: []string{"http://" + addr},
		})
		if err != nil {
			// The detail (a *client.Problem from Latchkey) is for your log.
			log.Printf("minting a connect token: %v", err)
			http.Error(w, "could not start connecting", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]string{"token": ct.Token})
	})
	log.Printf("serving http://%s", addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}
