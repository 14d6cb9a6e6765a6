package web

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/convnet-go/convnet/data"
	"github.com/convnet-go/convnet/internal/browser"
	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/nn"
)

// squeezeModel is a small untrained graph with a squeeze-and-excitation
// block: the channel means kept as 1×1 maps, two 1×1 convolutions, and a
// product that repeats their channel weights over the 16×16 maps, another
// that repeats the channel maxima (kept as 1×1 maps) over them, the maps
// negated, each channel scaled its own way (below 0 everywhere), and a PReLU of them with a slope per
// channel, the maps moved a pixel down and right (padded, then cropped),
// the maps enlarged and resized back (bilinear; repeated, then cropped
// and nearest), a convolution of taps 2 pixels apart, a Dense layer at each pixel, layer
// normalizations over each pixel's channels and over the whole image, a
// layer scale, a group normalization of two groups, the maps plus the
// negated ones scaled by 0.17 (a ScaledAdd), then a concatenation of the channels, a swish, a Gaussian
// dropout and a dropout of whole images.
func squeezeModel(t *testing.T) *model.Sequential {
	in := model.Input(32, 32, 1)
	x := model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: "same", Activation: "hard_silu"}, in)
	g := model.Call(&nn.GlobalAveragePooling2D{KeepDims: true}, x)
	g = model.Call(&nn.Conv2D{Filters: 2, KernelSize: [2]int{1, 1}, Activation: "relu"}, g)
	g = model.Call(&nn.Conv2D{Filters: 4, KernelSize: [2]int{1, 1}, Activation: "hard_sigmoid"}, g)
	se := model.Call(&nn.Multiply{}, x, g)
	top := model.Call(&nn.GlobalMaxPooling2D{KeepDims: true}, x)
	peak := model.Call(&nn.Multiply{}, x, top)
	// hard_silu is at least -0.375: each channel times its own negative
	// scale, plus an offset below 0.375 times it.
	neg := model.Call(&nn.Rescaling{Scales: []float64{-1, -1.5, -0.5, -2}, Offsets: []float64{-0.5, -0.75, -0.5, -1}}, x)
	prelu := &nn.PReLU{SharedAxes: []int{1, 2}}
	pixelNorm, imageNorm := &nn.LayerNormalization{}, &nn.LayerNormalization{Axis: []int{1, 2, 3}, Epsilon: 1e-5}
	scale := &nn.LayerScale{InitValues: 1e-6}
	groupNorm := &nn.GroupNormalization{Groups: 2}
	norm := &nn.Normalization{}
	x = model.Call(&nn.Concatenate{}, x, se, peak, model.Call(prelu, neg), neg, model.Call(norm, neg), model.Call(&nn.Subtract{}, x, top),
		model.Call(&nn.Multiply{}, x, model.Call(&nn.Reshape{TargetShape: []int{1, 1, -1}}, model.Call(&nn.GlobalAveragePooling2D{}, x))),
		model.Call(&nn.Maximum{}, x, neg),
		model.Call(&nn.Cropping2D{Cropping: [2][2]int{{0, 1}, {0, 1}}}, model.Call(&nn.ZeroPadding2D{Padding: [2][2]int{{1, 0}, {1, 0}}}, x)),
		model.Call(&nn.Resizing{Height: 16, Width: 16}, model.Call(&nn.UpSampling2D{Interpolation: "bilinear"}, x)),
		model.Call(&nn.Resizing{Height: 16, Width: 16, Interpolation: "nearest", CropToAspectRatio: true}, model.Call(&nn.UpSampling2D{Size: [2]int{2, 1}}, x)),
		model.Call(&nn.Conv2D{Filters: 2, KernelSize: [2]int{3, 3}, DilationRate: [2]int{2, 2}, Padding: "same"}, x),
		model.Call(&nn.DepthwiseConv2D{KernelSize: [2]int{2, 3}, DilationRate: [2]int{3, 2}, Padding: "same", Activation: "relu"}, x),
		model.Call(&nn.Dense{Units: 3, Activation: "tanh"}, x),
		model.Call(pixelNorm, x), model.Call(imageNorm, x), model.Call(scale, x), model.Call(groupNorm, x),
		model.Call(&nn.ScaledAdd{Scale: 0.17}, x, neg))
	x = model.Call(&nn.GaussianDropout{Rate: 0.1}, model.Call(&nn.Activation{Func: "swish"}, x))
	x = model.Call(&nn.Flatten{}, model.Call(&nn.Dropout{Rate: 0.2, NoiseShape: []int{0, 1, 1, 1}}, x))
	m := ahcdGraph(t, in, x)
	copy(prelu.Params()[0].Value.Data, []float32{0.1, 0.2, 0.3, 0.4})
	stats := norm.Params()
	copy(stats[0].Value.Data, []float32{0.5, -0.25, 1, -2})
	copy(stats[1].Value.Data, []float32{4, 0.25, 1, 9})
	stats[2].Value.Data[0] = 1
	// Weights of their own for the normalizations and the scale.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range slices.Concat(pixelNorm.Params(), imageNorm.Params(), scale.Params(), groupNorm.Params()) {
		for i := range p.Value.Data {
			p.Value.Data[i] = float32(rng.Float64()*2 - 0.5)
		}
	}
	m.Standardizer = &data.Standardizer{Rescale: 1.0 / 255}
	return m
}

