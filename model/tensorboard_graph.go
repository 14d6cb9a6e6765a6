package model

import (
	"encoding/json"

	"google.golang.org/protobuf/encoding/protowire"
)

// graphDocument returns the document TensorBoard's graph plugin draws the
// model from, its "conceptual graph": what Keras's TensorBoard callback
// writes, model.to_json(). It is the model's architecture (see
// [Model.Architecture]) with each layer's call in Keras 3's form,
// {"args": [keras tensor or list of them], "kwargs": {}}, a keras tensor
// being {"class_name": "__keras_tensor__", "config": {"keras_history":
// [layer, 0, 0]}}: the form TensorBoard draws edges from (it draws none
// from Keras 2's). A stack's layers have no calls: the graph plugin links
// each to the one before it.
func (m *Model) graphDocument() ([]byte, error) {
	arch := m.architecture()
	if arch["class_name"] == "Functional" {
		layers := arch["config"].(map[string]any)["layers"].([]any)
		for i, l := range m.Layers {
			var args []any
			for _, j := range m.inbound(i) {
				args = append(args, map[string]any{"class_name": "__keras_tensor__",
					"config": map[string]any{"keras_history": []any{m.nodeName(j), 0, 0}}})
			}
			arg := any(args[0])
			if len(args) > 1 { // a merge layer takes one list of tensors
				arg = args
			}
			kwargs := map[string]any{}
			if m.inference[l] {
				kwargs["training"] = false
			}
			layers[i+1].(map[string]any)["inbound_nodes"] = []any{map[string]any{"args": []any{arg}, "kwargs": kwargs}}
		}
	}
	return json.Marshal(arch)
}

// The fields of summary.proto and tensor.proto that a Keras model's
// summary has.
const (
	valueTensor   = 8 // TensorProto
	valueMetadata = 9 // SummaryMetadata

	metadataPluginData = 1 // PluginData
	pluginName         = 1 // string
	pluginContent      = 2 // bytes

	tensorDtype     = 1 // enum DataType
	tensorShape     = 2 // TensorShapeProto
	tensorStringVal = 8 // repeated bytes
	dtString        = 7 // DataType.DT_STRING
)

// kerasModel adds the Summary.Value that Keras's keras_model_summary writes:
// the document as a scalar string tensor, for the graph plugin
// ("graph_keras_model", version "1").
func (s summary) kerasModel(tag string, doc []byte) summary {
	tensor := protowire.AppendVarint(protowire.AppendTag(nil, tensorDtype, protowire.VarintType), dtString)
	tensor = protowire.AppendBytes(protowire.AppendTag(tensor, tensorShape, protowire.BytesType), nil) // a scalar
	tensor = protowire.AppendBytes(protowire.AppendTag(tensor, tensorStringVal, protowire.BytesType), doc)
	plugin := protowire.AppendString(protowire.AppendTag(nil, pluginName, protowire.BytesType), "graph_keras_model")
	plugin = protowire.AppendBytes(protowire.AppendTag(plugin, pluginContent, protowire.BytesType), []byte("1"))
	meta := protowire.AppendBytes(protowire.AppendTag(nil, metadataPluginData, protowire.BytesType), plugin)

	val := protowire.AppendString(protowire.AppendTag(nil, valueTag, protowire.BytesType), tag)
	val = protowire.AppendBytes(protowire.AppendTag(val, valueTensor, protowire.BytesType), tensor)
	val = protowire.AppendBytes(protowire.AppendTag(val, valueMetadata, protowire.BytesType), meta)
	return s.value(val)
}
