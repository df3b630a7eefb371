// One step of BuildPlan (runtime/plan.cc): Concats whose inputs extend one
// another write into one shared buffer (DenseNet's dense blocks).
#ifndef FOLDRT_RUNTIME_SHARED_CONCATS_H_
#define FOLDRT_RUNTIME_SHARED_CONCATS_H_

#include <unordered_set>

#include "runtime/program.h"

namespace foldrt::runtime {

// Concat chains, DenseNet's dense blocks: Concat(x0, f1), Concat(x0, f1, f2),
// ... each copy the growing feature maps again, quadratic in the block's
// depth.
//
// Pattern: planned Concat steps A before B along the channel axis
// (Kernel::ConcatenatesChannels) whose outputs are arena buffers in one
// layout and whose planned inputs (value ids, already in that layout)
// begin B's with all of A's.
// Preconditions on A's output: no view aliases it, no other Concat
// extends it, and every step reading it can: when channels [0, C_A) of
// B's buffer are one contiguous run (batch 1, plain or blocked) any step;
// otherwise only kernels that ReadsChannelSlice for that input, which are
// planned again with PlanInput::buffer_channels.
// Then A's output becomes channels [0, C_A) of B's buffer (a kAlias), A
// copies its inputs there and B only the inputs after A's (chains of any
// length share the last one's buffer). Returns the output value ids of
// every Concat in a chain: their buffers must not be written over in
// place.
//
// Runs after Kernel::Prepare of every step and before arena offsets are
// assigned.
std::unordered_set<int> ShareConcatBuffers(const Program& program, Plan* plan,
                                           int threads);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_SHARED_CONCATS_H_
