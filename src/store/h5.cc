// SPDX-License-Identifier: MIT
#include "store/h5.h"

#include <hdf5_hl.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <mutex>
#include <utility>

#include "gaincell/core/error.h"

namespace gaincell::h5 {
namespace {

herr_t collect(unsigned n, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (n < 4) {
    *out += "\n    ";
    *out += err->func_name != nullptr ? err->func_name : "?";
    *out += ": ";
    *out += err->desc != nullptr ? err->desc : "";
  }
  return 0;
}

std::string error_stack() {
  std::string out;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &out);
  H5Eclear2(H5E_DEFAULT);
  return out;
}

}  // namespace

Handle::~Handle() {
  // While an error unwinds (a write failed), closes fail too: the error says it.
  if (id_ >= 0 && closer_ != nullptr && closer_(id_) < 0 && std::uncaught_exceptions() == 0) {
    std::fprintf(stderr, "gaincell: warning: HDF5 failed to close an object\n");
  }
}

Handle::Handle(Handle&& other) noexcept
    : id_(std::exchange(other.id_, -1)), closer_(std::exchange(other.closer_, nullptr)) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = std::exchange(other.id_, -1);
    closer_ = std::exchange(other.closer_, nullptr);
  }
  return *this;
}

void Handle::close() {
  if (id_ < 0) return;
  const hid_t id = std::exchange(id_, -1);
  if (closer_ != nullptr && closer_(id) < 0) throw IoError("HDF5 close failed:" + error_stack());
}

