#include "buffer_pool.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

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

void* allocate(size_t bytes) {
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
