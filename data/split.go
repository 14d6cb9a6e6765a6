package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// newRand returns the generator of a seed for one purpose; distinct purposes
// get independent streams from the same seed.
func newRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// Streams of newRand.
const (
	streamShuffle uint64 = 0x5348554646 + iota
	streamSplit
	streamEpoch
	streamMix
)

// Permutation returns a random permutation of 0..n-1 drawn from rng.
func Permutation(n int, rng *rand.Rand) []int { return rng.Perm(n) }

// Shuffle returns a copy of d with its images in a random order fixed by
// seed.
func Shuffle(d *Dataset, seed uint64) *Dataset {
	return d.Subset(Permutation(d.Len(), newRand(seed, streamShuffle)))
}

// SplitRandom holds out a random fraction frac of d as a validation set:
// round(frac*N) images chosen with seed. Both parts keep d's order.
func SplitRandom(d *Dataset, frac float64, seed uint64) (train, val *Dataset, err error) {
	nVal, err := splitCount(d.Len(), frac)
	if err != nil {
		return nil, nil, err
	}
	perm := Permutation(d.Len(), newRand(seed, streamSplit))
	return splitBy(d, perm[:nVal])
}

// SplitStratified holds out the fraction frac of each class, round(frac*n_c)
// images of a class of n_c, chosen with seed, so that both parts keep the
// class proportions; a class keeps at least one image for training (a
// class of one image stays whole in it). Both parts keep d's order. An
// unlabelled image (label -1) is an error.
func SplitStratified(d *Dataset, frac float64, seed uint64) (train, val *Dataset, err error) {
	if _, err := splitCount(d.Len(), frac); err != nil {
		return nil, nil, err
	}
	byClass := make([][]int, d.NumClasses())
	for i, y := range d.Y {
		if y < 0 {
			return nil, nil, fmt.Errorf("image %d has no label: a stratified split needs every image's class", i+1)
		}
		byClass[y] = append(byClass[y], i)
	}
	rng := newRand(seed, streamSplit)
	var held []int
	for _, idx := range byClass {
		k := min(int(math.Round(frac*float64(len(idx)))), max(len(idx)-1, 0))
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		held = append(held, idx[:k]...)
	}
	if len(held) == 0 || len(held) == d.Len() {
		return nil, nil, fmt.Errorf("validation fraction %v of %d images leaves an empty part", frac, d.Len())
	}
	return splitBy(d, held)
}

// SplitBlocks holds out nVal whole blocks of blockSize consecutive images,
// chosen with seed. For AHCD's training set, whose rows come in 60 blocks of
// [AHCDBlockSize] = 224, one per writer (28 letters x 8), this keeps every
// writer on one side, so validation measures generalisation to new writers.
// A last block shorter than blockSize counts as a block.
func SplitBlocks(d *Dataset, blockSize, nVal int, seed uint64) (train, val *Dataset, err error) {
	if blockSize <= 0 {
		return nil, nil, fmt.Errorf("block size %d, want > 0", blockSize)
	}
	blocks := d.Len() / blockSize // not (Len + blockSize - 1) / blockSize: blockSize may be near the largest int
	if d.Len()%blockSize != 0 {
		blocks++
	}
	if blocks < 2 {
		return nil, nil, fmt.Errorf("%d images in blocks of %d make %d block(s): want at least 2, one to hold out", d.Len(), blockSize, blocks)
	}
	if nVal <= 0 || nVal >= blocks {
		return nil, nil, fmt.Errorf("%d validation blocks of %d, want 1..%d", nVal, blocks, blocks-1)
	}
	chosen := Permutation(blocks, newRand(seed, streamSplit))[:nVal]
	var held []int
	for _, b := range chosen {
		for i := b * blockSize; i < min((b+1)*blockSize, d.Len()); i++ {
			held = append(held, i)
		}
	}
	return splitBy(d, held)
}

func splitCount(n int, frac float64) (int, error) {
	if !(frac > 0 && frac < 1) {
		return 0, fmt.Errorf("validation fraction %v, want strictly between 0 and 1", frac)
	}
	k := int(math.Round(frac * float64(n)))
	if k == 0 || k == n {
		return 0, fmt.Errorf("validation fraction %v of %d images leaves an empty part", frac, n)
	}
	return k, nil
}

// splitBy puts the images held into val and the others into train, each in
// d's order.
func splitBy(d *Dataset, held []int) (train, val *Dataset, err error) {
	in := make([]bool, d.Len())
	for _, i := range held {
		in[i] = true
	}
	var tr, va []int
	for i := range in {
		if in[i] {
			va = append(va, i)
		} else {
			tr = append(tr, i)
		}
	}
	slices.Sort(va)
	return d.Subset(tr), d.Subset(va), nil
}
