// Classify prints the three most likely letters for a picture of one
// handwritten Arabic letter, with the built-in AHCD model: the lines the
// README shows.
//
//	go run ./examples/classify letter.png
package main

import (
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // JPEG files
	_ "image/png"  // PNG files
	"log"
	"os"

	"github.com/convnet-go/convnet/model"
	"github.com/convnet-go/convnet/model/pretrained"
)

func main() {
	img, err := decode(os.Args[1]) // a PNG or JPEG of any size
	check(err)
	m, err := pretrained.Load("ahcd") // or model.Load("letters.safetensors")
	check(err)
	c, err := model.NewClassifier(m, model.ClassifierOptions{}) // safe for concurrent use
	check(err)
	r, err := c.Classify(context.Background(), img, 3) // framed, inverted if dark on light, standardised
	check(err)
	for _, p := range r.Top {
		fmt.Printf("%s %.1f%%\n", p.Name, 100*p.Probability)
	}
}

func decode(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
