## packaging: the systemd unit, bash completion, AppArmor, Debian and RPM.
# The watch unit names the installed CLI, so make fills in the expanded $(sbindir).
watch_unit = packaging/systemd/blixard-netiso-watch.service
if HAVE_SYSTEMDSYSTEMUNITDIR
systemdsystemunit_DATA = $(watch_unit)
endif
$(watch_unit): $(srcdir)/$(watch_unit).in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' $(srcdir)/$(watch_unit).in > $@.tmp && \
	mv $@.tmp $@
CLEANFILES += $(watch_unit)

dist_bashcompletion_DATA = packaging/bash-completion/blixard-netiso

# debian/ and the spec are used from the tarball (packaging/debian is copied to
# debian/, rpmbuild -ta finds the spec); configure made the changelog and the spec.
# Only the Debian package installs the AppArmor snippet (debian/blixard-netiso.install).
EXTRA_DIST += \
	$(watch_unit).in \
	packaging/apparmor/blixard-netiso-hook \
	packaging/debian/blixard-netiso.install \
	packaging/debian/blixard-netiso.lintian-overrides \
	packaging/debian/blixard-netiso.postinst \
	packaging/debian/blixard-netiso.postrm \
	packaging/debian/changelog \
	packaging/debian/control \
	packaging/debian/copyright \
	packaging/debian/rules \
	packaging/debian/source/format \
	packaging/rpm/blixard-netiso.spec \
	$(NULL)
