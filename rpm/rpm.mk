## ---- Qubes RPM (included by the top-level Makefile) --------------------
# make rpm       source tarball of the tracked files + binary RPM, offline, into $(BUILD)/rpm/
# make rpm-test  check the RPM (rpm/test-rpm.sh): file list, modes, metadata, payload identical
#                to the tested $(BUILD)/skl.bin, install into a temporary root, rpmlint

RPM_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
RPM_RELEASE := $(shell cat rpm/rel)
RPM_TOP     := $(abspath $(BUILD))/rpm
RPM_TARBALL := $(RPM_TOP)/SOURCES/secure-kernel-loader-$(RPM_VERSION).tar.gz

.PHONY: rpm rpm-test
rpm: $(SETUP_STAMP)
	@rm -rf $(RPM_TOP) && mkdir -p $(RPM_TOP)/SOURCES $(RPM_TOP)/SPECS
	cargo fetch --locked                    # the RPM build itself runs offline
	git ls-files -z | tar --null -T - --transform 's,^,secure-kernel-loader-$(RPM_VERSION)/,' \
		--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -czf $(RPM_TARBALL)
	cp rpm/secure-kernel-loader.spec $(RPM_TOP)/SPECS/
	rpmbuild -bb --nodeps --define "_topdir $(RPM_TOP)" \
		--define "skl_version $(RPM_VERSION)" --define "skl_release $(RPM_RELEASE)" \
		$(RPM_TOP)/SPECS/secure-kernel-loader.spec
	@ls -l $(RPM_TOP)/RPMS/*/*.rpm

rpm-test: rpm payload
	bash rpm/test-rpm.sh $(RPM_TOP)/RPMS/x86_64/secure-kernel-loader-$(RPM_VERSION)-$(RPM_RELEASE).x86_64.rpm $(BUILD)/skl.bin
