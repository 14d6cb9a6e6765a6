// Package web is the interactive demo of convnet: a single page that lets a
// learner draw a character, see the network's prediction update while they
// draw, and look inside every layer, served with a small JSON API.
//
// [NewServer] builds the handler for a list of named classifiers
// ([model.Classifier]: the inference of package model, its preprocessing,
// top-k, layer outputs, saliency and class activation maps; package
// model/pretrained holds the
// built-in models) and [Server.Serve] runs it with timeouts and a graceful
// shutdown. "convnet serve" is the command line for it.
//
// # The page
//
// The page, its stylesheet and its JavaScript modules are embedded; nothing
// is loaded from elsewhere. It shows, from top to bottom: a drawing pad
// (mouse, touch and pen; undo and clear; a picture picked, dropped or
// pasted), what the network sees in three steps (the drawing with the ink
// the framing found, the framed image, and the standardised input the
// network gets, the mean training image taken away; on demand, the saliency
// map and a class activation map over the drawing), the five most likely
// classes (a small copy of the first stays in view while the page
// scrolls), the layers folded into blocks (a convolution with its batch
// normalisation, activation and dropout) that open on demand, each block's
// output as small colour-mapped images or bars, a graph's skip connections
// drawn beside them, and a model panel with the layer summary, the
// training curves and the confusion matrix. Clicking a feature map opens a
// drawer with that channel's kernel weights, the input channels that feed
// it most, the kernel sliding over its input as the output fills in, what
// the channel looks for (an input it responds to strongly), and, for a
// pixel, its receptive field and the arithmetic that produced it (for
// ShuffleNet's channel slice and shuffle, the input channel it copies,
// whose map is drawn beside); under it, the whole layer: a histogram of its
// values for the drawing (the share a relu set to 0 named, and the maps
// that are 0 everywhere counted) and one of each
// of its weights, which follows the weights epoch by epoch while a run is
// watched.
//
// The address's fragment follows the page (#m=MODEL&s=STROKES&i=IMAGE&sal=1
// &cam=METHOD&cl=LAYER&d=LAYER.CHANNEL&px=ROW.COLUMN), so that the address
// bar links to the view: the strokes are uint16 values in base64url (their
// count; for each, its width in 1/16 pixel, its number of points and the
// points in 1/8 pixel plus 32768), the test image h.w.c.pixels.
//
// The page sends its pad as a binary PGM image, one request at a time (the
// next carries the latest drawing; lifting the pen drops a request on its
// way), asks only for the layers on screen, and times each drawing from
// lifting the pen to its prediction on screen (performance marks
// "convnet:pen-up" and "convnet:shown", measure
// "convnet:pen-up-to-prediction").
//
// # API
//
// All answers are JSON. Every error has a body {"error": "message"}: a 4xx
// for the request (422 when the model's output, or a value the answer
// would hold, is not finite: its weights overflow), 500 for a fault of the
// server (a panic is recovered and logged), 503 when the request ended
// before its answer, the [Options.Timeout] included; an unsupported
// method is a 405 with an Allow header. Paths with "." or ".." segments,
// backslashes or empty segments are refused (400) before routing, and so
// are API queries that do not parse or give a parameter more than once,
// and, after routing, a parameter the endpoint does not take (the error
// names those it takes); only the embedded files are served.
// GET /healthz answers {"status": "ok", "models": N}; the probes and the
// metrics are described under "Running many servers".
//
// # Limits
//
// A request's image gets a budget before it gets memory. A JSON body may
// hold 32 bytes per value of the model's input (plus 4 KiB), any body at
// most [Options.MaxBodyBytes]; both are checked against the declared length
// before anything is read, then while the body streams in (413 beyond). A
// JSON body is parsed value by value and refused at the first value past
// the model's input. An image body must be of the media type it claims
// and its header, within its first 256 KiB (413 beyond), must declare at
// most [Options.MaxImagePixels] (by default 256 times the model's input:
// 512x512 for a 32x32 model), checked before a work slot is taken; it is
// then decoded as it streams in, never held whole. Reading the image and
// running the model take one of [Options.Concurrency] work slots; other
// requests wait for one until they end. Reading a body ends with the
// request's timeout, so a client that stalls its upload gives its slot
// back. The slot and the model copy are given back even when the model
// panics.
//
// GET /api/models lists the served models:
//
//	{"watch": false, "models": [{"name": "ahcd", "input_shape": [32, 32, 1],
//	  "classes": [{"label": 0, "name": "alef ا", "short": "alef", "glyph": "ا"}, ...],
//	  "summary": "...", "has_history": true, "has_evaluation": true, "graph": false,
//	  "framing": {"size": [32, 32], "box": 17, "center": "mass", "at": [17.49, 17.43], "stroke": 1.61},
//	  "mean_image": "<base64 of H*W*C bytes>", "label_smoothing": 0.1,
//	  "layers": [{"index": 0, "name": "conv2d", "type": "Conv2D", "output_shape": [32, 32, 32],
//	    "config": {"filters": 32, "kernel_size": [5, 5], ...},
//	    "params": [{"name": "kernel", "shape": [5, 5, 1, 32]}, {"name": "bias", "shape": [32]}],
//	    "window": {"size": [5, 5], "strides": [1, 1], "pad": [2, 2]}, "inbound": [-1]}, ...]}]}
//
// "inbound" lists the layers whose outputs a layer takes (-1 for the
// input): a graph's branches. "framing" is how the classifier frames an
// image (data.Framing); "mean_image" the mean training image the
// preprocessing subtracts, if it does; "label_smoothing" that of the
// training loss, as the model's "loss" metadata records it.
//
// POST /api/predict?model=NAME[&k=5] takes an image and answers the k most
// probable classes (k defaults to 5); "blank" says that every pixel the
// network got was alike, nothing drawn:
//
//	{"model": "ahcd", "inverted": false, "blank": false, "top": [{"label": 3, "name": "theh ث", "probability": 0.91}, ...]}
//
// The image is the request body, by Content-Type:
//   - image/png, image/jpeg, image/x-portable-graymap (binary PGM, what the
//     page sends) or image/x-portable-pixmap (binary PPM), of any size:
//     framed by the model's classifier as its training images were
//     (model.Classifier.Frame): converted to the model's channels
//     (luminance for grey models), inverted if its border is light (the
//     networks learn white strokes on black; "inverted" says so), cropped
//     to its ink, scaled and centred. An image of exactly the model's input
//     size is taken as framed already.
//   - application/json, {"pixels": [...]}: exactly H*W*C numbers in 0..255,
//     row by row, channels last, white on black; used as is.
//
// A body is sent uncompressed: a Content-Encoding other than identity is
// refused (415).
//
// The model parameter may be left out when a single model is served. The
// paths /api/models/NAME/... name their model; a model parameter naming
// another is refused (400).
//
// POST /api/activations?model=NAME[&k=5][&layers=I,J-K][&full=I,J][&saliency=1][&cam=M[&camlayer=L]][&class=C]
// takes the same bodies and answers everything the page shows for one drawing:
//
//	{"model": "ahcd", "inverted": false,
//	 "placement": {"ink": [61, 133, 220, 148], "center": [140.5, 140.5], "at": [17.49, 17.43], "scale": 0.107},
//	 "pixels": "<base64 of H*W*C bytes: the input before standardisation>",
//	 "input": {"index": -1, "name": "input", "type": "Input", "shape": [32, 32, 1], ...},
//	 "layers": [{"index": 0, "name": "conv2d", "type": "Conv2D", "shape": [32, 32, 32],
//	   "min": 0, "max": 3.2, "encoding": "u8", "data": "<base64>"}, ...],
//	 "top": [...],
//	 "saliency": {...},
//	 "cam": {"method": "hirescam", "layer": 21, "layer_name": "re_lu_5", "class": 3, "name": "theh ث",
//	   "shape": [8, 8], "max": 0.61, "data": "<base64>"}}
//
// "placement" says where the framing found the ink in the image (top,
// left, bottom, right) and where it put it: output point q shows image
// point (q-at)/scale + center. "layers" holds every layer's output, or only
// those listed in the layers parameter (indices and ranges) and in full.
// Each tensor (the standardised input and the layers' outputs for the one
// image) is in NHWC order without the batch axis. With "encoding": "u8" its
// data is one byte per value, v = min + byte/255*(max-min); layers listed in
// "full" (-1 for the input) come as "f32", little-endian float32. "saliency"
// is present with saliency=1, as in /api/saliency (saliency and embed take
// 1 or 0, or true or false; anything else is refused). "cam" is present with
// cam=gradcam or cam=hirescam: the class activation map (see
// [model.CAM]) of class C (default: the top class) over the maps of layer
// L (default: the last convolution's block, [model.Model.CAMLayer]), one
// byte per cell of the layer's height and width, scaled so that 255 is
// max (all 0 when max is 0: no cell raises the score).
//
// POST /api/saliency?model=NAME[&class=C] answers the gradient of the score
// (logit) of class C (default: the top class) with respect to the input:
//
//	{"model": "ahcd", "class": 3, "name": "theh ث", "shape": [32, 32], "max": 0.042, "data": "<base64>"}
//
// data holds H*W bytes: |gradient|, the maximum over channels, scaled so that
// 255 is max.
//
// POST /api/cam?model=NAME[&cam=M][&camlayer=L][&class=C] answers the class
// activation map alone, as "cam" of /api/activations, of method M
// (default hirescam):
//
//	{"model": "ahcd", "method": "hirescam", "layer": 21, "layer_name": "re_lu_5", "class": 3,
//	 "name": "theh ث", "shape": [8, 8], "max": 0.61, "data": "<base64>"}
//
// GET /api/models/NAME/layers/I/pattern?channel=C answers an input that
// channel C of layer I responds to strongly ([model.Classifier.Pattern]:
// 30 steps of gradient ascent from faint noise; for the last layer, C is a
// class), as H*W*C bytes deprocessed as Keras's "Visualizing what convnets
// learn" shows them (less their mean, over their standard deviation, times
// 0.15, plus 0.5, clipped to 0..1), with the channel's mean before and
// after:
//
//	{"model": "ahcd", "layer": 2, "name": "re_lu", "channel": 1, "shape": [32, 32, 1],
//	 "start": 0.34, "end": 7.77, "data": "<base64>",
//	 "top": [{"label": 18, "name": "ghain غ", "probability": 0.949}, ...]}
//
// where top is what the model makes of the pattern, its three most
// probable classes.
//
// GET /api/models/NAME/embedding answers the map of how the model groups
// the test images its evaluation keeps (all of them, or 1000 spread evenly
// over them): each placed in the plane by t-SNE (package tsne) of its
// features, the output of the layer the last layer reads, made once per
// model, in the background from the first request on (202 Accepted,
// {"status": "making the map"} and Retry-After: 1 until it is made); with
// the images' pixels when they take at most 1 MB. "has_map"
// in GET /api/models says whether there is one (404 otherwise, naming the
// reason: no evaluation, fewer than 4 images, or images of another shape
// than the model's input):
//
//	{"model": "ahcd", "layer": 28, "name": "dropout_3", "perplexity": 30,
//	 "image_shape": [32, 32, 1],
//	 "points": [{"x": 17.85, "y": 9.26, "true": 0, "pred": 0, "index": 0, "pixels": "<base64>"}, ...]}
//
// POST /api/activations?embed=1 adds, once the map is made, where the
// drawing lands on it,
// the mean of the points of its 5 nearest test images in feature space
// weighed by the inverse of their distance, and those images (positions in
// points), here for test image 40 of the built-in AHCD model's map sent
// as a drawing: "embedding": {"x": 2.38, "y": 16.31, "neighbours": [40, 41, 153, 97, 225]}.
//
// GET /api/models/NAME/layers/I/kernel?channel=C answers the weights that
// produce output channel C of layer I: for a Conv2D, shape [kh, kw, cin] in
// that order; for a Conv2D of g groups (config "groups"), shape
// [kh, kw, cin/g], the weights of the cin/g input channels of its group
// (C/(F/g) rounded down, F being its filters), the first of which
// "input_channel" names; for a DepthwiseConv2D, shape [kh, kw, 1], the
// weights of its one input channel, which "input_channel" names (C/M
// rounded down for a depth multiplier of M: each input channel feeds M
// output channels and no other); for a Dense layer, shape [in]. Slice i of
// a [kh, kw, n] kernel reads input channel input_channel+i
// ("input_channel" is 0 but for a grouped Conv2D and a DepthwiseConv2D).
// bias is null without a bias.
//
//	{"model": "ahcd", "layer": 0, "name": "conv2d", "type": "Conv2D", "channel": 5,
//	 "input_channel": 0, "shape": [5, 5, 1], "values": [...], "bias": 0.013, "config": {...}}
//
// GET /api/models/NAME/layers/I/weights answers how each of layer I's
// weights spreads: its count, the values that are not finite (counted apart
// and left out of the rest), the zeros, range, mean, standard deviation
// and a histogram of 30 equal-width bins from min to max, bin i holding
// edges[i] <= v < edges[i+1], the last bin closed (one bin when all are
// equal); "params" is empty for a layer without weights:
//
//	{"model": "ahcd", "layer": 3, "name": "conv2d_1", "type": "Conv2D", "params": [{"name": "kernel",
//	 "shape": [3, 3, 32, 32], "trainable": true, "count": 9216, "non_finite": 0, "zeros": 0,
//	 "min": -0.567, "max": 0.387, "mean": -0.0179, "std": 0.125, "edges": [...31], "counts": [...30]}]}
//
// GET /api/models/NAME/layers/I/activation?z=Z1,Z2,... applies the
// activation function of layer I (its "activation" config) to up to 4,096
// values, with the network's own code (softmax takes them as one row); the
// page's arithmetic uses it rather than a copy of its own. A value whose
// result is beyond float32 (selu of 3.4e38) is refused (400), as JSON has
// no infinities:
//
//	{"model": "ahcd", "layer": 0, "activation": "relu", "z": [-1.5, 2], "values": [0, 2]}
//
// Each layer of GET /api/models that slides a window (Conv2D,
// DepthwiseConv2D, the 2-D pooling layers, and ZeroPadding2D and
// Cropping2D as windows of one cell, a crop's pad negative) has "window":
// {"size": [kh, kw], "strides": [sh, sw], "pad": [top, left], "dilation":
// [dh, dw]}, the geometry the layer computes with: output cell (y, x) reads
// input rows y*sh-top+k*dh for k < kh (dh is 1 but in a dilated
// convolution), and likewise columns.
//
// GET /api/models/NAME/history answers the training history stored in the
// model's metadata under "history", a JSON object of per-epoch lists:
//
//	{"epoch": [1, 2, ...], "loss": [...], "accuracy": [...], "val_loss": [...],
//	 "val_accuracy": [...], "learning_rate": [...]}
//
// where a validation list holds null for an epoch that was not validated
// (convnet train --validation-freq).
//
// GET /api/models/NAME/evaluation answers the test-set evaluation stored under
// "evaluation", without the images, plus how many images each cell holds:
//
//	{"classes": [...], "accuracy": 0.95, "loss": 0.18, "count": 3360,
//	 "matrix": [[118, 0, ...], ...], "image_shape": [32, 32, 1], "sample_counts": [[8, 0, ...], ...]}
//
// matrix[t][p] counts the test images of true class t predicted as p.
//
// GET /api/models/NAME/evaluation/samples?true=T&pred=P answers the stored
// test images of one cell: {"true": T, "pred": P, "count": n, "image_shape":
// [32, 32, 1], "samples": [{"true": T, "pred": P, "index": i, "pixels": "<base64>"}, ...]}.
//
// GET /api/watch, served when a training run is watched ([Options].Watch,
// "convnet train --watch"), is a stream of server-sent events: "epoch"
// {"model", "epoch", "epochs", "logs": {"loss", "accuracy", ...}} when the
// served model has become that epoch's network (the last epoch so far is
// sent on connecting; a log that is not a finite number is null), and "end"
// {"message"} when the run is over. At most 64 pages follow a run at once;
// one more gets a 503.
//
// # Metadata written by training and evaluation
//
// The "evaluation" metadata is a JSON object with the fields above plus
// "samples", a list of {"true": t, "pred": p, "index": i, "pixels": base64}
// where index is the image's position in the test set and pixels its
// H*W*C raw bytes (0..255, upright, white on black, row by row, channels
// last; a Go []byte field encodes this way). Metadata that does not parse is
// ignored with a warning on the server's log.
//
// # Running many servers
//
// Replicas of the server behind a load balancer are told apart from the
// outside by three endpoints:
//
//   - GET /healthz (liveness) answers 200 while the process runs.
//   - GET /readyz (readiness) answers 200 {"status": "ready", "models": N}
//     while the server takes work, 503 with no models or once [Server.Serve]
//     is shutting down.
//   - GET /metrics answers the Prometheus text format, from a registry of
//     the server's own: convnet_http_requests_total by endpoint (the route's
//     pattern, such as "/api/predict" or "/api/models/{name}/history";
//     "none" for a request refused before routing) and code;
//     convnet_http_request_duration_seconds, a histogram by endpoint;
//     convnet_http_requests_in_flight; convnet_work_slots and
//     convnet_work_slots_busy ([Options.Concurrency]); for each model,
//     convnet_model_pool_size, _copies, _busy and _waiting, the use of its
//     copies ([model.Classifier.PoolStats]); and the Go runtime's and the
//     process's standard metrics (go_*, process_*).
//
// With [Options.Logger] set, every request ends with a log record: method,
// path, status, duration, bytes and model. When its context ends,
// [Server.Serve] turns /readyz to 503, waits [Options.DrainDelay], closes its
// listener and lets the requests in flight finish, for up to
// [Options.DrainTimeout].
package web
