package torchexport

import (
	"fmt"

	"github.com/convnet-go/convnet/data"
)

// preprocess is the model's Standardizer as lines of Net.__init__, Net.forward
// and load_convnet.
type preprocess struct {
	Init, Forward, Load []string
}

// preprocess returns the Python of s for inputs of shape [H W C].
func (w *walker) preprocess(s *data.Standardizer, in []int) (preprocess, error) {
	var p preprocess
	if s == nil {
		return p, nil
	}
	if s.SamplewiseCenter || s.SamplewiseStd {
		return p, unsupported("preprocessing", "samplewise centring and scaling would not come back through convnet import (its ONNX import takes rescale, mean image, channel mean and channel std)")
	}
	if len(in) != 3 {
		return p, unsupported("preprocessing", "of an input of shape %v, not an image", in)
	}
	h, wd, c := in[0], in[1], in[2]
	if s.Rescale != 0 {
		p.Init = append(p.Init, `self.register_buffer("rescale", torch.tensor(1.0))`)
		p.Forward = append(p.Forward, "x = x * self.rescale")
		p.Load = append(p.Load, `net.rescale.copy_(values("rescale", 1)[0])`)
	}
	if s.ImageCenter {
		p.Init = append(p.Init, fmt.Sprintf(`self.register_buffer("mean_image", torch.zeros(1, %d, %d, %d))`, c, h, wd))
		p.Forward = append(p.Forward, "x = x - self.mean_image")
		p.Load = append(p.Load, fmt.Sprintf(`net.mean_image.copy_(values("mean_image", %d).reshape(%d, %d, %d).permute(2, 0, 1)[None])  # HWC to CHW`, h*wd*c, h, wd, c))
	}
	if s.FeaturewiseCenter || s.FeaturewiseStd {
		p.Init = append(p.Init, fmt.Sprintf(`self.register_buffer("channel_mean", torch.zeros(1, %d, 1, 1))`, c))
		p.Forward = append(p.Forward, "x = x - self.channel_mean")
		p.Load = append(p.Load, fmt.Sprintf(`net.channel_mean.copy_(values("mean", %d).view(1, %d, 1, 1))`, c, c))
	}
	if s.FeaturewiseStd {
		p.Init = append(p.Init, fmt.Sprintf(`self.register_buffer("channel_std", torch.ones(1, %d, 1, 1))  # std + 1e-6`, c))
		p.Forward = append(p.Forward, "x = x / self.channel_std")
		p.Load = append(p.Load, fmt.Sprintf(`net.channel_std.copy_(values("std", %d).view(1, %d, 1, 1) + torch.tensor(1e-6))  # convnet divides by std + 1e-6`, c, c))
	}
	return p, nil
}
