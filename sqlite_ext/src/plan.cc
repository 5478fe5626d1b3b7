// xBestIndex and the decoding of its constraints in xFilter (plan.h has the
// contract).

#include "plan.h"

#include <cmath>
#include <limits>

namespace tracestore::sql::internal {

namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kU32Max = std::numeric_limits<uint32_t>::max();
constexpr double kTwo63 = 9223372036854775808.0;

// The slot a constraint fills, or -1 when the table does not take it.
int SlotFor(const TableSpec& spec, int column, unsigned char op, bool* strict) {
  *strict =
      op == SQLITE_INDEX_CONSTRAINT_GT || op == SQLITE_INDEX_CONSTRAINT_LT;
  const bool eq = op == SQLITE_INDEX_CONSTRAINT_EQ;
  const bool lower =
      op == SQLITE_INDEX_CONSTRAINT_GT || op == SQLITE_INDEX_CONSTRAINT_GE;
  const bool upper =
      op == SQLITE_INDEX_CONSTRAINT_LT || op == SQLITE_INDEX_CONSTRAINT_LE;
  if (column < 0) return -1;
  if (column == spec.path_col) return eq ? kPath : -1;
  if (column == spec.id_col)
    return eq ? kIdEq : lower ? kIdLower : upper ? kIdUpper : -1;
  if (column == spec.ts_col)
    return eq ? kTsEq : lower ? kTsLower : upper ? kTsUpper : -1;
  if (column == spec.thread_col) return eq ? kThreadEq : -1;
  if (column == spec.function_col) return eq ? kFunctionEq : -1;
  if (column == spec.depth_col)
    return eq ? kDepthEq : lower ? kDepthLower : upper ? kDepthUpper : -1;
  if (column == spec.pid_col) return eq ? kPidEq : -1;
  return -1;
}

// Whether rows in scan order satisfy ORDER BY terms [from, n): id order
// within each group, ts order within a thread. Thread ids are a process's
// own: thread order holds only within one process (`pid =`), since a trace
// with children is read process by process.
bool InIdOrder(const TableSpec& spec, const sqlite3_index_info* info, int from,
               bool thread_fixed, bool pid_fixed) {
  for (int k = from; k < info->nOrderBy; ++k) {
    const int column = info->aOrderBy[k].iColumn;
    if (column == spec.id_col || column == -1) return true;  // unique
    if (column == spec.thread_col && column >= 0 && pid_fixed) {
      thread_fixed = true;
      continue;
    }
    if (column == spec.ts_col && column >= 0 && thread_fixed) continue;
    return false;
  }
  return true;
}

void SetOrder(const TableSpec& spec, sqlite3_index_info* info, int* idx) {
  if (info->nOrderBy == 0) return;
  for (int k = 0; k < info->nOrderBy; ++k)
    if (info->aOrderBy[k].desc) return;
  const bool pid_fixed = (*idx & (1 << kPidEq)) != 0;
  const bool thread_fixed = (*idx & (1 << kThreadEq)) != 0 && pid_fixed;
  if (InIdOrder(spec, info, 0, thread_fixed, pid_fixed)) {
    info->orderByConsumed = 1;
    *idx |= kOrdered;
    return;
  }
  // Grouped by function: within a group, rows come in id order again.
  if (spec.function_order && spec.function_col >= 0 &&
      info->aOrderBy[0].iColumn == spec.function_col &&
      (*idx & (1 << kIdEq)) == 0 &&
      InIdOrder(spec, info, 1, thread_fixed, pid_fixed)) {
    info->orderByConsumed = 1;
    *idx |= kByFunction | kOrdered;
  }
}

const char* SlotText(int slot, bool strict) {
  switch (slot) {
    case kPath:
      return "path=";
    case kIdEq:
      return "id=";
    case kIdLower:
      return strict ? "id>" : "id>=";
    case kIdUpper:
      return strict ? "id<" : "id<=";
    case kTsEq:
      return "ts=";
    case kTsLower:
      return strict ? "ts>" : "ts>=";
    case kTsUpper:
      return strict ? "ts<" : "ts<=";
    case kThreadEq:
      return "thread_id=";
    case kFunctionEq:
      return "function_id=";
    case kDepthEq:
      return "depth=";
    case kDepthLower:
      return strict ? "depth>" : "depth>=";
    case kDepthUpper:
      return strict ? "depth<" : "depth<=";
    case kPidEq:
      return "pid=";
  }
  return "?";
}

}  // namespace

