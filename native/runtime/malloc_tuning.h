#pragma once

namespace cellscan {

// Keeps freed large blocks in the process's malloc heap instead of returning them to the OS.
//
// Every call returns fresh output arrays, and V8 backs large ArrayBuffers with malloc. By default
// glibc hands blocks over 128 KiB straight back to the OS when they are freed, so the next output
// is carved from new pages, and touching new pages is slow on virtual machines (measured here:
// ~12 µs per 4 KiB page, +10 ms on an LSTM forward of 14 ms with a 3.3 MB output). With blocks up
// to 64 MiB served from the heap and up to 512 MiB of free heap kept, outputs reuse pages the
// garbage collector freed. This is process-wide; it is applied once, when the addon loads, and only
// where the C library is glibc.
void tuneMallocForLargeBuffers();

}  // namespace cellscan
