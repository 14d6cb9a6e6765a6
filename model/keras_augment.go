package model

import (
	"fmt"
	"strconv"
	"strings"
)

// kerasAugmentation lists Keras's preprocessing layers that change images
// at random in training only, with the flags of convnet train that come
// nearest (nil: none does). convnet augments the data instead, so an
// architecture holding one is refused with those flags.
var kerasAugmentation = map[string]func(cfg map[string]any) []string{
	"RandomFlip": func(cfg map[string]any) []string {
		switch cfg["mode"] {
		case "horizontal":
			return []string{"--hflip"}
		case "vertical":
			return []string{"--vflip"}
		}
		return []string{"--hflip", "--vflip"} // Keras's default, horizontal_and_vertical
	},
	"RandomRotation": func(cfg map[string]any) []string {
		// A fraction of a full turn, as degrees.
		return factorFlag("--rotation", cfg["factor"], 360)
	},
	"RandomTranslation": func(cfg map[string]any) []string {
		return append(factorFlag("--height-shift", cfg["height_factor"], 1), factorFlag("--width-shift", cfg["width_factor"], 1)...)
	},
	"RandomZoom": func(cfg map[string]any) []string { return factorFlag("--zoom", cfg["height_factor"], 1) },
	// Keras 3's mixing layers: MixUp's alpha is --mixup's; CutMix's alpha
	// (its first releases; later a factor) is --cutmix's.
	"MixUp": func(cfg map[string]any) []string { return alphaFlag("--mixup", cfg["alpha"], 0.2) },
	"CutMix": func(cfg map[string]any) []string {
		return alphaFlag("--cutmix", cfg["alpha"], 1)
	},
	"RandomBrightness":  nil,
	"RandomContrast":    nil,
	"RandomCrop":        nil,
	"RandomHeight":      nil,
	"RandomWidth":       nil,
	"RandomGrayscale":   nil,
	"RandomHue":         nil,
	"RandomSaturation":  nil,
	"RandomSharpness":   nil,
	"RandomShear":       nil,
	"RandomColorJitter": nil,
	"RandAugment":       nil,
	"AutoContrast":      nil,
}

// factorFlag writes a Keras factor, f or [-f, f], as "flag f·unit";
// nothing for another range.
func factorFlag(flag string, v any, unit float64) []string {
	if l, ok := v.([]any); ok && len(l) == 2 {
		lo, ok1 := l[0].(float64)
		hi, ok2 := l[1].(float64)
		if !ok1 || !ok2 || lo != -hi {
			return nil
		}
		v = hi
	}
	f, ok := v.(float64)
	if !ok || f <= 0 {
		return nil
	}
	return []string{flag + " " + strconv.FormatFloat(f*unit, 'g', 6, 64)}
}

// alphaFlag writes the α of a mixing layer as "flag α", Keras's default
// when the config has none.
func alphaFlag(flag string, v any, def float64) []string {
	a, ok := v.(float64)
	if !ok {
		a = def
	}
	if !(a > 0) {
		return nil
	}
	return []string{flag + " " + strconv.FormatFloat(a, 'g', 6, 64)}
}

// checkAugmentation refuses a Keras model that holds augmentation layers,
// at any depth of models inside models, naming them all and the flags
// that replace them.
func checkAugmentation(layers []kerasEntry) error {
	var names, flags []string
	seen := map[string]bool{}
	none := false
	var visit func(class string, cfg map[string]any)
	visit = func(class string, cfg map[string]any) {
		if f, ok := kerasAugmentation[class]; ok {
			name, _ := cfg["name"].(string)
			names = append(names, fmt.Sprintf("%s (%s)", name, class))
			var got []string
			if f != nil {
				got = f(cfg)
			}
			none = none || len(got) == 0
			for _, g := range got {
				if flag, _, _ := strings.Cut(g, " "); !seen[flag] {
					seen[flag] = true
					flags = append(flags, g)
				}
			}
			return
		}
		inner, _ := cfg["layers"].([]any)
		for _, v := range inner {
			if e, ok := v.(map[string]any); ok {
				class, _ := e["class_name"].(string)
				cfg, _ := e["config"].(map[string]any)
				visit(class, cfg)
			}
		}
	}
	for _, e := range layers {
		visit(e.ClassName, e.Config)
	}
	if len(names) == 0 {
		return nil
	}
	msg := fmt.Sprintf("%s: Keras augmentation layers, which change images at random in training only; convnet augments the data instead: remove them from the architecture and give convnet train", strings.Join(names, ", "))
	switch {
	case len(flags) > 0 && none:
		msg += " " + strings.Join(flags, " ") + " and the augmentation flags that come nearest to the others (convnet train -h)"
	case len(flags) > 0:
		msg += " " + strings.Join(flags, " ")
	default:
		msg += "'s augmentation flags that come nearest (convnet train -h)"
	}
	return fmt.Errorf("%s; in Go, data.LoaderOptions.Augment and Mix", msg)
}
