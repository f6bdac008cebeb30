package workflows

// Code and command steps, which run in the sandbox.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/latchkeyhq/latchkey/internal/appapi"
	"github.com/latchkeyhq/latchkey/internal/sandbox"
)

// codeStep runs JavaScript with Node.js. It returns the app to blame when
// the code failed with a 401 or 403.
func (s *Service) codeStep(ctx context.Context, res *StepResult, st Step, auths map[string]appapi.Values, previous map[string]any, timeout time.Duration) string {
	if s.node == "" {
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorNoNode, "code steps need Node.js, and node was not found on the server's PATH"
		return ""
	}
	input, _ := json.Marshal(map[string]any{"code": st.Code, "auths": auths, "steps": previous})
	p, ok := s.runProgram(ctx, res, sandbox.Cmd{Argv: []string{s.node, runnerPath}, Env: st.Env, Stdin: input,
		Files: map[string][]byte{runnerPath: runnerJS}, Timeout: timeout, Report: true})
	res.Logs = withNote(joinLogs(p.Stdout, p.Stderr), p.Refused)
	if !ok || limitHit(res, p, timeout) {
		return ""
	}
	var out struct {
		OK      bool                       `json:"ok"`
		Result  json.RawMessage            `json:"result"`
		Exports map[string]json.RawMessage `json:"exports"`
		Error   struct {
			Message string `json:"message"`
			Status  int    `json:"status"`
		} `json:"error"`
	}
	if err := json.Unmarshal(p.Report, &out); err != nil {
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorStep, fmt.Sprintf("the code ended without a result (exit status %d)", p.ExitCode)
		return ""
	}
	if !out.OK {
		res.Status, res.Error = StatusFailed, out.Error.Message
		res.ErrorKind = ErrorStep
		if out.Error.Status == http.StatusUnauthorized || out.Error.Status == http.StatusForbidden {
			res.ErrorKind = ErrorCredentials
			return firstApp(st)
		}
		return ""
	}
	res.Status, res.Result, res.Exports = StatusSucceeded, out.Result, out.Exports
	return ""
}

func firstApp(st Step) string {
	if len(st.Apps) == 0 {
		return ""
	}
	return st.Apps[0]
}

// commandStep runs an executable with {"auths", "steps"} on stdin; what it
// prints is the result (JSON if it parses, else text).
func (s *Service) commandStep(ctx context.Context, res *StepResult, st Step, auths map[string]appapi.Values, previous map[string]any, timeout time.Duration) {
	input, _ := json.Marshal(map[string]any{"auths": auths, "steps": previous})
	p, ok := s.runProgram(ctx, res, sandbox.Cmd{Argv: st.Command, Env: st.Env, Stdin: input, Timeout: timeout})
	res.Logs = withNote(p.Stderr, p.Refused)
	if !ok || limitHit(res, p, timeout) {
		return
	}
	if p.ExitCode != 0 {
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorStep, fmt.Sprintf("the command exited with status %d", p.ExitCode)
		res.Logs = withNote(joinLogs(p.Stdout, p.Stderr), p.Refused)
		return
	}
	res.Status, res.Result = StatusSucceeded, asResult([]byte(p.Stdout))
}

// runProgram runs a code or command step's program in the sandbox. It
// reports false, with the step failed, when the program could not run.
func (s *Service) runProgram(ctx context.Context, res *StepResult, c sandbox.Cmd) (sandbox.Result, bool) {
	if s.sandbox == nil {
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorSandbox, "code and command steps are turned off: the server has no sandbox to run them in"
		return sandbox.Result{}, false
	}
	p, err := s.sandbox.Run(ctx, c)
	switch {
	case errors.Is(err, sandbox.ErrUnavailable):
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorSandbox, err.Error()
		return p, false
	case err != nil:
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorStep, "the step could not start: "+err.Error()
		return p, false
	}
	return p, true
}

func withNote(logs string, refused []string) string {
	if note := refusedNote(refused); note != "" {
		return joinLogs(logs, note)
	}
	return logs
}

func limitHit(res *StepResult, p sandbox.Result, timeout time.Duration) bool {
	switch {
	case p.TimedOut:
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorTimeout, fmt.Sprintf("the step ran past its time limit of %s and was stopped", timeout)
	case p.TooMuch:
		res.Status, res.ErrorKind, res.Error = StatusFailed, ErrorOutput, fmt.Sprintf("the step printed more than %d bytes and was stopped", MaxOutput)
	default:
		return false
	}
	return true
}

func joinLogs(stdout, stderr string) string {
	if stdout != "" && stderr != "" {
		return stdout + "\n" + stderr
	}
	return stdout + stderr
}

// asResult keeps JSON output as JSON and anything else as a JSON string.
func asResult(b []byte) json.RawMessage {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && json.Valid(t) {
		return json.RawMessage(t)
	}
	s, _ := json.Marshal(string(b))
	return s
}
