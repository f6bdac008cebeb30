package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Migrate applies a backend's pending migrations (the *.sql files under
// "migrations" in fsys) to db and returns the schema version it is at now.
// No global goose state is touched.
func Migrate(ctx context.Context, db *sql.DB, dialect goose.Dialect, fsys fs.FS, name string, opts ...goose.ProviderOption) (int64, error) {
	sub, err := fs.Sub(fsys, "migrations")
	if err != nil {
		return 0, fmt.Errorf("migrate %s: %w", name, err)
	}
	p, err := goose.NewProvider(dialect, db, sub, append([]goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}, opts...)...)
	if err != nil {
		return 0, fmt.Errorf("migrate %s: %w", name, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate %s: %w", name, err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate %s: version: %w", name, err)
	}
	return v, nil
}
