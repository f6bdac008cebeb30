package proxy

import "io"

// capped reads at most limit bytes and then fails with a *TooLargeError
// (of the request or of the answer), rather than cutting the body short.
type capped struct {
	r       io.Reader
	left    int64
	limit   int64
	request bool
	// over and err say how reading ended, for the audit and the error.
	over bool
	err  error
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			c.over = true
			c.err = &TooLargeError{Request: c.request, Limit: c.limit}
			return 0, c.err
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// answerBody caps the provider's answer and audits the call when closed.
type answerBody struct {
	capped
	closer io.Closer
	call   *call
}

func (b *answerBody) Close() error {
	err := b.closer.Close()
	b.call.done(b.call.status, b.err)
	return err
}
