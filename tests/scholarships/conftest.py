from tests.funds.conftest import fund_model, funds  # noqa: F401  (shared fixtures)
