package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// textFilter adds the text filter of f to where. A case-insensitive LIKE
// over nickname, identity and app decides which accounts match; what the
// dialect offers only narrows down the rows it looks at: SQLite's FTS5
// trigram index (narrowText), or PostgreSQL's trigram index led by a rare
// piece of the text (rareWindow).
func (s *Store) textFilter(ctx context.Context, f store.AccountFilter, arg func(any) string, where []string) ([]string, error) {
	match, err := s.narrowText(ctx, f.Text)
	if err != nil {
		return nil, fmt.Errorf("list accounts of %s: text: %w", f.WorkspaceID, err)
	}
	if match != "" {
		where = append(where, "accounts.rowid IN (SELECT rowid FROM "+s.d.TextIndex+" WHERE "+s.d.TextIndex+" MATCH "+arg(match)+")")
		// The few candidates lead. A unary + keeps the planner from
		// walking the workspace's index in id order instead, as it
		// would (it takes workspace_id = ? to select few rows), and
		// testing every account against the candidates.
		where[0] = "+" + where[0]
	}
	window, err := s.rareWindow(ctx, f.Text)
	if err != nil {
		return nil, fmt.Errorf("list accounts of %s: text: %w", f.WorkspaceID, err)
	}
	if window != "" {
		w := arg("%" + escapeLike(window) + "%")
		wlike := " " + s.d.ILike + " " + w + ` ESCAPE '\'`
		where = append(where, fmt.Sprintf(s.d.TextSample.Within,
			"SELECT id FROM accounts WHERE workspace_id = "+arg(f.WorkspaceID)+
				" AND (nickname"+wlike+" OR identity_label"+wlike+" OR app"+wlike+")"))
	}
	p := arg("%" + escapeLike(f.Text) + "%")
	like := " " + s.d.ILike + " " + p + ` ESCAPE '\'`
	return append(where, "(nickname"+like+" OR identity_label"+like+" OR app"+like+")"), nil
}

// textIndexCap is how many rows of the text index a search may take as
// its candidates. A text that more rows hold is common: a scan in id order
// meets its matches soon and stops at the page's end, where a page built
// from the candidates would read and sort every one of them.
const textIndexCap = 5000

// textCap is textIndexCap, or what SetTextIndexCap set.
func (s *Store) textCap() int {
	if s.textIndexCap > 0 {
		return s.textIndexCap
	}
	return textIndexCap
}

// SetTextIndexCap changes textIndexCap, for a test to take both ways of
// searching over a small set. It must be called before the store is used.
func (s *Store) SetTextIndexCap(n int) { s.textIndexCap = n }

// maxProbes bounds the trigrams narrowText looks up, each a short read.
const maxProbes = 6

// narrowText returns the FTS5 query that narrows a text filter's
// candidates down, or "" to scan instead: where there is no text index
// (PostgreSQL's ILIKE uses its own), where the text is shorter than a
// trigram, or where it is common. The candidates are the rows that hold
// each of the text's rare trigrams: FTS5 reads the whole list of every
// trigram in a query, so the trigrams that nearly every row holds
// ("com", "exa") would cost far more than they narrow. The trigrams looked
// at are the text's consecutive three-character pieces (and its last
// three); one is rare when fewer than textIndexCap rows hold it. Either
// way the results are the same, since the LIKE decides; only the speed
// differs.
func (s *Store) narrowText(ctx context.Context, text string) (string, error) {
	runes := []rune(text)
	if s.d.TextIndex == "" || len(runes) < 3 {
		return "", nil
	}
	var pieces []string
	for i := 0; i+3 <= len(runes) && len(pieces) < maxProbes-1; i += 3 {
		pieces = append(pieces, string(runes[i:i+3]))
	}
	if last := string(runes[len(runes)-3:]); !slices.Contains(pieces, last) {
		pieces = append(pieces, last)
	}
	var rare []string
	for _, p := range pieces {
		n, err := s.textCandidates(ctx, ftsPhrase(p))
		if err != nil {
			return "", err
		}
		if n < s.textCap() {
			rare = append(rare, ftsPhrase(p))
		}
	}
	if len(rare) > 0 {
		return strings.Join(rare, " AND "), nil
	}
	// Every piece is common; the whole text may not be.
	whole := ftsPhrase(text)
	n, err := s.textCandidates(ctx, whole)
	if err != nil || n >= s.textCap() {
		return "", err
	}
	return whole, nil
}

// textCandidates counts the rows of the text index that match, up to
// textIndexCap.
func (s *Store) textCandidates(ctx context.Context, match string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+s.d.TextIndex+` WHERE `+s.d.TextIndex+` MATCH $1 LIMIT $2) AS candidates`,
		match, s.textCap()).Scan(&n)
	return n, err
}

