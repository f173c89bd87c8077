package websocket

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the JSON encoding of v as one text message. When v
// cannot be encoded it returns the encoding error and sends nothing;
// otherwise it returns what WriteMessage returns. It is safe for concurrent
// use.
func (c *Conn) WriteJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.WriteMessage(TextMessage, b)
}

// ReadJSON reads the next data message and decodes it as JSON into v. A
// message that ends before the JSON value does returns
// io.ErrUnexpectedEOF. Read errors are as for NextReader; it must not be
// called concurrently with another read.
func (c *Conn) ReadJSON(v any) error {
	_, r, err := c.NextReader()
	if err != nil {
		return err
	}
	err = json.NewDecoder(r).Decode(v)
	if err == io.EOF {
		// An empty message is not a JSON value.
		err = io.ErrUnexpectedEOF
	}
	return err
}
