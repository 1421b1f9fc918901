// A pipeline's rows in files: what `dim submit --input-data FILE` reads and `dim result
// --rows-out FILE` writes. A file named *.npy is NumPy's format (a 2-D array of float32 or
// float64, C order); anything else is CSV with a header row.
#pragma once

#include <string>

#include "core/client_data.h"
#include "core/status.h"

namespace dim::cli {

// The rows of `file` ("-": CSV on stdin), at most kMaxClientValues numbers. A CSV file's
// header names the columns; a .npy file's rows have none. INVALID_ARGUMENT naming the file
// and what is wrong ("--input-data x.npy: dtype '<i8': expected '<f4' or '<f8'").
core::Result<core::ClientData> ReadRowsFile(const std::string& file);

// Writes the rows to `file` (replacing it): .npy as '<f4', or CSV with the rows' column
// names, or output_0, output_1, ... for rows without. UNAVAILABLE when it cannot be written.
core::Status WriteRowsFile(const std::string& file, const core::ClientData& rows);

}  // namespace dim::cli
