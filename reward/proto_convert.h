// Conversion between the plain reward types (reward/types.h) and proto/reward.proto messages.
// Only the service and the client include this.
#pragma once

#include "proto/reward.pb.h"
#include "reward/types.h"

namespace seer::reward {

Sample from_proto(const v1::Sample& p);
void to_proto(const Sample& s, v1::Sample* p);
void to_proto(const Score& s, v1::Result* p);
Score from_proto(const v1::Result& p);

}  // namespace seer::reward
