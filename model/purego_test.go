//go:build purego

package model

// puregoBuild: the kernels are the generic Go ones, several times slower.
const puregoBuild = true
