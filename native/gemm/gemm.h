#pragma once
#include "../runtime/aligned_buffer.h"

namespace cellscan {

// A row-major matrix operand as the caller holds it: op(X) is X, or Xᵀ when trans is set.
// Not transposed, op(X)[r, c] = data[r * ld + c]; transposed, op(X)[r, c] = data[c * ld + r].
struct MatrixRef {
  const float* data;
  long ld;
  bool trans;
};

// The right-hand operand packed once into the microkernel's panel layout, for weights reused across
// many products (every time step, every call until the parameters change).
class PackedMatrix {
 public:
  PackedMatrix() = default;
  // op(B) is [k, n].
  PackedMatrix(int k, int n, MatrixRef b);
  int rows() const { return k_; }
  int cols() const { return n_; }
  // The panels for K rows [k0, k0 + kc) and columns from n0 (a multiple of kNr) on.
  const float* block(int k0, int kc, int n0) const;

 private:
  int k_ = 0;
  int n_ = 0;
  int nPadded_ = 0;
  AlignedBuffer panels_;
};

// c[m, n] = (accumulate ? c : 0) + op(A)[m, k] · op(B)[k, n], with c's rows ldc apart.
void sgemm(int m, int n, int k, MatrixRef a, MatrixRef b, float* c, long ldc, bool accumulate);
void sgemm(int m, MatrixRef a, const PackedMatrix& b, float* c, long ldc, bool accumulate);

}  // namespace cellscan