// checkSqueeze opens the maps of the squeeze-and-excitation model: the
// arithmetic of the convolution's hard_silu, of a channel mean kept as a
// 1×1 map, of a channel maximum kept so, of the product that repeats the
// mean over the map (which looks at the whole input, through the mean) and
// of the concatenation after it.
func checkSqueeze(p page, url string) {
	t := p.t
	t.Helper()
	p.load(url, "squeeze")
	p.draw("drawing on the squeeze-and-excitation model", placeGlyph(letterGlyphs[5], drawSizes[0], "centre"))

	p.openBlock("Conv2D", 1)
	p.WaitFor("the convolution's arithmetic", `document.getElementById("calc").textContent.includes("hard_silu(")`)
	p.checkArithmetic("the hard_silu convolution's")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	p.openBlock("GlobalAveragePooling2D", 2)
	p.WaitFor("the channel mean's arithmetic", `document.getElementById("calc").textContent.includes("The mean of the 256 values of input map 2")`)
	p.checkArithmetic("the channel mean's")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	p.openBlock("GlobalMaxPooling2D", 1)
	p.WaitFor("the channel maximum's arithmetic", `document.getElementById("calc").textContent.includes("The largest of the 256 values of input map 1")`)
	p.checkArithmetic("the channel maximum's")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	p.openBlock("Multiply", 3)
	p.WaitFor("the product's arithmetic", `document.getElementById("calc").textContent.includes("multiplied") && document.getElementById("calc").textContent.includes("network's value")`)
	p.checkArithmetic("the broadcast product's")
	type drawer struct{ Calc, Field, Meta string }
	got := browser.Eval[drawer](p.Browser, `({Calc: document.getElementById("calc").textContent, Field: document.getElementById("rfhint").textContent,
		Meta: window.convnetState.blocks.filter(b => ["GlobalAveragePooling2D", "Multiply"].includes(window.convnetState.model.layers[b.head].type)).map(b => b.el.querySelector(".meta").textContent).join(" | ")})`)
	if !strings.Contains(got.Calc, "conv2d_2, repeated") {
		t.Errorf("the product's arithmetic does not say which input is repeated: %q", got.Calc)
	}
	if got.Field != "rows 0–31, columns 0–31 of the 32×32 input" {
		t.Errorf("a pixel of the product looks at %q, want the whole input (through the channel mean)", got.Field)
	}
	for _, want := range []string{"kept as a 1×1 map", "Takes the product of conv2d and conv2d_2", "squeeze and excitation"} {
		if !strings.Contains(got.Meta, want) {
			t.Errorf("the mean's and the product's rows say %q, want %q in them", got.Meta, want)
		}
	}
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	// The swish folded into the concatenation's row says what it computes.
	if meta := browser.Eval[string](p.Browser, `window.convnetState.blocks.filter(b => window.convnetState.model.layers[b.head].type === "Concatenate").map(b => b.el.querySelector(".meta").textContent).join(" | ")`); !strings.Contains(meta, "Then swish, x·sigmoid(x). Gaussian dropout (training only). Dropout of whole images (training only).") {
		t.Errorf("the concatenation's row says %q, want the swish and the dropouts after it explained", meta)
	}
	p.openBlock("Concatenate", 6) // channel 2 of the product
	p.WaitFor("the concatenation's arithmetic", `document.getElementById("calc").textContent.includes("channel 2 of multiply")`)
	p.checkArithmetic("the concatenation's")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	// The PReLU's value below 0 times its channel's slope; the
	// Normalization's less its channel's mean over its divisor.
	p.checkDetail("PReLU", 2, "multiplied by this channel's slope, 0.30,", "multiplies the others by a slope learned in training, one per channel")
	p.checkDetail("Normalization", 3, "less this channel's mean, -2.00, divided by its divisor, 3.00, max(√variance, 10⁻⁷)",
		"measured on the training data before training (Keras's adapt), one per channel")
	p.checkDetail("Subtract", 1, "the second subtracted from the first", "Subtracts its second input from its first")
	p.checkDetail("ScaledAdd", 2, "scaled by 0.17 and added to the first", "Adds its second input times 0.17 to its first")
	p.checkDetail("Maximum", 3, "the largest passes, the others are dropped", "Keeps the largest of its inputs")
	p.checkDetail("Rescaling", 3, "times -2, plus -1: the values of channel 3; every value of the channel changes the same way",
		"Multiplies every value by its channel's scale and adds its channel's offset: the same change everywhere in a channel")
	p.checkDetail("Cropping2D", 1, "moved by the crop", "Cuts rows and columns off the edges of each map (0 above, 1 below, 0 left, 1 right)")
	p.checkDetail("UpSampling2D", 1, "A blend of the previous layer's 4 nearest cells", "Enlarges each map 2×2 times, each new cell a blend")
	p.openBlockWhere("nearest UpSampling2D", "l.type === 'UpSampling2D' && l.config.interpolation === 'nearest'", 2)
	p.WaitFor("the repeating UpSampling2D's arithmetic", `document.getElementById("calc").textContent.includes("A copy of the previous layer's nearest cell")`)
	p.checkArithmetic("the repeating UpSampling2D's")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	p.checkDetail("Resizing", 3, "A blend of the previous layer's 4 nearest cells", "Resizes each map to 16×16, each cell a blend")
	p.openBlockWhere("cropped Resizing", "l.type === 'Resizing' && l.config.crop_to_aspect_ratio", 0)
	p.WaitFor("the cropped Resizing's arithmetic", `document.getElementById("calc").textContent.includes("A copy of the previous layer's nearest cell")`)
	p.checkArithmetic("the cropped Resizing's")
	if ex := browser.Eval[string](p.Browser, `document.getElementById("detailExplain").textContent`); !strings.Contains(ex, "Cuts the largest centred window of the output's proportions (16:16)") {
		t.Errorf("the cropped Resizing's detail says %q, want the crop explained", ex)
	}
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	// The dilated convolution's patch: the pixels its taps read, 2 apart,
	// and the window drawn over them.
	p.openBlockWhere("dilated Conv2D", "l.type === 'Conv2D' && l.window.dilation[0] === 2", 1)
	p.WaitFor("the dilated convolution's arithmetic", `document.getElementById("calc").textContent.includes("A dilated convolution: the patch's pixels are 2×2 apart, a 3×3 kernel over 5×5 of the map.")`)
	p.checkArithmetic("the dilated convolution's")
	type dilated struct{ Explain, Hint string }
	dl := browser.Eval[dilated](p.Browser, `({Explain: document.getElementById("detailExplain").textContent, Hint: document.getElementById("slidehint").textContent})`)
	if !strings.Contains(dl.Explain, "Dilated: the kernel's taps are 2×2 pixels apart, so each filter sees 5×5 of the map with 3×3 weights.") {
		t.Errorf("the dilated convolution's detail says %q, want its dilation explained", dl.Explain)
	}
	if dl.Hint != "3×3 window of taps 2×2 apart, 1×1 steps, 2 pixels of zero padding" {
		t.Errorf("the dilated convolution's sliding window says %q", dl.Hint)
	}
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	p.openBlockWhere("dilated DepthwiseConv2D", "l.type === 'DepthwiseConv2D' && l.window.dilation[0] === 3", 1)
	p.WaitFor("the dilated depthwise convolution's arithmetic", `document.getElementById("calc").textContent.includes("A dilated convolution: the patch's pixels are 3×2 apart, a 2×3 kernel over 4×5 of the map.")`)
	p.checkArithmetic("the dilated depthwise convolution's")
	if ex := browser.Eval[string](p.Browser, `document.getElementById("detailExplain").textContent`); !strings.Contains(ex, "Dilated: the kernel's taps are 3×2 pixels apart, so each kernel sees 4×5 of the map with 2×3 weights.") {
		t.Errorf("the dilated depthwise convolution's detail says %q, want its dilation explained", ex)
	}
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))

	// A Dense layer on the maps: each pixel's channels weighed, as a 1×1
	// convolution.
	p.openBlockWhere("Dense on the maps", "l.type === 'Dense' && l.output_shape.length === 3", 1)
	p.WaitFor("the pixel Dense's arithmetic", `document.getElementById("calc").textContent.includes("tanh(") && document.getElementById("calc").textContent.includes("network's value")`)
	p.checkArithmetic("the pixel Dense's")
	if ex := browser.Eval[string](p.Browser, `document.getElementById("detailExplain").textContent`); !strings.Contains(ex, "3 units at every pixel, each a weighted sum of that pixel's channels (a 1×1 convolution)") {
		t.Errorf("the pixel Dense's detail says %q, want it explained as a 1×1 convolution", ex)
	}
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	p.checkDetail("LayerNormalization", 2, "less the mean of the 4 channels of this pixel",
		"Centres and scales the values of each image with their own mean and spread, taken across its channels for each pixel")
	p.checkDetail("GroupNormalization", 3, "less the mean of the 512 values of channels 2–3, this one's group of 2 at every pixel",
		"Centres and scales each image's channels in 2 groups of 2 channels, each group with the mean and spread of its values at every pixel")
	p.openBlockWhere("LayerNormalization of the whole image", "l.type === 'LayerNormalization' && String(l.config.axis) === '1,2,3'", 3)
	p.WaitFor("the whole image's layer normalization", `document.getElementById("calc").textContent.includes("less the mean of all 1024 values of the image")`)
	p.checkArithmetic("the whole image's layer normalization")
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
	p.checkDetail("LayerScale", 1, "times this channel's scale", "Multiplies each channel by a scale learned in training")
	p.checkDetail("Reshape", 2, "A reshape moves values without changing them: taken in order, rows then columns then channels, value 2 here is value 2 of", "kept as a 1×1 map")
}

// checkDetail opens channel ch of the first block of a layer of type typ
// and checks that the arithmetic holds calc and gives the network's value
// and that the explanation holds explain.
func (p page) checkDetail(typ string, ch int, calc, explain string) {
	p.t.Helper()
	p.openBlock(typ, ch)
	p.WaitFor("the "+typ+"'s arithmetic", fmt.Sprintf(`document.getElementById("calc").textContent.includes(%q)`, calc))
	p.checkArithmetic("the " + typ + "'s")
	if meta := browser.Eval[string](p.Browser, `document.getElementById("detailExplain").textContent`); !strings.Contains(meta, explain) {
		p.t.Errorf("the %s's detail says %q, want %q in it", typ, meta, explain)
	}
	p.Do("closing the detail view", chromedp.Click(chromedp.CSS("#closeDetail")))
}
