"""Writes to funds, by area. Every movement of money is one ledger row, written here in the
same transaction as the record it describes, with the fund row locked (see `ledger`)."""

from funds.services.donations import donation_record, donation_void, donations_record
from funds.services.funds import fund_create, fund_model_save, fund_update
from funds.services.ledger import record_void
from funds.services.payments import payments_record
from funds.services.transfers import transfer_record, transfer_void

__all__ = [
    "donation_record",
    "donation_void",
    "donations_record",
    "fund_create",
    "fund_model_save",
    "fund_update",
    "payments_record",
    "record_void",
    "transfer_record",
    "transfer_void",
]
