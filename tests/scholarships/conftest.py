from tests.funds.conftest import funds, fund_model  # noqa: F401  (shared fixtures)
