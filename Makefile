# privacy_tags: PostgreSQL extension (PGXS)

EXTENSION = privacy_tags
EXTVERSION = 1.2

MODULE_big = privacy_tags
OBJS = \
	src/privacy_tags.o \
	src/privacy_tag_parse.o \
	src/privacy_tag_io.o \
	src/privacy_tag_ops.o \
	src/privacy_tag_mask.o \
	src/tagging.o \
	src/renames.o \
	src/retention_trigger.o \
	src/value_match.o \
	src/discover.o \
	src/as_owner.o \
	src/purge.o \
	src/subject_graph.o \
	src/jsonb_write.o \
	src/citus.o

# The install script is assembled from the ordered parts in src/sql/.
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
# Earlier versions' install scripts (frozen) and the upgrade scripts between them.
DATA = $(wildcard src/versions/*.sql) $(wildcard src/upgrade/*--*--*.sql)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
ISOLATION = $(patsubst specs/%.spec,%,$(sort $(wildcard specs/*.spec)))

EXTRA_CLEAN = results output_iso regression.diffs regression.out fuzz/fuzz_parse fuzz/fuzz_value bench/results

PG_CPPFLAGS = -Isrc
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers

# The PostgreSQL installation to build and test against: PG_CONFIG, or
# PGVER (its major version) for Debian's /usr/lib/postgresql/$(PGVER); each
# gives the other (make test PGVER=17, or make test
# PG_CONFIG=/usr/lib/postgresql/17/bin/pg_config).  PGVER also chooses the
# packages scripts/deps.sh installs and the test cluster's version.
ifeq ($(origin PG_CONFIG),undefined)
ifneq ($(PGVER),)
PG_CONFIG = /usr/lib/postgresql/$(PGVER)/bin/pg_config
else
PG_CONFIG = pg_config
endif
endif
ifeq ($(PGVER),)
PGVER := $(shell $(PG_CONFIG) --version 2>/dev/null | sed -nE 's/^PostgreSQL ([0-9]+).*/\1/p')
endif
ifeq ($(PGVER),)
# not installed yet: the version in Debian's path, else scripts/deps.sh's default
PGVER := $(shell echo '$(PG_CONFIG)' | sed -nE 's|.*/postgresql/([0-9]+)/bin/pg_config$$|\1|p')
endif
ifneq ($(PGVER),)
export PGVER
endif
export PG_CONFIG

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

# Debian 11's postgresql-server-dev-13 ships no pg_isolation_regress: there
# the isolation tests (specs/) cannot run, and scripts/run_tests.sh says so.
ifneq ($(PGXS),)
ifeq ($(wildcard $(dir $(PGXS))../test/isolation/pg_isolation_regress),)
ISOLATION =
endif
endif

include $(PGXS)

# pg_cron (preloaded by scripts/in_cluster.sh) lives in this database.
CONTRIB_TESTDB = privacy_tags_regress

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

.PHONY: deps demo test test-versions fuzz bench check-asan

# Install what a fresh Debian 12 machine lacks (needs root); no-op otherwise.
deps:
	@./scripts/deps.sh

# Build, install and show the extension at work in a throwaway cluster.
demo: deps
	$(MAKE) all
	$(MAKE) install
	CRON_DB=postgres ./scripts/in_cluster.sh psql -X -d postgres -v ON_ERROR_STOP=1 -f demo/demo.sql
	dot -Tpng demo/data_map.dot -o demo/data_map.png && echo "data map: demo/data_map.png"

# Build, install and run every pg_regress and pgTAP test in a throwaway cluster.
test: deps
	$(MAKE) all
	$(MAKE) install
	./scripts/test.sh

# make test on every PostgreSQL version that a Debian suite ships, each in a
# chroot of that suite (built with debootstrap the first time, kept under
# /var/cache/privacy_tags/chroots): one line per version, then the sum.
# Needs root.  VERSIONS chooses: make test-versions VERSIONS="13 15 17".
VERSIONS ?= 13 15 17 18
test-versions:
	./scripts/test_versions.sh $(VERSIONS)

# Every suite against a build with AddressSanitizer and UBSan, in a server
# started with the sanitizer runtime preloaded (a private copy of the
# PostgreSQL installation: the system's is not touched). Not part of test.
check-asan: deps
	./scripts/check_asan.sh

# Fuzz every parser of untrusted text (tag and subject label text, category
# paths, column names, the value recognisers of discover()) with libFuzzer,
# ASan and UBSan: FUZZ_RUNS in total, split between the targets.
FUZZ_RUNS ?= 10000000
fuzz:
	./scripts/fuzz.sh $(FUZZ_RUNS)

# Benchmarks: results and ratios go to BENCHMARKS.md.
bench: deps
	$(MAKE) all
	$(MAKE) install
	./scripts/in_cluster.sh ./bench/run.sh

# Load test: pgbench writers against enforced tables while purges, access
# exports and erasures run, then the invariants and the races the load runs
# into (LOAD_SECONDS, LOAD_TRANSACTIONS, LOAD_CLIENTS, ...: see
# bench/loadtest.sh); results in BENCHMARKS.md. Uses the installed
# extension. Not part of test.
.PHONY: loadtest
loadtest: deps
	./scripts/in_cluster.sh ./bench/loadtest.sh

# Every object depends on the headers (PGXS tracks no header dependencies).
$(OBJS): $(wildcard src/*.h)