void silence_hdf5_errors() {
  static std::once_flag once;
  std::call_once(once, [] {
    // No atexit handler: when a write failed (disk full), HDF5's own
    // clean-up at exit flushes the file again and crashes (HDF5 1.10,
    // H5F__close_cb). gaincell closes every file itself.
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

hid_t check(hid_t status, const std::string& what) {
  if (status < 0) throw IoError(what + ":" + error_stack());
  return status;
}

Handle create_file(const std::string& path) {
  silence_hdf5_errors();
  return {check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "cannot create HDF5 file " + path),
          H5Fclose};
}

Handle open_file(const std::string& path, bool write) {
  silence_hdf5_errors();
  return {check(H5Fopen(path.c_str(), write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT),
                "cannot open HDF5 file " + path),
          H5Fclose};
}

Handle open_dataset(hid_t loc, const std::string& name) {
  return {check(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open dataset " + name), H5Dclose};
}

Handle open_group(hid_t loc, const std::string& name) {
  return {check(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), "cannot open group " + name), H5Gclose};
}

Handle create_group(hid_t loc, const std::string& name) {
  return {check(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create group " + name),
          H5Gclose};
}

Handle simple_space(const std::vector<hsize_t>& dims) {
  return {check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "cannot create dataspace"),
          H5Sclose};
}

Handle string_type() {
  Handle t(check(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  check(H5Tset_size(t.id(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(t.id(), H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

namespace {
void write_attribute(hid_t obj, const std::string& name, hid_t type, const void* data) {
  if (H5Aexists(obj, name.c_str()) > 0) check(H5Adelete(obj, name.c_str()), "cannot replace attribute " + name);
  Handle space(check(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  Handle attr(check(H5Acreate2(obj, name.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                    "cannot create attribute " + name),
              H5Aclose);
  check(H5Awrite(attr.id(), type, data), "cannot write attribute " + name);
}
}  // namespace

void write_string_attribute(hid_t obj, const std::string& name, const std::string& value) {
  Handle type = string_type();
  const char* p = value.c_str();
  write_attribute(obj, name, type.id(), &p);
}

void write_double_attribute(hid_t obj, const std::string& name, double value) {
  write_attribute(obj, name, H5T_NATIVE_DOUBLE, &value);
}

void write_int_attribute(hid_t obj, const std::string& name, long long value) {
  write_attribute(obj, name, H5T_NATIVE_LLONG, &value);
}

void write_uint8_array_attribute(hid_t obj, const std::string& name, const std::vector<std::uint8_t>& values) {
  if (H5Aexists(obj, name.c_str()) > 0) check(H5Adelete(obj, name.c_str()), "cannot replace attribute " + name);
  Handle space = simple_space({static_cast<hsize_t>(values.size())});
  Handle attr(check(H5Acreate2(obj, name.c_str(), H5T_STD_U8LE, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                    "cannot create attribute " + name),
              H5Aclose);
  check(H5Awrite(attr.id(), H5T_NATIVE_UINT8, values.data()), "cannot write attribute " + name);
}

void make_coordinate(hid_t dataset, const std::string& name) {
  check(H5DSset_scale(dataset, name.c_str()), "cannot make " + name + " a dimension scale");
}

Handle create_dimension(hid_t loc, const std::string& name, hsize_t size) {
  Handle space = simple_space({size});
  Handle ds(check(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F32LE, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "cannot create dimension " + name),
            H5Dclose);
  // The NAME netCDF-C gives such a scale: the marker, then the length in 10 columns.
  char marker[80];
  std::snprintf(marker, sizeof marker, "This is a netCDF dimension but not a netCDF variable.%10llu",
                static_cast<unsigned long long>(size));
  check(H5DSset_scale(ds.id(), marker), "cannot make " + name + " a dimension scale");
  return ds;
}

void attach_dimensions(hid_t dataset, const std::vector<hid_t>& scales, const std::string& what) {
  for (std::size_t d = 0; d < scales.size(); ++d) {
    check(H5DSattach_scale(dataset, scales[d], static_cast<unsigned>(d)),
          "cannot attach dimension " + std::to_string(d) + " of " + what);
  }
}

void hard_link(hid_t target_loc, const std::string& target, hid_t link_loc, const std::string& name) {
  check(H5Lcreate_hard(target_loc, target.c_str(), link_loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
        "cannot link " + name + " to " + target);
}

bool has_attribute(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_string_attribute(hid_t obj, const std::string& name) {
  Handle attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "no attribute " + name), H5Aclose);
  Handle file_type(check(H5Aget_type(attr.id()), "H5Aget_type"), H5Tclose);
  if (H5Tis_variable_str(file_type.id()) > 0) {
    Handle type = string_type();
    char* p = nullptr;
    check(H5Aread(attr.id(), type.id(), &p), "cannot read attribute " + name);
    std::string value = p != nullptr ? p : "";
    H5free_memory(p);
    return value;
  }
  const size_t size = H5Tget_size(file_type.id());
  std::string value(size, '\0');
  Handle type(check(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  check(H5Tset_size(type.id(), size), "H5Tset_size");
  check(H5Aread(attr.id(), type.id(), value.data()), "cannot read attribute " + name);
  while (!value.empty() && value.back() == '\0') value.pop_back();
  return value;
}

double read_double_attribute(hid_t obj, const std::string& name) {
  Handle attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "no attribute " + name), H5Aclose);
  double v = 0;
  check(H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v), "cannot read attribute " + name);
  return v;
}

std::vector<hsize_t> dataset_shape(hid_t dataset) {
  Handle space(check(H5Dget_space(dataset), "H5Dget_space"), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.id());
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  return dims;
}

std::vector<double> read_doubles(hid_t dataset) {
  hsize_t n = 1;
  for (hsize_t d : dataset_shape(dataset)) n *= d;
  std::vector<double> out(n);
  if (n > 0) check(H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "H5Dread");
  return out;
}

std::vector<std::string> read_strings(hid_t dataset) {
  hsize_t n = 1;
  for (hsize_t d : dataset_shape(dataset)) n *= d;
  std::vector<char*> raw(n, nullptr);
  Handle type = string_type();
  if (n > 0) check(H5Dread(dataset, type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()), "H5Dread strings");
  std::vector<std::string> out;
  out.reserve(n);
  for (char* p : raw) out.emplace_back(p != nullptr ? p : "");
  if (n > 0) {
    Handle space(check(H5Dget_space(dataset), "H5Dget_space"), H5Sclose);
    H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, raw.data());
  }
  return out;
}

}  // namespace gaincell::h5
