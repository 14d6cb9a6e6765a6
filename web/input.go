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
	"mime"
	"net/http"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/model"
)

// httpError is an error with the HTTP status to answer.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status, fmt.Sprintf(format, args...)}
}

// bodyError maps an error reading the request body: 413 past the size limit,
// else 400 with what was being read.
func bodyError(what string, err error) error {
	if mbe := new(http.MaxBytesError); errors.As(err, &mbe) {
		return errorf(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", mbe.Limit)
	}
	return errorf(http.StatusBadRequest, "%s: %v", what, err)
}

// mediaTypes are the media types of the POST endpoints' bodies, with the
// image format each names (as image.DecodeConfig reports it).
var mediaTypes = map[string]string{
	"application/json":         "",
	"image/png":                "png",
	"image/jpeg":               "jpeg",
	"image/x-portable-graymap": "pgm",
	"image/x-portable-pixmap":  "ppm",
}

const acceptedTypes = "send image/png, image/jpeg, image/x-portable-graymap, image/x-portable-pixmap or application/json"

// mediaType returns the request's media type if it is one the POST
// endpoints take (mediaTypes), for a body sent as it is (no
// Content-Encoding but identity).
func mediaType(r *http.Request) (string, error) {
	for _, ce := range r.Header.Values("Content-Encoding") {
		if ce := strings.TrimSpace(ce); ce != "" && !strings.EqualFold(ce, "identity") {
			return "", errorf(http.StatusUnsupportedMediaType, "Content-Encoding %q: send the body uncompressed", ce)
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return "", errorf(http.StatusUnsupportedMediaType, "missing Content-Type: %s", acceptedTypes)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", errorf(http.StatusUnsupportedMediaType, "bad Content-Type %q: %v", ct, err)
	}
	if _, ok := mediaTypes[mt]; !ok {
		return "", errorf(http.StatusUnsupportedMediaType, "unsupported Content-Type %q: %s", mt, acceptedTypes)
	}
	return mt, nil
}

// maxImageHeader bounds the bytes of an image read to find its size (a
// JPEG's segments before its frame header, a PGM's comments), which a
// request holds before it waits for a work slot; the page reads as much to
// size a picture.
const maxImageHeader = 256 << 10

// upload is a request's image, checked as far as it can be before it costs
// memory or a work slot.
type upload struct {
	mt   string
	body io.Reader // for an image, the header bytes read again, then the rest
}

// open checks the request's body before a work slot is taken. A JSON body
// may hold at most maxJSONBytes (enough for the model's values, each
// written out at length) and any body at most maxBody; both are checked
// against the declared length at once and while streaming. An image
// body's header must fit in maxImageHeader bytes and name its media type
// and a size within the model's pixel budget.
func open(w http.ResponseWriter, r *http.Request, m *served, mt string, maxBody int64) (*upload, error) {
	limit := maxBody
	if mt == "application/json" {
		limit = min(limit, m.maxJSONBytes)
	}
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes: at most %d bytes for %s and model %s", r.ContentLength, limit, mt, m.name)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	if mt == "application/json" {
		return &upload{mt, body}, nil
	}
	var head bytes.Buffer
	lr := &io.LimitedReader{R: body, N: maxImageHeader}
	cfg, format, err := image.DecodeConfig(io.TeeReader(lr, &head))
	if err != nil && lr.N == 0 {
		return nil, errorf(http.StatusRequestEntityTooLarge, "decoding the %s body: its header takes more than %d bytes before the image's size", mt, maxImageHeader)
	}
	if err != nil {
		return nil, bodyError("decoding the "+mt+" body", err)
	}
	if format != mediaTypes[mt] {
		return nil, errorf(http.StatusBadRequest, "the body is a %s image, not %s", format, mt)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > int64(m.maxPixels) {
		return nil, errorf(http.StatusRequestEntityTooLarge, "image of %dx%d pixels: model %s takes at most %d pixels (its input is %dx%d)",
			cfg.Width, cfg.Height, m.name, m.maxPixels, m.shape[1], m.shape[0])
	}
	return &upload{mt, io.MultiReader(&head, body)}, nil
}

// pixels returns the upload as the model's raw input, 0..255, [H, W, C]
// row by row. The caller holds a work slot: this is where a request costs
// memory and time.
//
// An image is decoded as it streams in and framed by the model's classifier
// (inverted if its border is light, cropped to its ink, scaled and centred
// as the training images were: model.Classifier.Frame). A JSON body
// {"pixels": [...]} is checked value by value as it streams in, refused as
// soon as it holds more values than the model takes, and used as it is.
func (u *upload) pixels(m *served) (model.Framed, error) {
	if u.mt == "application/json" {
		px, err := readPixelsJSON(u.body, m.shape)
		return model.Framed{Pixels: px, Placement: data.Placement{Ink: [4]float64{0, 0, float64(m.shape[0]), float64(m.shape[1])}, Scale: 1}}, err
	}
	img, _, err := image.Decode(u.body)
	if err != nil {
		return model.Framed{}, bodyError("decoding the "+u.mt+" body", err)
	}
	return m.c.Frame(img), nil
}

// readPixelsJSON reads {"pixels": [H*W*C numbers in 0..255]} token by
// token, so that a body holding more values than the model takes is
// refused without being read to the end.
func readPixelsJSON(body io.Reader, shape []int) ([]float32, error) {
	size := shape[0] * shape[1] * shape[2]
	dec := json.NewDecoder(body)
	token := func() (json.Token, error) {
		t, err := dec.Token()
		if err != nil {
			return nil, bodyError("malformed JSON", err)
		}
		return t, nil
	}
	if t, err := token(); err != nil {
		return nil, err
	} else if t != json.Delim('{') {
		return nil, errorf(http.StatusBadRequest, "malformed JSON: want an object {\"pixels\": [...]}")
	}
	var px []float32
	for dec.More() {
		key, err := token()
		if err != nil {
			return nil, err
		}
		if key != "pixels" {
			return nil, errorf(http.StatusBadRequest, "malformed JSON: unknown field %q (want only \"pixels\")", key)
		}
		if px != nil {
			return nil, errorf(http.StatusBadRequest, "malformed JSON: \"pixels\" given twice")
		}
		if t, err := token(); err != nil {
			return nil, err
		} else if t != json.Delim('[') {
			return nil, errorf(http.StatusBadRequest, "malformed JSON: pixels is not a list")
		}
		px = make([]float32, 0, size)
		for dec.More() {
			if len(px) == size {
				return nil, errorf(http.StatusBadRequest, "pixels: more than %d values, want %d (%dx%dx%d)", size, size, shape[0], shape[1], shape[2])
			}
			t, err := token()
			if err != nil {
				return nil, err
			}
			v, ok := t.(float64)
			if !ok {
				return nil, errorf(http.StatusBadRequest, "malformed JSON: pixels[%d] is not a number", len(px))
			}
			if v < 0 || v > 255 {
				return nil, errorf(http.StatusBadRequest, "pixels[%d] = %v, want a value in 0..255", len(px), v)
			}
			px = append(px, float32(v))
		}
		if _, err := token(); err != nil { // ]
			return nil, err
		}
	}
	if _, err := token(); err != nil { // }
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf(http.StatusBadRequest, "malformed JSON: data after the object")
	}
	if len(px) != size {
		return nil, errorf(http.StatusBadRequest, "pixels: got %d values, want %d (%dx%dx%d)", len(px), size, shape[0], shape[1], shape[2])
	}
	return px, nil
}
