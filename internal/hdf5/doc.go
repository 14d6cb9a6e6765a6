// Package hdf5 reads the subset of HDF5 that Keras 3 writes in its weight
// files (model.weights.h5 inside a .keras archive, and *.weights.h5): groups
// of float datasets with string attributes, as h5py writes them.
//
// [Open] reads the superblock and the root group; [Group.Group] and
// [Group.Dataset] walk down by name or relative path; [Dataset.Float32s]
// reads a dataset's values; [Group.Attr] reads a string attribute.
//
// # Supported
//
//   - Superblocks of versions 0 to 3, with offsets and lengths of 4 or 8 bytes.
//   - Object headers of versions 1 and 2 and their continuation blocks.
//   - Groups stored as symbol tables (v1 B-tree, symbol table nodes, local
//     heap), and compact groups of link messages; hard links only.
//   - Datasets of IEEE float16, float32 or float64, or of integers of 1 to 8
//     bytes (read as float32), little- or big-endian,
//     with a scalar or simple dataspace, stored compact, contiguous or
//     chunked (v1 B-tree index), chunks optionally through the shuffle and
//     deflate filters. Unallocated storage reads as zeros.
//   - String attributes, fixed-length or variable-length (global heap),
//     scalar or of any shape, in the object header or stored densely (a
//     fractal heap indexed by a v2 B-tree: HDF5 1.8's storage for more than
//     8 attributes with libver="latest", or one too large for the header).
//
// # Refused with an error
//
// Groups stored densely (fractal heap), filtered fractal heaps, shared
// messages, external files, virtual datasets, layouts of version 1 or 2,
// chunk indexes other than the v1 B-tree and the single chunk, filters other
// than shuffle and deflate, and every datatype but numbers in a dataset
// (strings, compounds, references, ...).
//
// # Safety
//
// Files come from users, so every offset and length is checked against the
// file size before reading, every count against the bytes that hold it, and
// dimensions against overflow and the storage that holds them. Each call
// reads at most four times the file size, and refuses a dataset whose
// float32 values would take more than 8 times the file size plus 128 KiB
// (which only unwritten or compressed data can). A B-tree node or header
// block reached twice is an error, not a loop.
//
// # Writing
//
// [NewFile] builds a file of groups, float32 and int64 datasets and string
// attributes in memory and writes it in the layout h5py writes with
// libver="latest" (superblock 2, object headers 2, compact groups), for
// Keras's model files; an attribute too large for an object header message
// goes to a global heap as variable-length strings, as h5py writes a str.
//
// The format is described in the HDF5 File Format Specification Version 3.0,
// https://docs.hdfgroup.org/hdf5/develop/_f_m_t3.html.
package hdf5
