package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// pgConnector is a minimal database/sql driver over pgconn, the protocol
// layer of github.com/jackc/pgx/v5. pgx's own database/sql adapter (stdlib)
// links pgx's whole type system (pgtype), 3.5 MB of the static binary for
// nothing this package needs: every value n8n keeps encrypted is text, and
// every key is text or an integer. Parameters are sent as text with types
// left to the server; results come back as text, integers and booleans as
// int64 and bool.
type pgConnector struct {
	cfg *pgconn.Config
}

var _ driver.Connector = (*pgConnector)(nil)

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	pc, err := pgconn.ConnectConfig(ctx, c.cfg)
	if err != nil {
		return nil, err
	}
	return &pgConn{pc: pc}, nil
}

func (c *pgConnector) Driver() driver.Driver { return pgDriver{} }

// pgDriver exists for driver.Connector; connections come from Connect.
type pgDriver struct{}

func (pgDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("store: open postgres connections through the connector")
}

type pgConn struct {
	pc *pgconn.PgConn
}

var (
	_ driver.QueryerContext = (*pgConn)(nil)
	_ driver.ExecerContext  = (*pgConn)(nil)
	_ driver.ConnBeginTx    = (*pgConn)(nil)
	_ driver.Pinger         = (*pgConn)(nil)
	_ driver.Validator      = (*pgConn)(nil)
)

func (c *pgConn) Prepare(string) (driver.Stmt, error) {
	return nil, errors.New("store: prepared statements are not supported")
}

func (c *pgConn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.pc.Close(ctx)
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	q := "BEGIN"
	switch opts.Isolation {
	case driver.IsolationLevel(0):
	case driver.IsolationLevel(4): // sql.LevelRepeatableRead
		q += " ISOLATION LEVEL REPEATABLE READ"
	case driver.IsolationLevel(6): // sql.LevelSerializable
		q += " ISOLATION LEVEL SERIALIZABLE"
	default:
		return nil, errors.New("store: unsupported isolation level")
	}
	if opts.ReadOnly {
		q += " READ ONLY"
	} else {
		q += " READ WRITE"
	}
	if err := c.simple(ctx, q); err != nil {
		return nil, err
	}
	return &pgTx{c: c}, nil
}

func (c *pgConn) simple(ctx context.Context, q string) error {
	_, err := c.pc.Exec(ctx, q).ReadAll()
	return err
}

func (c *pgConn) Ping(ctx context.Context) error {
	if c.pc.IsClosed() {
		return driver.ErrBadConn
	}
	return c.pc.Ping(ctx)
}

func (c *pgConn) IsValid() bool { return !c.pc.IsClosed() }

func textParams(args []driver.NamedValue) ([][]byte, error) {
	out := make([][]byte, len(args))
	for i, a := range args {
		switch v := a.Value.(type) {
		case nil:
		case string:
			out[i] = []byte(v)
		case []byte:
			out[i] = v
		case int64:
			out[i] = strconv.AppendInt(nil, v, 10)
		case bool:
			out[i] = []byte(strconv.FormatBool(v))
		case float64:
			out[i] = strconv.AppendFloat(nil, v, 'g', -1, 64)
		case time.Time:
			out[i] = []byte(v.Format(time.RFC3339Nano))
		default:
			return nil, fmt.Errorf("store: parameter %d: unsupported type %T", i+1, a.Value)
		}
	}
	return out, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	params, err := textParams(args)
	if err != nil {
		return nil, err
	}
	tag, err := c.pc.ExecParams(ctx, query, params, nil, nil, nil).Close()
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	params, err := textParams(args)
	if err != nil {
		return nil, err
	}
	rr := c.pc.ExecParams(ctx, query, params, nil, nil, nil)
	fields := rr.FieldDescriptions()
	if fields == nil {
		// An error before the row description: report it now.
		if _, err := rr.Close(); err != nil {
			return nil, err
		}
	}
	return &pgRows{rr: rr, fields: fields}, nil
}

type pgTx struct{ c *pgConn }

func (t *pgTx) Commit() error   { return t.c.simple(context.Background(), "COMMIT") }
func (t *pgTx) Rollback() error { return t.c.simple(context.Background(), "ROLLBACK") }

type pgRows struct {
	rr     *pgconn.ResultReader
	fields []pgconn.FieldDescription
	closed bool
}

func (r *pgRows) Columns() []string {
	out := make([]string, len(r.fields))
	for i, f := range r.fields {
		out[i] = f.Name
	}
	return out
}

func (r *pgRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	_, err := r.rr.Close()
	return err
}

// Type OIDs decoded to Go types; every other type comes back as text.
const (
	oidBool = 16
	oidInt8 = 20
	oidInt2 = 21
	oidInt4 = 23
)

func (r *pgRows) Next(dest []driver.Value) error {
	if r.closed || !r.rr.NextRow() {
		if err := r.Close(); err != nil {
			return err
		}
		return io.EOF
	}
	vals := r.rr.Values()
	for i, v := range vals {
		if v == nil {
			dest[i] = nil
			continue
		}
		switch r.fields[i].DataTypeOID {
		case oidInt2, oidInt4, oidInt8:
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return err
			}
			dest[i] = n
		case oidBool:
			dest[i] = strings.HasPrefix(string(v), "t")
		default:
			dest[i] = string(v) // a copy: v is reused by the next row
		}
	}
	return nil
}
