package hdf5_test

import (
	"fmt"
	"log"
	"os"

	"github.com/convnet-go/convnet/internal/hdf5"
)

// Example reads the weights of a Dense layer from a file written by Keras 3.
func Example() {
	r, err := os.Open("testdata/keras315.weights.h5")
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	info, err := r.Stat()
	if err != nil {
		log.Fatal(err)
	}
	f, err := hdf5.Open(r, info.Size())
	if err != nil {
		log.Fatal(err)
	}
	vars, err := f.Root().Group("layers/dense_3/vars")
	if err != nil {
		log.Fatal(err)
	}
	name, _, err := vars.Attr("name")
	if err != nil {
		log.Fatal(err)
	}
	for _, member := range vars.Names() {
		d, err := vars.Dataset(member)
		if err != nil {
			log.Fatal(err)
		}
		values, err := d.Float32s()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, d.Path(), d.Shape(), len(values))
	}
	// Output:
	// dense /layers/dense_3/vars/0 [4 2] 8
	// dense /layers/dense_3/vars/1 [2] 2
}
