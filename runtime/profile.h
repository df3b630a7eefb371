// ExecutePlan's side of the profiler (runtime/profile.cc); the switch and
// the reports are declared in runtime/program.h.
#ifndef FOLDRT_RUNTIME_PROFILE_H_
#define FOLDRT_RUNTIME_PROFILE_H_

#include <chrono>
#include <vector>

#include "runtime/program.h"

namespace foldrt::runtime {

using ProfileClock = std::chrono::steady_clock;

inline double SecondsSince(ProfileClock::time_point start) {
  return std::chrono::duration<double>(ProfileClock::now() - start).count();
}

// Adds one ExecutePlan call: `step_seconds` per planned step.
void RecordProfile(const Program& program, const Plan& plan,
                   const std::vector<double>& step_seconds,
                   double total_seconds);

}  // namespace foldrt::runtime

#endif  // FOLDRT_RUNTIME_PROFILE_H_
