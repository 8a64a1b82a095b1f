## xml: the example configuration (installed), the metadata schema, sample
## domains and the nwfilter examples for the seed configuration.
blixardconfdir = $(sysconfdir)/blixard
dist_blixardconf_DATA = xml/blixard.toml
dist_noinst_DATA += \
	xml/netiso-metadata.rng \
	xml/samples/bridged.xml \
	xml/samples/default-tenant.xml \
	xml/samples/direct.xml \
	xml/samples/multi.xml \
	xml/samples/routed-running.xml \
	xml/samples/routed.xml \
	xml/nwfilter/blixard-netiso-base.xml \
	xml/nwfilter/blixard-netiso-tenant-production.xml \
	xml/nwfilter/blixard-netiso-tenant-staging.xml \
	$(NULL)
