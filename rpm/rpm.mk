## ---- Qubes RPM (included by the top-level Makefile) --------------------
# make rpm       source tarball (tracked files + every crate, vendored) + binary RPM built from it
#                offline, with an empty CARGO_HOME: what a Qubes builder does, into $(BUILD)/rpm/
# make rpm-test  check the RPM (rpm/test-rpm.sh): file list, modes, metadata, payload identical
#                to the tested $(BUILD)/skl.bin, install into a temporary root, rpmlint

RPM_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
RPM_RELEASE := $(shell cat rpm/rel)
RPM_TOP     := $(abspath $(BUILD))/rpm
RPM_TARBALL := $(RPM_TOP)/SOURCES/secure-kernel-loader-$(RPM_VERSION).tar.gz

RPM_STAGE   := $(RPM_TOP)/stage/secure-kernel-loader-$(RPM_VERSION)

.PHONY: rpm rpm-test
rpm: $(SETUP_STAMP)
	@rm -rf $(RPM_TOP) && mkdir -p $(RPM_TOP)/SOURCES $(RPM_TOP)/SPECS $(RPM_STAGE) $(RPM_TOP)/empty-cargo-home
	git ls-files -z | tar --null -T - -c | tar -x -C $(RPM_STAGE)
	# Every crate of Cargo.lock into the tarball, and the config that uses them
	# (paths in it are relative to the tarball's top directory).
	cd $(RPM_STAGE) && cargo vendor --locked --versioned-dirs vendor > ../cargo-config.toml \
		&& mv ../cargo-config.toml vendor/
	tar -C $(RPM_TOP)/stage --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		-czf $(RPM_TARBALL) secure-kernel-loader-$(RPM_VERSION)
	cp rpm/secure-kernel-loader.spec $(RPM_TOP)/SPECS/
	# --nodeps: the BuildRequires name Fedora/Qubes packages, which this Debian
	# machine's rpm database does not know (rpm/test-rpm.sh checks the list).
	# An empty CARGO_HOME: the build may use nothing but the tarball.
	CARGO_HOME=$(RPM_TOP)/empty-cargo-home rpmbuild -bb --nodeps --define "_topdir $(RPM_TOP)" \
		--define "skl_version $(RPM_VERSION)" --define "skl_release $(RPM_RELEASE)" \
		$(RPM_TOP)/SPECS/secure-kernel-loader.spec
	@ls -l $(RPM_TOP)/RPMS/*/*.rpm

rpm-test: rpm payload
	bash rpm/test-rpm.sh $(RPM_TOP)/RPMS/x86_64/secure-kernel-loader-$(RPM_VERSION)-$(RPM_RELEASE).x86_64.rpm $(BUILD)/skl.bin \
		rpm/secure-kernel-loader.spec
