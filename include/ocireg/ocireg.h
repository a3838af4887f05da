// SPDX-License-Identifier: Apache-2.0
// Umbrella header: the whole public API of libocireg.
#pragma once

#include "ocireg/auth/access.h"
#include "ocireg/auth/authenticator.h"
#include "ocireg/auth/htpasswd.h"
#include "ocireg/auth/ldap.h"
#include "ocireg/auth/policy.h"
#include "ocireg/check.h"
#include "ocireg/config.h"
#include "ocireg/config_store.h"
#include "ocireg/descriptor.h"
#include "ocireg/digest.h"
#include "ocireg/http/handler.h"
#include "ocireg/manifest.h"
#include "ocireg/reference.h"
#include "ocireg/server.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/forwarding_driver.h"
#include "ocireg/storage/maintenance.h"
#include "ocireg/storage/monitoring.h"
#include "ocireg/storage/store.h"
