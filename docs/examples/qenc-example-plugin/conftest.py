# The contract checks' fixtures (qenc_contracts, qenc_registry, qenc_digits). In the root
# conftest.py, so the module is a plugin before any test module imports it.
pytest_plugins = ["qenc_bench.testing"]