// The contract (idxNum bits, argv order) is the table in plan.h. No side
// effects: it reads `info` and writes only its outputs.
int BestIndex(const TableSpec& spec, sqlite3_index_info* info) {
  int chosen[kSlotCount];
  for (int& c : chosen) c = -1;
  int idx = 0;
  bool path_unusable = false;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    bool strict;
    const int slot = SlotFor(spec, c.iColumn, c.op, &strict);
    if (slot < 0) continue;
    if (!c.usable) {
      path_unusable |= slot == kPath;
      continue;
    }
    if (chosen[slot] >= 0) continue;
    chosen[slot] = i;
    idx |= 1 << slot;
    if (strict) idx |= 1 << (kStrictShift + slot);
  }
  // The path may come from another table of a join: ask for an order in
  // which it is known.
  if (path_unusable && chosen[kPath] < 0) return SQLITE_CONSTRAINT;

  int argv_index = 0;
  double rows = spec.rows;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    if (chosen[slot] < 0) continue;
    auto& usage = info->aConstraintUsage[chosen[slot]];
    usage.argvIndex = ++argv_index;
    usage.omit = 1;  // DecodeArgs applies each exactly
    switch (slot) {
      case kIdEq:
        rows = 1;
        break;
      case kTsEq:
        rows /= 1000;
        break;
      case kIdLower:
      case kIdUpper:
      case kTsLower:
      case kTsUpper:
        rows /= 4;
        break;
      case kThreadEq:
        rows /= 4;
        break;
      case kFunctionEq:
        rows /= 100;
        break;
      case kDepthEq:
        rows /= 10;
        break;
      case kDepthLower:
      case kDepthUpper:
        rows /= 3;
        break;
      case kPidEq:
        rows /= 2;
        break;
    }
  }
  SetOrder(spec, info, &idx);
  if (!(idx & (1 << kPath))) {
    info->estimatedCost = 1e30;  // unusable: xFilter says why
    info->estimatedRows = std::numeric_limits<sqlite3_int64>::max();
  } else {
    if (rows < 1) rows = 1;
    info->estimatedRows = static_cast<sqlite3_int64>(rows);
    // Seeks cost a few binary searches; every visited row costs one step.
    info->estimatedCost = rows + 10;
    if (idx & (1 << kIdEq)) info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  }
  info->idxNum = idx;

  std::string text;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    if (chosen[slot] < 0) continue;
    if (!text.empty()) text += ' ';
    text += SlotText(slot, idx & (1 << (kStrictShift + slot)));
  }
  if (idx & kByFunction) text += text.empty() ? "by_function" : " by_function";
  if (idx & kOrdered) text += text.empty() ? "ordered" : " ordered";
  if (!text.empty()) {
    info->idxStr = sqlite3_mprintf("%s", text.c_str());
    info->needToFreeIdxStr = info->idxStr != nullptr;
  }
  return SQLITE_OK;
}

bool Narrow(sqlite3_value* rhs, int op, uint64_t* lo, uint64_t* hi) {
  const bool eq = op == SQLITE_INDEX_CONSTRAINT_EQ;
  const bool gt = op == SQLITE_INDEX_CONSTRAINT_GT;
  const bool ge = op == SQLITE_INDEX_CONSTRAINT_GE;
  const bool lt = op == SQLITE_INDEX_CONSTRAINT_LT;
  const bool le = op == SQLITE_INDEX_CONSTRAINT_LE;
  // The column holds integers in [0, 2^63). Each case states the values of
  // that range for which the comparison is true.
  uint64_t new_lo = 0, new_hi = kU64Max;
  switch (sqlite3_value_numeric_type(rhs)) {
    case SQLITE_INTEGER: {
      const sqlite3_int64 x = sqlite3_value_int64(rhs);
      if (eq) {
        if (x < 0) return false;
        new_lo = new_hi = static_cast<uint64_t>(x);
      } else if (ge) {
        if (x > 0) new_lo = static_cast<uint64_t>(x);
      } else if (gt) {
        if (x == std::numeric_limits<sqlite3_int64>::max()) return false;
        if (x >= 0) new_lo = static_cast<uint64_t>(x) + 1;
      } else if (le) {
        if (x < 0) return false;
        new_hi = static_cast<uint64_t>(x);
      } else if (lt) {
        if (x <= 0) return false;
        new_hi = static_cast<uint64_t>(x) - 1;
      }
      break;
    }
    case SQLITE_FLOAT: {
      const double d = sqlite3_value_double(rhs);
      if (std::isnan(d)) return false;
      if (eq) {
        if (d < 0 || d >= kTwo63 || d != std::floor(d)) return false;
        new_lo = new_hi = static_cast<uint64_t>(d);
      } else if (ge) {
        if (d > kTwo63) return false;
        if (d > 0) new_lo = static_cast<uint64_t>(std::ceil(d));
      } else if (gt) {
        if (d >= kTwo63) return false;
        if (d >= 0) new_lo = static_cast<uint64_t>(std::floor(d)) + 1;
      } else if (le) {
        if (d < 0) return false;
        if (d < kTwo63) new_hi = static_cast<uint64_t>(std::floor(d));
      } else if (lt) {
        if (d <= 0) return false;
        if (d <= kTwo63) new_hi = static_cast<uint64_t>(std::ceil(d)) - 1;
      }
      break;
    }
    case SQLITE_NULL:
      return false;  // a comparison with NULL is never true
    default:
      // Text or blob that is not a number: every number is less than it.
      if (lt || le) return true;
      return false;
  }
  if (new_lo > *lo) *lo = new_lo;
  if (new_hi < *hi) *hi = new_hi;
  return *lo <= *hi;
}

