package sqlstore

import (
	"database/sql"
	"fmt"
)

// collect scans every row of rows with scan, closes rows and returns what
// it read: nil when there were no rows. A failed scan or read is wrapped
// with op and returns nothing. It reads the rows of one query only: s.query
// retries the query, not what collect reads of it.
func collect[T any](rows *sql.Rows, op string, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out, err := scanAll(rows, op, scan)
	if err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// scanAll is collect without the check of rows.Err, for the lists that
// return that error as it is: a failed scan is wrapped with op and
// returns nothing; closing rows and rows.Err are the caller's.
func scanAll[T any](rows *sql.Rows, op string, scan func(scanner) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func scanString(row scanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}
