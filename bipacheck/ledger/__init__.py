"""The consent ledger: who gave which written release, for what, and which photos show whom.

SQLite (via sqlite-utils), every change recorded in a hash-chained event log. See docs/LEDGER.md.
"""

from .dates import parse_datetime
from .errors import ImportRejected, InvalidValue, LedgerError, NotALedger, SchemaTooNew
from .fields import normalize_photo_path
from .ledger import Ledger
from .models import (Consent, ConsentStatus, Event, ImportResult, PhotoLink, Subject,
                     VerifyResult)
from .schema import CURRENT_VERSION

__all__ = [
    "CURRENT_VERSION", "Consent", "ConsentStatus", "Event", "ImportRejected", "ImportResult",
    "InvalidValue", "Ledger", "LedgerError", "NotALedger", "PhotoLink", "SchemaTooNew",
    "Subject", "VerifyResult", "normalize_photo_path", "parse_datetime",
]
