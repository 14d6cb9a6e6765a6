package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/safefile"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/plot"
	"github.com/convnet-go/convnet/tsne"
)

// mapImages is the most test images on --map's picture, spread evenly over
// the test set: exact t-SNE's time grows as their square (about 4 s for
// 1000 on two cores, AMD EPYC; see tsne.BenchmarkEmbed).
const mapImages = 1000

// writeMap draws --map: the test images (all, or mapImages spread evenly)
// placed by t-SNE of their features at the layer the last layer reads,
// coloured by class, the mispredicted ringed; written beside the other
// PNGs, its path recorded.
func (ev *evaluation) writeMap(ctx context.Context, o *evaluateOptions, c *model.Classifier, test *data.Dataset) error {
	m := c.Model()
	n := min(test.Len(), mapImages)
	px, class, pred := make([][]float32, n), make([]int, n), make([]int, n)
	for k := range n {
		i := k * test.Len() / n
		px[k], class[k], pred[k] = test.ImageTo(make([]float32, test.SampleSize()), i), test.Y[i], ev.Pred[i]
	}
	layer := m.FeatureLayer()
	features, err := c.Features(ctx, px, layer)
	if err != nil {
		return err
	}
	points, err := tsne.Embed(features, tsne.Options{Seed: 1})
	if err != nil {
		return fmt.Errorf("the map of the test images: %w", err)
	}
	name := "the input"
	if layer >= 0 {
		name = m.Layers[layer].Name()
	}
	base := strings.TrimSuffix(filepath.Base(o.Model), filepath.Ext(o.Model))
	img, err := plot.EmbeddingImage(points, class, pred, m.ClassNames,
		fmt.Sprintf("%s: %d test images of %s by t-SNE of %s", base, n, ev.Dataset, name))
	if err != nil {
		return err
	}
	path := filepath.Join(outDir(o), base+".map.png")
	if err := safefile.Write(path, o.Force, func(w io.Writer) error { return plot.WritePNG(w, img) }); err != nil {
		return fmt.Errorf("the results are above, but the map was not written: %w", err)
	}
	ev.MapPNG = path
	return nil
}
