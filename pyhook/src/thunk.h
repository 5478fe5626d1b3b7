// The trampoline thunk: the machine code every stack-mode slot is a copy
// of, and the DWARF call-frame information (CFI) that lets unwinders step
// through it.
//
// x86-64 System V. A slot is called as slot(tstate, frame, throwflag, eval)
// and calls eval(tstate, frame, throwflag) with a standard frame-pointer
// frame, so a native stack shows the slot's address between two frames of
// the interpreter:
//
//   0: 55          push rbp
//   1: 48 89 e5    mov  rbp, rsp
//   4: ff d1       call rcx          ; eval(tstate, frame, throwflag)
//   6: 5d          pop  rbp
//   7: c3          ret
//   8: cc x 8      int3 padding to kSlotBytes
//
// Frame-pointer unwinders (perf -g) follow rbp through it; DWARF unwinders
// (libgcc's _Unwind_Backtrace, perf --call-graph dwarf through a jitdump)
// use the CFI below. (Windows x64 would need its own thunk, with shadow
// space, and UNWIND_INFO instead of CFI.)

#ifndef TRACESTORE_PYHOOK_THUNK_H_
#define TRACESTORE_PYHOOK_THUNK_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace tracestore::pyhook::thunk {

#if defined(__x86_64__)
inline constexpr bool kSupported = true;
#else
inline constexpr bool kSupported = false;
#endif

inline constexpr size_t kSlotBytes = 16;
inline constexpr uint8_t kCode[kSlotBytes] = {
    0x55, 0x48, 0x89, 0xe5, 0xff, 0xd1, 0x5d, 0xc3,
    0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc};

// How an FDE names the code it covers (DWARF exception-header encodings).
enum class PointerEncoding : uint8_t {
  kAbsolute8 = 0x00,  // DW_EH_PE_absptr: 8-byte addresses (in-process)
  kPcRel4 = 0x1b,     // DW_EH_PE_pcrel | sdata4 (an ELF file's layout)
};

// Appends a CIE for the thunk to `out`; returns its offset in `out`.
size_t AppendCie(std::string& out, PointerEncoding encoding);
// Appends an FDE covering [begin, begin + kSlotBytes) that refers to the
// CIE at `cie_offset` of the same buffer. With kPcRel4, `begin` is the
// code's position relative to out[0] (may be negative).
void AppendFde(std::string& out, size_t cie_offset, PointerEncoding encoding,
               int64_t begin);
// Appends the zero terminator that ends an .eh_frame.
void AppendTerminator(std::string& out);

// An .eh_frame followed by its .eh_frame_hdr for one slot copied into an
// ELF file where the .eh_frame starts kSlotBytes after the code, as perf
// inject --jit lays out a jitdump's JIT_CODE_UNWINDING_INFO.
struct JitUnwindInfo {
  std::string data;          // .eh_frame then .eh_frame_hdr
  size_t eh_frame_hdr_bytes;
};
JitUnwindInfo JitdumpUnwindInfo();

}  // namespace tracestore::pyhook::thunk

#endif  // TRACESTORE_PYHOOK_THUNK_H_
