// CFI for the thunk (DWARF 3.0 call-frame instructions, .eh_frame flavour).

#include "thunk.h"

#include <cstring>

namespace tracestore::pyhook::thunk {

namespace {

// DWARF register numbers (x86-64 psABI) and call-frame opcodes.
constexpr uint8_t kRegRbp = 6, kRegRsp = 7, kRegReturn = 16;
constexpr uint8_t kAdvanceLoc = 0x40, kOffset = 0x80, kRestore = 0xc0;
constexpr uint8_t kDefCfa = 0x0c, kDefCfaRegister = 0x0d,
                  kDefCfaOffset = 0x0e, kNop = 0x00;

template <class T>
void Put(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <class T>
void PutAt(std::string& out, size_t at, T v) {
  std::memcpy(out.data() + at, &v, sizeof(T));
}

// Pads the entry that starts at `start` (its length field) to a multiple of
// 8 bytes with DW_CFA_nop and writes its length.
void Finish(std::string& out, size_t start) {
  while ((out.size() - start) % 8 != 0) out.push_back(static_cast<char>(kNop));
  PutAt<uint32_t>(out, start, static_cast<uint32_t>(out.size() - start - 4));
}

}  // namespace

size_t AppendCie(std::string& out, PointerEncoding encoding) {
  const size_t start = out.size();
  Put<uint32_t>(out, 0);  // length, written by Finish
  Put<uint32_t>(out, 0);  // CIE id
  out.push_back(1);       // version
  out.append("zR", 3);    // augmentation (with its NUL)
  out.push_back(1);                    // code alignment factor (uleb128)
  out.push_back(0x78);                 // data alignment factor -8 (sleb128)
  out.push_back(kRegReturn);           // return address column
  out.push_back(1);                    // augmentation data: 1 byte
  out.push_back(static_cast<char>(encoding));  // FDE pointer encoding
  // On entry: CFA = rsp + 8, return address at CFA - 8.
  out.append({static_cast<char>(kDefCfa), kRegRsp, 8});
  out.append({static_cast<char>(kOffset | kRegReturn), 1});
  Finish(out, start);
  return start;
}

void AppendFde(std::string& out, size_t cie_offset, PointerEncoding encoding,
               int64_t begin) {
  const size_t start = out.size();
  Put<uint32_t>(out, 0);  // length, written by Finish
  Put<uint32_t>(out, static_cast<uint32_t>(out.size() - cie_offset));
  if (encoding == PointerEncoding::kAbsolute8) {
    Put<uint64_t>(out, static_cast<uint64_t>(begin));
    Put<uint64_t>(out, kSlotBytes);
  } else {
    const auto field = static_cast<int64_t>(out.size());
    Put<int32_t>(out, static_cast<int32_t>(begin - field));
    Put<uint32_t>(out, kSlotBytes);
  }
  out.push_back(0);  // augmentation data: none
  // After push rbp (offset 1): CFA = rsp + 16, rbp saved at CFA - 16.
  out.append({static_cast<char>(kAdvanceLoc | 1),
              static_cast<char>(kDefCfaOffset), 16,
              static_cast<char>(kOffset | kRegRbp), 2});
  // After mov rbp, rsp (offset 4): CFA = rbp + 16, through the call.
  out.append({static_cast<char>(kAdvanceLoc | 3),
              static_cast<char>(kDefCfaRegister), kRegRbp});
  // After pop rbp (offset 7): back to the entry rule.
  out.append({static_cast<char>(kAdvanceLoc | 3), static_cast<char>(kDefCfa),
              kRegRsp, 8, static_cast<char>(kRestore | kRegRbp)});
  Finish(out, start);
}

void AppendTerminator(std::string& out) { Put<uint32_t>(out, 0); }

JitUnwindInfo JitdumpUnwindInfo() {
  // perf inject places the code at T, the .eh_frame at E = T + kSlotBytes
  // (the next 8-byte boundary) and the .eh_frame_hdr at H right after it.
  // Every pointer is relative, so offsets from E are all we need.
  JitUnwindInfo info;
  std::string& out = info.data;
  const auto code = -static_cast<int64_t>(kSlotBytes);  // T - E
  const size_t cie = AppendCie(out, PointerEncoding::kPcRel4);
  const size_t fde = out.size();
  AppendFde(out, cie, PointerEncoding::kPcRel4, code);
  AppendTerminator(out);
  const auto hdr = static_cast<int64_t>(out.size());  // H - E
  out.push_back(1);     // version
  out.push_back(0x1b);  // eh_frame_ptr: pcrel sdata4
  out.push_back(0x03);  // fde_count: udata4
  out.push_back(0x3b);  // table: datarel (from H) sdata4
  Put<int32_t>(out, static_cast<int32_t>(0 - (hdr + 4)));  // E - (H + 4)
  Put<uint32_t>(out, 1);
  Put<int32_t>(out, static_cast<int32_t>(code - hdr));  // T - H
  Put<int32_t>(out, static_cast<int32_t>(static_cast<int64_t>(fde) - hdr));
  info.eh_frame_hdr_bytes = out.size() - static_cast<size_t>(hdr);
  return info;
}

}  // namespace tracestore::pyhook::thunk
