package data

import (
	"context"
	"io"
)

// ctxReader fails its reads once ctx is done, so that a load stops within a
// read of being interrupted.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
