#pragma once

namespace cellscan {

// Keeps freed large blocks in the process's malloc heap instead of returning them to the OS.
//
// Every call returns fresh output arrays, and V8 backs large ArrayBuffers with malloc. By default
// glibc hands blocks over 128 KiB straight back to the OS when they are freed, so the next output
// is carved from new pages, and touching new pages is slow on virtual machines (microseconds per
// 4 KiB page: docs/PERFORMANCE.md). With blocks up
// to 64 MiB served from the heap and up to 512 MiB of free heap kept, outputs reuse pages the
// garbage collector freed. This is process-wide; it is applied once, when the addon loads, and only
// where the C library is glibc.
void tuneMallocForLargeBuffers();

}  // namespace cellscan
