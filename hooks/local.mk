## hooks: the program libvirtd runs on every guest lifecycle event, and its
## link in libvirt's hooks directory. It never links libvirt: calling back
## into libvirtd from a hook deadlocks.
hookdir = $(libexecdir)/blixard-netiso
hook_PROGRAMS = qemu-hook
qemu_hook_SOURCES = hooks/qemu-hook.c
qemu_hook_LDADD = libnetiso.la

install-exec-hook:
	$(MKDIR_P) $(DESTDIR)$(sysconfdir)/libvirt/hooks/qemu.d
	ln -sf $(libexecdir)/blixard-netiso/qemu-hook \
		$(DESTDIR)$(sysconfdir)/libvirt/hooks/qemu.d/50-blixard-netiso

uninstall-hook:
	rm -f $(DESTDIR)$(sysconfdir)/libvirt/hooks/qemu.d/50-blixard-netiso
