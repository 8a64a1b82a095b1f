## tests/nft: unit tests of src/nft (the namespace tier in tests/netns runs
## the backend against the kernel).
check_PROGRAMS += tests/nft/test-nft-listing
tests_nft_test_nft_listing_SOURCES = tests/nft/test-nft-listing.c
tests_nft_test_nft_listing_LDADD = $(unit_ldadd)
TESTS += tests/nft/test-nft-listing
