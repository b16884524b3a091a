#!/bin/bash
# dracut module: pdata_tools and the tools LVM calls when it activates or
# repairs thin and cache volumes, installed with the libraries they need.

# Included when the binary is there; dracut's lvm module pulls it in when
# the host has thin or cache volumes (return 255: only on demand).
check() {
	require_binaries pdata_tools || return 1
	return 255
}

depends() {
	return 0
}

install() {
	inst_binary pdata_tools
	local t
	for t in thin_check thin_repair thin_dump thin_restore cache_check cache_repair cache_dump cache_restore; do
		inst_symlink "/usr/sbin/$t" /usr/sbin/pdata_tools
	done
}
