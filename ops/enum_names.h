// One table of names per enum, for printing a value and parsing a name
// (layouts, BatchNorm implementations): the name, the parse and the list an
// error offers cannot drift apart.
#ifndef FOLDRT_OPS_ENUM_NAMES_H_
#define FOLDRT_OPS_ENUM_NAMES_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.h"

namespace foldrt::ops {

template <class E>
struct EnumName {
  E value;
  const char* name;
};

// The name of `value` in `table`, "?" when it has none.
template <class E, size_t N>
const char* NameOf(const EnumName<E> (&table)[N], E value) {
  for (const EnumName<E>& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

// The value `table` names `name`. Otherwise InvalidArgumentError "unknown
// <what> '<name>' (expected a, b or c)", the names in table order.
template <class E, size_t N>
E ParseName(const EnumName<E> (&table)[N], std::string_view name,
            const std::string& what) {
  std::string expected;
  for (size_t i = 0; i < N; ++i) {
    if (name == table[i].name) return table[i].value;
    expected += i == 0 ? "" : i + 1 == N ? " or " : ", ";
    expected += table[i].name;
  }
  throw InvalidArgumentError("unknown " + what + " '" + std::string(name) +
                             "' (expected " + expected + ")");
}

}  // namespace foldrt::ops

#endif  // FOLDRT_OPS_ENUM_NAMES_H_
