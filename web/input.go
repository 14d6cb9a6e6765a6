package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // JPEG bodies
	_ "image/png"  // PNG bodies
	"io"
	"math"
	"mime"
	"net/http"

	"github.com/convnet-go/convnet/data"
)

// maxImagePixels bounds the decoded size of an uploaded image.
const maxImagePixels = 40 << 20

// httpError is an error with the HTTP status to answer.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// readBody reads the whole request body, mapping an oversized one to 413.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		if mbe := new(http.MaxBytesError); errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mbe.Limit)
		}
		return nil, errorf(http.StatusBadRequest, "reading the request body: %v", err)
	}
	return b, nil
}

// pixelsRequest is the JSON form of an input image.
type pixelsRequest struct {
	Pixels []float64 `json:"pixels"`
}

// readPixels returns the request's image as raw pixels 0..255 of the given
// [H, W, C] shape, row-major, and whether they were inverted.
//
// A PNG or JPEG body is resized to the shape; if its border is light (dark
// ink on white paper) it is inverted, since the networks learn white strokes
// on black. A JSON body {"pixels": [...]} must hold exactly H*W*C values in
// 0..255 and is used as is.
func readPixels(r *http.Request, shape []int) ([]float32, bool, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, false, errorf(http.StatusUnsupportedMediaType, "missing Content-Type: send image/png, image/jpeg or application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, false, errorf(http.StatusUnsupportedMediaType, "bad Content-Type %q: %v", ct, err)
	}
	body, err := readBody(r)
	if err != nil {
		return nil, false, err
	}
	size := shape[0] * shape[1] * shape[2]
	switch mt {
	case "application/json":
		var req pixelsRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return nil, false, errorf(http.StatusBadRequest, "malformed JSON: %v", err)
		}
		if dec.More() {
			return nil, false, errorf(http.StatusBadRequest, "malformed JSON: data after the object")
		}
		if len(req.Pixels) != size {
			return nil, false, errorf(http.StatusBadRequest, "pixels: got %d values, want %d (%dx%dx%d)", len(req.Pixels), size, shape[0], shape[1], shape[2])
		}
		px := make([]float32, size)
		for i, v := range req.Pixels {
			if math.IsNaN(v) || v < 0 || v > 255 {
				return nil, false, errorf(http.StatusBadRequest, "pixels[%d] = %v, want a value in 0..255", i, v)
			}
			px[i] = float32(v)
		}
		return px, false, nil
	case "image/png", "image/jpeg":
		cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
		if err != nil {
			return nil, false, errorf(http.StatusBadRequest, "decoding the %s body: %v", mt, err)
		}
		if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
			return nil, false, errorf(http.StatusRequestEntityTooLarge, "image of %dx%d pixels: at most %d pixels", cfg.Width, cfg.Height, maxImagePixels)
		}
		img, _, err := image.Decode(bytes.NewReader(body))
		if err != nil {
			return nil, false, errorf(http.StatusBadRequest, "decoding the %s body: %v", mt, err)
		}
		px := data.ImageToPixels(img, shape[0], shape[1], shape[2])
		inverted := data.MatchPolarity(px, shape[0], shape[1], shape[2])
		return px, inverted, nil
	default:
		return nil, false, errorf(http.StatusUnsupportedMediaType, "unsupported Content-Type %q: send image/png, image/jpeg or application/json", mt)
	}
}