bool DecodeArgs(int idx_num, int argc, sqlite3_value** argv, Constraints* out) {
  uint64_t id_lo = 0, id_hi = kU64Max, ts_lo = 0, ts_hi = kU64Max;
  uint64_t thread_lo = 0, thread_hi = kU64Max, fn_lo = 0, fn_hi = kU64Max;
  uint64_t depth_lo = 0, depth_hi = kU64Max, pid_lo = 0, pid_hi = kU64Max;
  bool ok = true;
  int k = 0;
  for (int slot = 0; slot < kSlotCount; ++slot) {
    if (!(idx_num & (1 << slot))) continue;
    if (k >= argc) return false;
    sqlite3_value* v = argv[k++];
    const bool strict = idx_num & (1 << (kStrictShift + slot));
    const int lower =
        strict ? SQLITE_INDEX_CONSTRAINT_GT : SQLITE_INDEX_CONSTRAINT_GE;
    const int upper =
        strict ? SQLITE_INDEX_CONSTRAINT_LT : SQLITE_INDEX_CONSTRAINT_LE;
    constexpr int eq = SQLITE_INDEX_CONSTRAINT_EQ;
    switch (slot) {
      case kPath: {
        out->has_path = true;
        const unsigned char* text = sqlite3_value_text(v);
        out->path = text == nullptr
                        ? std::string()
                        : std::string(reinterpret_cast<const char*>(text),
                                      sqlite3_value_bytes(v));
        break;
      }
      case kIdEq:
        ok &= Narrow(v, eq, &id_lo, &id_hi);
        break;
      case kIdLower:
        ok &= Narrow(v, lower, &id_lo, &id_hi);
        break;
      case kIdUpper:
        ok &= Narrow(v, upper, &id_lo, &id_hi);
        break;
      case kTsEq:
        ok &= Narrow(v, eq, &ts_lo, &ts_hi);
        break;
      case kTsLower:
        ok &= Narrow(v, lower, &ts_lo, &ts_hi);
        break;
      case kTsUpper:
        ok &= Narrow(v, upper, &ts_lo, &ts_hi);
        break;
      case kThreadEq:
        ok &= Narrow(v, eq, &thread_lo, &thread_hi);
        break;
      case kFunctionEq:
        ok &= Narrow(v, eq, &fn_lo, &fn_hi);
        break;
      case kDepthEq:
        ok &= Narrow(v, eq, &depth_lo, &depth_hi);
        break;
      case kDepthLower:
        ok &= Narrow(v, lower, &depth_lo, &depth_hi);
        break;
      case kDepthUpper:
        ok &= Narrow(v, upper, &depth_lo, &depth_hi);
        break;
      case kPidEq:
        out->has_pid = true;
        ok &= Narrow(v, eq, &pid_lo, &pid_hi);
        break;
    }
  }
  out->pid = pid_lo;
  if (k != argc) return false;
  CallFilter& f = out->filter;
  f = CallFilter();
  f.id_min = id_lo;
  f.id_max = id_hi;
  f.ts_min = ts_lo;
  f.ts_max = ts_hi;
  // Thread, function and depth values beyond 32 bits match no row.
  if (thread_lo > kU32Max || fn_lo > kU32Max || depth_lo > kU32Max) ok = false;
  f.thread_min = static_cast<uint32_t>(thread_lo);
  f.thread_max = static_cast<uint32_t>(std::min<uint64_t>(thread_hi, kU32Max));
  f.depth_min = static_cast<uint32_t>(depth_lo);
  f.depth_max = static_cast<uint32_t>(std::min<uint64_t>(depth_hi, kU32Max));
  if (idx_num & (1 << kFunctionEq)) {
    // Function id 0 means "none" and reads as NULL: `= 0` matches nothing.
    if (fn_hi == 0) ok = false;
    f.by_function = true;
    f.function_min = static_cast<uint32_t>(std::min<uint64_t>(fn_lo, kU32Max));
    f.function_max = static_cast<uint32_t>(std::min<uint64_t>(fn_hi, kU32Max));
  }
  if (idx_num & kByFunction) f.by_function = true;
  f.empty = !ok;
  return true;
}

}  // namespace tracestore::sql::internal
