/* A small strict reader for the subset of TOML the Blixard configuration
 * file uses. Owned by the configuration reader. */
#pragma once

#include <glib.h>
