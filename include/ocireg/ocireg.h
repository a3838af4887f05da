// SPDX-License-Identifier: Apache-2.0
// Umbrella header: the whole public API of libocireg.
#pragma once

#include "ocireg/config.h"
#include "ocireg/descriptor.h"
#include "ocireg/digest.h"
#include "ocireg/manifest.h"
#include "ocireg/reference.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/store.h"
