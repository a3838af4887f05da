// SPDX-License-Identifier: Apache-2.0
// OCIREG_EXPORT marks the symbols libocireg exports; everything else is hidden.
#pragma once

#if defined(OCIREG_BUILDING_LIBRARY)
#define OCIREG_EXPORT [[gnu::visibility("default")]]
#else
#define OCIREG_EXPORT
#endif