// ftsPhrase is text as one FTS5 phrase: quoted, its quotes doubled, so
// that no character of it is query syntax.
func ftsPhrase(text string) string {
	return `"` + strings.ReplaceAll(text, `"`, `""`) + `"`
}

// TextSample is how a dialect whose ILIKE its trigram index serves
// (PostgreSQL's pg_trgm) finds a rare piece of a text filter. Such an
// index reads the whole list of rows of every trigram of the pattern, and
// the trigrams nearly every row holds ("com", "exa") cost far more than
// they narrow; nor can the planner tell a rare text from a common one, so
// it may walk the accounts in id order testing each against the pattern.
// A small sample of the table says which trigrams are rare.
type TextSample struct {
	// Rows is a query of the accounts table's estimated row count; a
	// table smaller than textSampleFloor is searched as it is.
	Rows string
	// From is the FROM clause of a sample of about $1 percent of the
	// accounts table's pages.
	From string
	// Within is a format wrapping the narrowing query (%s) into a
	// condition on id that the database evaluates first, once.
	Within string
}

// Text sampling's figures: a sample of about textSampleRows accounts; a
// text that more than textCommonPct percent of it holds is common (a walk
// in id order meets a page of matches soon); a trigram that at most
// textRarePct percent of it holds is rare enough to lead.
const (
	textSampleFloor = 50000
	textSampleRows  = 1000
	textCommonPct   = 1
	textRarePct     = 3
	maxSampled      = 16
)

// SetTextSampleFloor changes textSampleFloor, for a test to take the
// sampled way over a small set (0: whatever the table's size). It must be
// called before the store is used.
func (s *Store) SetTextSampleFloor(n int) { s.textSampleFloor = &n }

// rareWindow returns the longest piece of text whose every trigram is
// rare in a sample of the accounts, when text itself is rare there, or ""
// to search with text alone: where the dialect has no TextSample, the
// table is small, the text is common, or no trigram of it is rare.
func (s *Store) rareWindow(ctx context.Context, text string) (string, error) {
	runes := []rune(text)
	if s.d.TextSample == nil || len(runes) < 3 {
		return "", nil
	}
	floor := textSampleFloor
	if s.textSampleFloor != nil {
		floor = *s.textSampleFloor
	}
	var rows float64
	if err := s.queryRow(ctx, s.d.TextSample.Rows).Scan(&rows); err != nil {
		return "", fmt.Errorf("estimate accounts: %w", err)
	}
	if floor > 0 && rows < float64(floor) {
		return "", nil
	}
	lower := []rune(strings.ToLower(text))
	if len(lower) != len(runes) {
		return "", nil // a case mapping that changes lengths: no windows to line up
	}
	var grams []string
	for i := 0; i+3 <= len(lower) && len(grams) < maxSampled; i++ {
		grams = append(grams, string(lower[i:i+3]))
	}
	// One pass over the sample counts the text and each trigram.
	args := []any{min(100, 100*textSampleRows/max(rows, 1)), string(lower)}
	cols := "COUNT(*), COUNT(*) FILTER (WHERE strpos(t, $2) > 0)"
	for _, g := range grams {
		args = append(args, g)
		cols += fmt.Sprintf(", COUNT(*) FILTER (WHERE strpos(t, $%d) > 0)", len(args))
	}
	counts := make([]int64, len(grams)+2)
	dest := make([]any, len(counts))
	for i := range counts {
		dest[i] = &counts[i]
	}
	q := "SELECT " + cols + " FROM (SELECT lower(nickname || ' ' || identity_label || ' ' || app) AS t FROM " + s.d.TextSample.From + ") AS sample"
	if err := s.queryRowDirect(ctx, q, args...).Scan(dest...); err != nil {
		return "", fmt.Errorf("sample accounts: %w", err)
	}
	n := counts[0]
	if n == 0 || counts[1]*100 > n*textCommonPct {
		return "", nil
	}
	// The longest run of rare trigrams, and of runs as long the rarer.
	best, bestLen, bestSum := -1, 0, int64(0)
	for start := 0; start < len(grams); start++ {
		var sum int64
		for end := start; end < len(grams) && counts[2+end]*100 <= n*textRarePct; end++ {
			sum += counts[2+end]
			if l := end - start + 1; l > bestLen || (l == bestLen && sum < bestSum) {
				best, bestLen, bestSum = start, l, sum
			}
		}
	}
	if best < 0 {
		return "", nil
	}
	return string(runes[best : best+bestLen+2]), nil
}
