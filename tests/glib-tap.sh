#!/bin/sh
# Runs a GLib test program in TAP mode for automake's tap-driver.
exec "$@" --tap
