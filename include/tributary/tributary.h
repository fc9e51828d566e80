// Umbrella header: everything a host program needs to use a Tributary store.
#ifndef TRIBUTARY_TRIBUTARY_H_
#define TRIBUTARY_TRIBUTARY_H_

#include "tributary/application.h"
#include "tributary/clock.h"
#include "tributary/consumer.h"
#include "tributary/dynamodb_lease_table.h"
#include "tributary/fault_injector.h"
#include "tributary/lease_table.h"
#include "tributary/kpl.h"
#include "tributary/options.h"
#include "tributary/processor.h"
#include "tributary/remote.h"
#include "tributary/status.h"
#include "tributary/store.h"
#include "tributary/env.h"
#include "tributary/types.h"

#endif  // TRIBUTARY_TRIBUTARY_H_
