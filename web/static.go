package web

import "embed"

// staticFiles holds the page: plain HTML, CSS and JavaScript modules.
//
//go:embed static
var staticFiles embed.FS
