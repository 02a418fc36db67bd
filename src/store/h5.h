// SPDX-License-Identifier: MIT
// File: src/store/h5.h (library-internal: HDF5 stays out of the installed headers)
//
// Thin RAII over the HDF5 C API (HighFive-style): a move-only `Handle` owns
// one hid_t and closes it with the right H5*close; every C call that can
// fail goes through `check`, which throws IoError naming the file, the object
// and HDF5's own error stack. Destructors never throw.
//
//   h5::Handle file = h5::create_file("out.h5.partial");
//   h5::write_string_attribute(file.id(), "units", "V");
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gaincell::h5 {

class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle();
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and throws IoError if HDF5 reports a failure (e.g. on flush).
  void close();

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Turns off HDF5's automatic error printing (once per process); errors are
// reported through IoError messages instead.
void silence_hdf5_errors();

// Throws IoError("<what>: <HDF5 error stack>") if `status` < 0; returns it otherwise.
hid_t check(hid_t status, const std::string& what);

Handle create_file(const std::string& path);           // truncates
Handle open_file(const std::string& path, bool write);  // throws IoError if missing/not HDF5
Handle open_dataset(hid_t loc, const std::string& name);
Handle open_group(hid_t loc, const std::string& name);
Handle create_group(hid_t loc, const std::string& name);
Handle simple_space(const std::vector<hsize_t>& dims);
Handle string_type();  // variable-length UTF-8 string

void write_string_attribute(hid_t obj, const std::string& name, const std::string& value);
void write_double_attribute(hid_t obj, const std::string& name, double value);
void write_int_attribute(hid_t obj, const std::string& name, long long value);
bool has_attribute(hid_t obj, const std::string& name);
std::string read_string_attribute(hid_t obj, const std::string& name);
double read_double_attribute(hid_t obj, const std::string& name);

void write_uint8_array_attribute(hid_t obj, const std::string& name, const std::vector<std::uint8_t>& values);

// netCDF-4 dimensions (HDF5 dimension scales, H5DS), so that netCDF-4
// readers (xarray with h5netcdf, netCDF4-python) see named dimensions.
// A dimension is visible in its group and the groups below it; its name is the
// link name of its scale.
//
// Makes `dataset` a coordinate variable: the scale of the dimension named
// like the dataset's link name `name`.
void make_coordinate(hid_t dataset, const std::string& name);
// Creates a dimension without a coordinate variable (netCDF's "dimension but
// not a variable": an unwritten float32 scale that takes no storage).
Handle create_dimension(hid_t loc, const std::string& name, hsize_t size);
// Attaches scales[d] to dimension d of `dataset`.
void attach_dimensions(hid_t dataset, const std::vector<hid_t>& scales, const std::string& what);
// A second name for an object (an HDF5 hard link, not a copy).
void hard_link(hid_t target_loc, const std::string& target, hid_t link_loc, const std::string& name);

// Shape of a dataset.
std::vector<hsize_t> dataset_shape(hid_t dataset);
std::vector<double> read_doubles(hid_t dataset);
std::vector<std::string> read_strings(hid_t dataset);

}  // namespace gaincell::h5
