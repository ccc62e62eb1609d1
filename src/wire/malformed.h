// A message that does not fit the protocol (a call whose arguments do not fit its
// function, a structure that fits no layout). Whoever reads it closes that connection
// with one log line naming the reason; the server keeps serving everyone else.
#pragma once

#include <stdexcept>
#include <string>

namespace ferrohsm::wire {

class MalformedMessage : public std::runtime_error {
 public:
  explicit MalformedMessage(const std::string& why) : std::runtime_error(why) {}
};

}  // namespace ferrohsm::wire
