// Package onnxpb holds the Go types of the ONNX protobuf schema, generated
// from the official onnx.proto (ONNX 1.12, IR version 8) by protoc-gen-go.
// Package model reads and writes ONNX files with them; nothing else should
// need them.
//
// onnx.pb.go is generated; do not edit it. To regenerate it, with protoc
// from Debian's protobuf-compiler, onnx.proto from libonnx-dev, and
// protoc-gen-go at the version go.mod requires:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go
//	go generate ./internal/onnxpb
package onnxpb

//go:generate protoc --proto_path=/usr/include/onnx --go_out=. --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/convnet-go/convnet/internal/onnxpb onnx.proto
