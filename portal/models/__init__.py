from .account import AppToken, Invitation
from .attendance import AbsenceReport, AttendanceMark, RollCall, StaffAssignment
from .audit import AppendOnlyError, AuditLog
from .booking import Booking
from .dossier import FileItem, FileRequirement, RegulationAcceptance
from .family import AuthorisedPerson, Child, Family, School, SchoolYear
from .mail import OutgoingEmail
from .notification import SentNotification
from .payment import (
    DemoCheckoutSession,
    Dispute,
    Purchase,
    Receipt,
    ReceiptCounter,
    Refund,
    StripeEvent,
)
from .service import Closure, Price, Service, TariffBracket, TicketType
from .user import User
from .waitlist import WaitlistEntry
from .wallet import LedgerEntry, TicketDebt, Wallet

__all__ = ["Child", "Family", "School", "SchoolYear", "User"]
__all__ += ["AppendOnlyError", "AuditLog", "AuthorisedPerson", "FileItem", "FileRequirement",
            "Invitation", "RegulationAcceptance"]
__all__ += ["Booking", "Closure", "LedgerEntry", "Price", "Service", "TariffBracket", "TicketType", "Wallet"]
__all__ += ["DemoCheckoutSession", "Dispute", "Purchase", "Receipt", "ReceiptCounter", "Refund",
            "StripeEvent"]
__all__ += ["AbsenceReport", "AttendanceMark", "RollCall", "StaffAssignment", "TicketDebt"]
__all__ += ["SentNotification"]
__all__ += ["OutgoingEmail"]
__all__ += ["AppToken"]
__all__ += ["WaitlistEntry"]
