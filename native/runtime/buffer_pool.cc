#include "buffer_pool.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace cellscan {
namespace {

constexpr size_t kAlign = 64;

struct Pool {
  std::mutex m;
  std::multimap<size_t, void*> free;  // size -> block
  size_t retained = 0;
};

Pool& pool() {
  // Never destroyed: worker threads may still return blocks while the process exits.
  static Pool* p = new Pool();
  return *p;
}

constexpr size_t kHugePage = size_t(2) << 20;

void* allocate(size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // First touches of fresh 4 KiB pages are the dominant cost of a new block on virtual machines
  // (docs/PERFORMANCE.md); 2 MiB pages take one fault where 512 were.
  if (bytes >= kHugePage) {
    void* p = nullptr;
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    if (posix_memalign(&p, kHugePage, rounded) != 0) throw std::bad_alloc();
    madvise(p, rounded, MADV_HUGEPAGE);
    return p;
  }
#endif
  void* p = std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* BufferPool::take(size_t bytes, size_t* granted) {
  if (bytes >= kMinPooledBytes) {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.m);
    // The smallest free block that fits, if it is not wastefully larger than asked.
    auto it = p.free.lower_bound(bytes);
    if (it != p.free.end() && it->first <= 2 * bytes) {
      void* block = it->second;
      *granted = it->first;
      p.retained -= it->first;
      p.free.erase(it);
      return block;
    }
  }
  *granted = bytes;
  return allocate(bytes);
}

void BufferPool::give(void* block, size_t bytes) {
  if (block == nullptr) return;
  if (bytes >= kMinPooledBytes) {
    Pool& p = pool();
    std::lock_guard<std::mutex> lock(p.m);
    if (p.retained + bytes <= kMaxRetainedBytes) {
      p.free.emplace(bytes, block);
      p.retained += bytes;
      return;
    }
  }
  std::free(block);
}

}  // namespace cellscan
