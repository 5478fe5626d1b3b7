// Converts etwbridge::Status to absl::Status, for callers that use Abseil
// (the recorder). Header-only: the etwbridge library itself does not depend
// on Abseil, so that it also builds for Windows with mingw-w64.
//
//   auto events = etwbridge::PythonEvents::Open();
//   if (!events.ok()) return etwbridge::ToAbslStatus(events.status());

#ifndef ETWBRIDGE_ABSL_STATUS_H_
#define ETWBRIDGE_ABSL_STATUS_H_

#include "absl/status/status.h"
#include "etwbridge/status.h"

namespace etwbridge {

inline absl::Status ToAbslStatus(const Status& status) {
  if (status.ok()) return absl::OkStatus();
  // StatusCode uses absl::StatusCode's numbers.
  return absl::Status(static_cast<absl::StatusCode>(status.code()),
                      status.message());
}

}  // namespace etwbridge

#endif  // ETWBRIDGE_ABSL_STATUS_H_
